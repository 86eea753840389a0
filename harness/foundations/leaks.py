"""What an error answer must never show: a stack trace, a file path, a library banner, a revealing header.

The patterns are shared by the security suite's leak check (`harness.security.leaks`) and the contract
fuzzer's `erreur_sans_fuite` check (`harness.fuzzing.checks`): one definition of a leak for the campaign.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

BANNER = (
    r"\b(?:uvicorn|starlette|fastapi|werkzeug|django|flask|gunicorn|hypercorn|daphne|joserfc|authlib|pyjwt"
    r"|httpx|sqlalchemy|sqlite3|psycopg2?|openapi[-_]core|tomcat|jetty|nginx|apache|microsoft-iis|kestrel"
    r"|spring ?boot|php/\d|python/\d|cpython)\b"
)
BODY_LEAKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("trace d'exécution Python", re.compile(r"Traceback \(most recent call last\)")),
    ("trace d'exécution", re.compile(r"File \"[^\"\n]+\", line \d+")),
    ("trace d'exécution Java", re.compile(r"\bat [\w$.]+\([\w$]+\.java:\d+\)")),
    ("exception interne", re.compile(r"\b(?:java\.lang|System|org\.springframework)\.[\w.]*Exception\b")),
    ("chemin de fichier", re.compile(r"(?<![\w.:/-])/(?:usr|home|opt|var|srv|app|tmp|root|etc|lib)/[^\s\"'<>]+")),
    ("chemin de fichier", re.compile(r"\b[A-Za-z]:\\[^\s\"'<>]+|site-packages|dist-packages")),
    ("fichier source", re.compile(r"\b[\w-]+\.(?:py|java|rb|php|go|cs|js|ts):\d+\b")),
    ("bannière de bibliothèque", re.compile(BANNER, re.IGNORECASE)),
)
REVEALING_HEADERS = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-runtime", "x-generator")
VERSION = re.compile(r"/\s*\d")
EXCERPT_CHARS = 80


@dataclass(frozen=True)
class Finding:
    """One leak: its kind, where in the answer, and an excerpt of what showed it."""

    kind: str
    where: str
    excerpt: str


def answer_leaks(status: int, headers: Mapping[str, str], body: str, sent: str = "") -> list[Finding]:
    """The leaks of one answer (`headers` with lower-case names): in its body when it is an error, in its
    headers always. A JSON body is searched as the text it carries, not as its escaped serialization. What
    matches only in an echo of `sent` (the request, as text) is the caller's own input, not an internal: a
    fuzzed header `m:I:"6` echoed JSON-escaped and cut (`m:I:\\…`) looked like a Windows path."""
    found = []
    if status >= 400:
        text = carried_text(body)
        echoes = (sent, json.dumps(sent, ensure_ascii=False)[1:-1]) if sent else ()
        for kind, pattern in BODY_LEAKS:
            matches = (m for m in pattern.finditer(text) if not _echoed(m.group().rstrip("…"), echoes))
            if match := next(matches, None):
                found.append(Finding(kind, "le corps", excerpt(text, match)))
    server = headers.get("server")
    if server and (re.search(BANNER, server, re.IGNORECASE) or VERSION.search(server)):
        found.append(Finding("bannière du serveur", "l'en-tête Server", server[:EXCERPT_CHARS]))
    for name in REVEALING_HEADERS:
        if name in headers:
            found.append(Finding("en-tête révélateur", f"l'en-tête {name}", headers[name][:EXCERPT_CHARS]))
    return found


def _echoed(matched: str, echoes: tuple[str, ...]) -> bool:
    return bool(matched) and any(matched in echo for echo in echoes)


def carried_text(body: str) -> str:
    """The keys and strings of a JSON body, one per line (numbers and literals as written); any other body as is."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    return "\n".join(_strings(document))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    else:
        yield value if isinstance(value, str) else json.dumps(value)


def excerpt(text: str, match: re.Match[str]) -> str:
    start = max(0, match.start() - 20)
    return " ".join(text[start : start + EXCERPT_CHARS].split())
