"""The ASP's fixed limits, stated once."""

TRANSACTION_LIMIT_BYTES = 20_000_000
"""A complete API transaction (parameters + input + output) is limited to 20 MB; above it, the archive mode."""
