"""A curl command that reproduces a request of the campaign, for the PV's failures.

The token is never written out: the command reads it from `$TOKEN`. A large or binary body is saved
next to the report and sent with `--data-binary @file`.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import httpx

INLINE_BODY_LIMIT = 4096
SKIPPED_HEADERS = {"host", "content-length", "authorization", "accept-encoding", "connection", "user-agent", "accept"}


def as_curl(request: httpx.Request, tls_paths: dict[str, str], body_dir: Path | None) -> str:
    """The curl command line for `request`, over the same mutual TLS."""
    parts = ["curl", "-sS", "-X", request.method]
    parts += ["--cacert", tls_paths["ca"], "--cert", tls_paths["client_cert"], "--key", tls_paths["client_key"]]
    for name, value in request.headers.items():
        if name.lower() not in SKIPPED_HEADERS:
            parts += ["-H", f"{name}: {value}"]
    command = " ".join(shlex.quote(part) for part in parts)
    if "authorization" in request.headers:
        command += ' -H "Authorization: Bearer $TOKEN"'
    body = _body(request)
    if body:
        command += " " + _body_option(body, body_dir)
    return f"{command} {shlex.quote(str(request.url))}"


def _body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        return b""


def _body_option(body: bytes, body_dir: Path | None) -> str:
    if len(body) <= INLINE_BODY_LIMIT and _printable(body):
        return "--data-binary " + shlex.quote(body.decode("utf-8", "replace"))
    if body_dir is None:
        return f"--data-binary @corps.bin  # corps de {len(body)} octets, non conservé"
    body_dir.mkdir(parents=True, exist_ok=True)
    path = body_dir / "corps.bin"
    path.write_bytes(body)
    return f"--data-binary @{shlex.quote(str(path))}"


def _printable(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)
