"""Run the reference titulaire as its own process.

    python -m harness.reference SETTINGS.json --port 8443 --server-cert server.crt.pem --server-key server.key.pem
                               [--date AAAA-MM-JJ]

SETTINGS.json holds `ReferenceSettings` fields (`data_dir` and `callback_url` at least; `ca_file` is the CA
whose client certificates are accepted).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import uvicorn

from harness.foundations.allocator import keep_freed_memory
from harness.foundations.clock import OffsetClock, utc_now
from harness.foundations.servers import LOOPBACK, bounded_protocol
from harness.foundations.tls import CertificatePair
from harness.reference.app import create_app
from harness.reference.service import Titulaire
from harness.reference.settings import ReferenceSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.reference", description=__doc__.splitlines()[0])
    parser.add_argument("settings", type=Path)
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-cert", type=Path, required=True)
    parser.add_argument("--server-key", type=Path, required=True)
    parser.add_argument("--date", type=date.fromisoformat, help="the reference's date (its clock starts there)")
    args = parser.parse_args(argv)
    try:
        settings = ReferenceSettings.from_json(json.loads(args.settings.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as error:
        print(f"réglages illisibles ({args.settings}) : {error}", file=sys.stderr)
        return 2
    if settings.ca_file is None:
        print("réglages incomplets : ca_file (AC des certificats clients) est obligatoire", file=sys.stderr)
        return 2
    titulaire = Titulaire(settings, OffsetClock.on(args.date) if args.date else utc_now)
    context = titulaire.server_context(settings.ca_file, CertificatePair(args.server_cert, args.server_key))
    keep_freed_memory()  # a deposit's chunks reuse pages instead of faulting fresh ones (allocator.py)
    uvicorn.run(
        create_app(titulaire),
        host=args.host,
        port=args.port,
        log_level="warning",
        http=bounded_protocol(settings.header_limits()),
        loop="uvloop",
        server_header=False,
        ssl_context_factory=lambda _config, _default: context,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
