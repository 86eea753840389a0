"""curl commands that reproduce a request of the campaign (the fuzzer's findings, the failures' scripts).

The token is never written out: the command reads it from `$TOKEN`. A body is inlined only when it is one
line of printable text; any other body (multipart with its CR LF, binary, large) is a file sent with
`--data-binary @file`, so that copying the command from a page cannot change it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

INLINE_BODY_LIMIT = 4096
SKIPPED_HEADERS = {"host", "content-length", "authorization", "accept-encoding", "connection", "user-agent", "accept"}
TOKEN_HEADER = '-H "Authorization: Bearer $TOKEN"'


@dataclass(frozen=True)
class CurlTls:
    """The mutual TLS of a curl command, as shell words (a quoted path, or `"$VARIABLE"` in a script)."""

    ca: str
    cert: str
    key: str

    @classmethod
    def of_files(cls, tls_paths: Mapping[str, str]) -> CurlTls:
        """From the `ca`, `client_cert` and `client_key` files of a target."""
        return cls(*(shlex.quote(tls_paths[name]) for name in ("ca", "client_cert", "client_key")))

    def words(self) -> list[str]:
        return ["--cacert", self.ca, "--cert", self.cert, "--key", self.key]


def as_curl(request: httpx.Request, tls_paths: Mapping[str, str], body_dir: Path | None) -> str:
    """The curl command line for `request`, over the same mutual TLS; a body that cannot be inlined is written
    to `body_dir/corps.bin` (or said not kept when `body_dir` is None)."""
    body = request_body(request)
    option = None
    if body:
        option = inline_body(body) or _saved_body(body, body_dir)
    return curl_command(request, CurlTls.of_files(tls_paths), shlex.quote(str(request.url)), option)


def curl_command(request: httpx.Request, tls: CurlTls, url: str, body_option: str | None, *flags: str) -> str:
    """curl for `request` with its method and headers; `tls`, `url` and `body_option` are shell words already."""
    headers = [f"{name}: {value}" for name, value in request.headers.items() if name.lower() not in SKIPPED_HEADERS]
    words = ["curl", "-sS", *flags, "-X", request.method, *tls.words()]
    words += [word for header in headers for word in ("-H", shlex.quote(header))]
    if "authorization" in request.headers:
        words.append(TOKEN_HEADER)
    if body_option:
        words.append(body_option)
    return " ".join([*words, url])


def request_body(request: httpx.Request) -> bytes:
    """The body httpx sent (empty when it was streamed and not kept)."""
    try:
        return request.content
    except httpx.RequestNotRead:
        return b""


def inline_body(body: bytes) -> str | None:
    """`--data-binary '…'` for a short body of one printable line; None when it must be a file."""
    if len(body) > INLINE_BODY_LIMIT:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "--data-binary " + shlex.quote(text) if text.isprintable() else None


def _saved_body(body: bytes, body_dir: Path | None) -> str:
    if body_dir is None:
        return f"--data-binary @corps.bin  # corps de {len(body)} octets, non conservé"
    body_dir.mkdir(parents=True, exist_ok=True)
    path = body_dir / "corps.bin"
    path.write_bytes(body)
    return f"--data-binary @{shlex.quote(str(path))}"
