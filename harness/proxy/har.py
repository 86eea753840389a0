"""The journal as HAR 1.2 (`journal.har`), so that any HTTP tool opens it; our verdicts ride in `_recette`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HAR_FILE = "journal.har"
CREATOR = {"name": "recette proxy", "version": "1"}


def write_har(lines: list[dict[str, Any]], run_dir: Path) -> Path:
    path = run_dir / HAR_FILE
    log = {"log": {"version": "1.2", "creator": CREATOR, "entries": [entry(line, run_dir) for line in lines]}}
    path.write_text(json.dumps(log, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def entry(line: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """One exchange as a HAR entry (bodies as text when kept, their sizes always)."""
    request_headers, response_headers = _headers(line["entetesRequete"]), _headers(line["entetesReponse"])
    request: dict[str, Any] = {
        "method": line["methode"],
        "url": line["url"],
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": request_headers,
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(line["url"]).query)],
        "headersSize": -1,
        "bodySize": line["octetsRequete"],
    }
    if text := _body(line, "requete", run_dir):
        request["postData"] = {"mimeType": _type(request_headers), "text": text}
    duration = line["dureeMs"] or 0
    return {
        "startedDateTime": line["horodatage"],
        "time": duration,
        "request": request,
        "response": {
            "status": line["statut"] or 0,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": response_headers,
            "content": {
                "size": line["octetsReponse"],
                "mimeType": _type(response_headers),
                "text": _body(line, "reponse", run_dir),
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": line["octetsReponse"],
        },
        "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "_recette": {key: line[key] for key in ("jambe", "contrat", "violations", "marques", "rapprochement")},
    }


def _headers(pairs: list[list[str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _type(headers: list[dict[str, str]]) -> str:
    return next((h["value"] for h in headers if h["name"].lower() == "content-type"), "")


def _body(line: dict[str, Any], side: str, run_dir: Path) -> str:
    relative = line["fichiers"].get(side)
    return (run_dir / relative).read_bytes().decode("utf-8", "replace") if relative else ""
