"""Foundations: contracts, clock, TLS, tokens, problems, billing tags — what every other layer stands on."""
