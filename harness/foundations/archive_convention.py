"""The archive exchange's convention (`contracts/archives/v1/CONVENTION.md`): folders, names, schemas.

Shared by the ASP's deposit server, the reference titulaire that consumes archives and the campaign that
deposits them, so that each names files the one way the convention fixes.
"""

from __future__ import annotations

import functools
import io
import json
import re
import zipfile
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from harness.foundations.contracts import contract_path

INBOUND, OUTBOUND = "entrant", "sortant"
"""The two folders of a titulaire's space: ASP → titulaire, titulaire → ASP."""
MANIFEST = "manifeste.json"
PIECES_FOLDER = "pieces"
FORMATS = {".tar.gz": "tar.gz", ".zip": "zip", ".tar": "tar"}
"""File name ending → archive format (the longest ending first)."""
NOTICE_SUFFIX = ".notification.json"
RESEND_SUFFIX = ".retransmission.json"
RETURN_ARCHIVE_SUFFIX = ".retour.zip"
"""`sortant/<id>.retour.zip`: the return of archive `<id>` on the return-archive channel (canal archive de retour)."""
ACK_SUFFIX = ".acquittement.json"
"""`entrant/<id>.acquittement.json`: the ASP's acknowledgement of that return archive."""
RETURN_FILE = "retour.json"
"""The one entry of a return archive, at its root: the Retour."""
RETURN_ENTRY_TIME = (1980, 1, 1, 0, 0, 0)
"""The date of `retour.json` in every return archive: fixed, so a republication is byte for byte the same."""
RETURN_CHANNELS = ("api", "archive")
"""Where an archive's one return goes: the ASP's callback API, or a return archive on the deposit server."""
ARCHIVE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")

MANIFEST_SCHEMA = "archives/v1/manifeste.schema.json"
NOTICE_SCHEMA = "archives/v1/notification-reception.schema.json"
ACK_SCHEMA = "archives/v1/acquittement.schema.json"
RESEND_SCHEMA = "archives/v1/demande-retransmission.schema.json"
RETURN_SCHEMA = "archives/v1/retour.schema.json"
SCHEMAS = (MANIFEST_SCHEMA, NOTICE_SCHEMA, ACK_SCHEMA, RESEND_SCHEMA, RETURN_SCHEMA)


def temporary_name(name: str) -> str:
    """The name a file is written under before it is renamed to `name` (atomic publication)."""
    return f".{name}.part"


def is_published(name: str) -> bool:
    """False for a file still being written (its name starts with a dot)."""
    return not name.startswith(".")


def archive_format(name: str) -> tuple[str, str] | None:
    """The archive's identifier and format from its file name, or None when the name is not an archive's."""
    for ending, kind in FORMATS.items():
        if name.endswith(ending):
            return name[: -len(ending)], kind
    return None


def notice_name(archive_id: str) -> str:
    """The name of an archive's reception notice in `sortant/`."""
    return archive_id + NOTICE_SUFFIX


def return_archive_name(archive_id: str) -> str:
    """The name of an archive's return archive in `sortant/`."""
    return archive_id + RETURN_ARCHIVE_SUFFIX


def ack_name(archive_id: str) -> str:
    """The name of the ASP's acknowledgement of an archive's return archive, in `entrant/`."""
    return archive_id + ACK_SUFFIX


def return_archive(retour: bytes) -> bytes:
    """The return archive holding `retour` (the Retour's JSON bytes) as `retour.json`, deflated; the same bytes
    make the same archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo(RETURN_FILE, RETURN_ENTRY_TIME), retour, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@functools.cache
def validator(schema: str) -> Draft202012Validator:
    """The validator of one of the exchange's JSON Schemas (formats checked)."""
    document = json.loads(contract_path(schema).read_text(encoding="utf-8"))
    return Draft202012Validator(document, format_checker=FormatChecker())


def schema_errors(schema: str, document: Any) -> list[str]:
    """What `document` gets wrong against `schema`, one line each (empty when it conforms)."""
    errors = sorted(validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(racine)'} : {e.message}" for e in errors]
