"""`recette proxy`: a mitmproxy reverse proxy on both legs of the exchange, driven by our addons.

    ASP applications ──mTLS──▶ proxy (leg `titulaire`) ──mTLS, the ASP's certificate──▶ titulaire API
    titulaire ──mTLS──▶ proxy (leg `asp-callback`) ──mTLS, the titulaire's certificate──▶ ASP callback API

mitmproxy 11.0 pins cryptography < 44.1, pyOpenSSL 24.3, h11 0.14 and Flask 3.1.0, older than the project's:
it runs in its own process from its own virtualenv (`.venv-proxy`, `make .venv-proxy/.installed`).
`launcher` (no mitmproxy import) starts that process from the harness; `master` runs in it and lists the
addons, one module each: `tls`, `billing`, `faults`, `limit`, `streaming`, `contract`, `reconciliation`,
`journal`; `answers` is how the proxy answers itself (problem+json). What they record is plain data
(`exchange`), written as JSON lines, HAR (`har`) and HTML (`page`); `settings` is what a run is given.
"""
