"""The physical floor of a deposit: a bare ASGI app that streams the body, hashes it, writes it and fsyncs.

    python load/floor_server.py --port P --cert server.crt.pem --key server.key.pem --ca ca.pem --dir DIR

It runs on the same server as the reference (uvicorn, httptools, uvloop) with the same TLS (mutual, TLS
≥ 1.2): nothing else, no token, no contract, no multipart. `bench_limit.py` divides the reference's
figures by this one's. Any GET answers 200 at once (a minimal round trip).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import uvicorn

from harness.foundations.tls import CertificatePair, server_context

Scope = dict[str, Any]


def floor_app(directory: Path) -> Any:
    """The ASGI app: POST streams the body to a new file under `directory` (SHA-256, fsync) and answers 202."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 200, b"{}")
            return
        digest, size = await _store(directory / uuid.uuid4().hex, receive)
        await _answer(send, 202, json.dumps({"tailleOctets": size, "empreinte": digest}).encode())

    return app


async def _store(path: Path, receive: Any) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("wb", buffering=0) as handle:
        more = True
        while more:
            message = await receive()
            body = message.get("body", b"")
            digest.update(body)
            handle.write(body)
            size += len(body)
            more = message.get("more_body", False)
        os.fsync(handle.fileno())
    return digest.hexdigest(), size


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        kind = message["type"].removeprefix("lifespan.")
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    for name in ("--cert", "--key", "--ca", "--dir"):
        parser.add_argument(name, type=Path, required=True)
    args = parser.parse_args()
    context = server_context(args.ca, CertificatePair(args.cert, args.key))
    uvicorn.run(
        floor_app(args.dir),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        http="httptools",
        loop="uvloop",
        ssl_context_factory=lambda _config, _default: context,
    )


if __name__ == "__main__":
    main()
