"""What an error answer must never show: a stack trace, a file path, a library banner, a revealing header.

The patterns are shared by the security suite's leak check (`harness.security.leaks`) and the contract
fuzzer's `erreur_sans_fuite` check (`harness.fuzzing.checks`): one definition of a leak for the campaign.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

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


def answer_leaks(status: int, headers: Mapping[str, str], body: str) -> list[Finding]:
    """The leaks of one answer (`headers` with lower-case names): in its body when it is an error, in its
    headers always."""
    found = []
    if status >= 400:
        for kind, pattern in BODY_LEAKS:
            if match := pattern.search(body):
                found.append(Finding(kind, "le corps", excerpt(body, match)))
    server = headers.get("server")
    if server and (re.search(BANNER, server, re.IGNORECASE) or VERSION.search(server)):
        found.append(Finding("bannière du serveur", "l'en-tête Server", server[:EXCERPT_CHARS]))
    for name in REVEALING_HEADERS:
        if name in headers:
            found.append(Finding("en-tête révélateur", f"l'en-tête {name}", headers[name][:EXCERPT_CHARS]))
    return found


def excerpt(text: str, match: re.Match[str]) -> str:
    start = max(0, match.start() - 20)
    return " ".join(text[start : start + EXCERPT_CHARS].split())
