"""Harnais de qualification des échanges ASP ↔ titulaire."""

__version__ = "0.1.0"
