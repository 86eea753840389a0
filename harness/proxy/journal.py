"""Addon `journal`, last of the list: one JSON line per exchange in `journal.jsonl`, bodies kept up to the
configured size as files beside it (`corps/`, secrets redacted); on stop, the same exchanges as HAR
(`journal.har`) and as a page (`journal.html`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.proxy.exchange import KEY, BodyMeter, Exchange, of, redacted_body
from harness.proxy.har import write_har
from harness.proxy.page import write_page

if TYPE_CHECKING:
    from mitmproxy import http

JOURNAL_FILE = "journal.jsonl"
BODIES_DIR = "corps"


class Journal:
    def __init__(self, run_dir: Path, limit_bytes: int, keep_bytes: int) -> None:
        self.run_dir, self.limit_bytes, self.keep_bytes = run_dir, limit_bytes, keep_bytes
        self.path = run_dir / JOURNAL_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def response(self, flow: http.HTTPFlow) -> None:
        self._write(of(flow))

    def error(self, flow: http.HTTPFlow) -> None:
        if KEY in flow.metadata:
            self._write(of(flow))

    def _write(self, exchange: Exchange) -> None:
        self._keep(exchange, "requete", exchange.request)
        self._keep(exchange, "reponse", exchange.response)
        self._file.write(json.dumps(exchange.line(self.limit_bytes), ensure_ascii=False) + "\n")
        self._file.flush()

    def _keep(self, exchange: Exchange, side: str, meter: BodyMeter) -> None:
        body = meter.whole
        if not body or len(body) > self.keep_bytes:
            return
        relative = f"{BODIES_DIR}/{exchange.number:06d}-{side}.bin"
        (self.run_dir / BODIES_DIR).mkdir(exist_ok=True)
        (self.run_dir / relative).write_bytes(redacted_body(body))
        exchange.files[side] = relative

    def done(self) -> None:
        self._file.close()
        lines = read_journal(self.path)
        write_har(lines, self.run_dir)
        write_page(lines, self.run_dir)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's lines (a missing journal has none)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
