"""The physical floor of a deposit: a bare ASGI app that streams the body, hashes it, writes it and fsyncs.

    python load/floor_server.py --port P --cert server.crt.pem --key server.key.pem --ca ca.pem --dir DIR

It runs on the same server as the reference (uvicorn, httptools, uvloop) with the same TLS (mutual, TLS
≥ 1.2) and the same technique (chunks gathered in batches of `FEED_BATCH_BYTES`, hashed and written through a
buffer of `WRITE_BUFFER_BYTES` on a worker thread while the event loop receives): nothing else, no token, no
contract, no multipart. `bench_limit.py` divides the reference's figures by this one's. Any GET answers 200
at once (a minimal round trip).

`POST /?etapes=…` stops after a step, so that the floor's own cost is broken down in the same run: `flux`
(receive the bytes, drop them), `empreinte` (+ SHA-256), `ecriture` (+ write to a file), `fsync` (+ fsync
of the file and of its directory: the default, the whole floor); beside them, `multipart` is the whole floor
behind the reference's multipart parser (what framing costs, which no multipart deposit escapes). The files
stay: `bench_limit.py` removes each measure's files once it is over, the reference's as the floor's, so that
every measure writes into memory the machine has already used (on a virtual machine, pages never touched
cost several times more).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

import uvicorn

from harness.foundations.allocator import keep_freed_memory
from harness.foundations.batch_lane import BatchLane
from harness.foundations.multipart import MultipartReader, Part, boundary_of
from harness.foundations.tls import CertificatePair, server_context
from harness.reference.app import FEED_BATCH_BYTES
from harness.reference.intake import WRITE_BUFFER_BYTES

Scope = dict[str, Any]
STEPS = ("flux", "empreinte", "ecriture", "fsync")
"""The floor's steps, in order: each one adds its work to the previous ones."""
FRAMED = "multipart"
"""The whole floor with the body read as multipart/form-data first (the reference's parser, python-multipart):
what any multipart deposit costs at least; only the parts' bytes are hashed and written."""


def floor_app(directory: Path) -> Any:
    """The ASGI app: POST streams the body to a new file under `directory` (SHA-256, fsync) and answers 202."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 200, b"{}")
            return
        step = parse_qs(scope.get("query_string", b"").decode()).get("etapes", [STEPS[-1]])[0]
        boundary = boundary_of(dict(scope["headers"]).get(b"content-type", b"").decode("latin-1"))
        if step not in (*STEPS, FRAMED) or (step == FRAMED and boundary is None):
            await _answer(send, 400, json.dumps({"etapes": [*STEPS, FRAMED]}).encode())
            return
        path = directory / uuid.uuid4().hex
        sink = FramedSink(path, boundary) if step == FRAMED and boundary else Sink(path, STEPS.index(step) + 1)
        size = await _stream(receive, sink)
        await _answer(send, 202, json.dumps({"tailleOctets": size, "empreinte": sink.digest()}).encode())

    return app


class Sink:
    """Where the body's batches go, up to the step asked (1: dropped … 4: hashed, written and fsynced)."""

    def __init__(self, path: Path, steps: int) -> None:
        self._path = path
        self._hash = hashlib.sha256() if steps >= 2 else None
        self._file: IO[bytes] | None = path.open("wb", buffering=WRITE_BUFFER_BYTES) if steps >= 3 else None
        self._sync = steps >= 4

    @property
    def busy(self) -> bool:
        """Whether a batch means work for a thread (stream only: it does not)."""
        return self._hash is not None

    def take(self, batch: list[bytes]) -> None:
        for chunk in batch:
            self.consume(chunk)

    def consume(self, chunk: bytes | memoryview) -> None:
        if self._hash is not None:
            self._hash.update(chunk)
        if self._file is not None:
            self._file.write(chunk)

    def close(self) -> None:
        """Flush the file and, at the last step, fsync it with its directory."""
        if self._file is None:
            return
        with self._file:
            self._file.flush()
            if self._sync:
                os.fsync(self._file.fileno())
                descriptor = os.open(self._path.parent, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)

    def digest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None


class FramedSink(Sink):
    """The whole floor behind the multipart parser: each part's bytes are hashed, written and fsynced."""

    def __init__(self, path: Path, boundary: bytes) -> None:
        super().__init__(path, len(STEPS))
        self._reader = MultipartReader(boundary, self)

    def take(self, batch: list[bytes]) -> None:
        for chunk in batch:
            self._reader.write(chunk)

    def begin(self, part: Part) -> None:
        """Parts are not told apart: the floor keeps their bytes in one file."""

    def data(self, chunk: memoryview) -> None:
        self.consume(chunk)

    def end(self, part: Part) -> None:
        """Nothing to close per part."""


async def _stream(receive: Any, sink: Sink) -> int:
    """Receive the body on the loop; batches of `FEED_BATCH_BYTES` go to `sink` on a worker thread while
    the loop receives the next (`BatchLane`, as the reference)."""
    size, more, lane = 0, True, BatchLane(sink.take, FEED_BATCH_BYTES)
    while more:
        message = await receive()
        body = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(body)
        if sink.busy:
            await lane.add(body)
    if sink.busy:
        await lane.close()
        await asyncio.to_thread(sink.close)
    return size


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
    keep_freed_memory()  # as the reference: a floor with another allocator policy would not be its floor
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
