"""Numbers, sizes, durations and dates the French way, for every report a recette team reads.

One place for the typography: a narrow no-break space between thousands (`20 000 000`), a decimal comma
(`4,2 s`), decimal units of size (`20,0 Mo`), months in words (`28 novembre 2025`). The Jinja filters of the
PV are these functions (`FILTERS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

THIN_SPACE = "\u202f"
"""Between thousands, and before a unit in a figure that must not break."""
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
SIZE_UNITS = ((1e9, "Go"), (1e6, "Mo"), (1e3, "ko"))
_DECIMAL_IN_TEXT = re.compile(r"(?<![\w.,:/-])(\d+)(?:\.(\d+))?(?![\w.:/-]*\d)")
"""A number standing alone in a text (not part of a version, a date, an identifier)."""


def number(value: float, decimals: int = 0) -> str:
    """`1 234 567`, `1 234,5` (`decimals` digits after the comma)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", THIN_SPACE).replace(".", ",")


def seconds(value: float) -> str:
    """`0,096 s`, `42,3 s`, `1 234,5 s`: a measured time, three figures below one second."""
    return f"{number(value, 3 if abs(value) < 1 else 1)} s"


def duration(elapsed: timedelta | float) -> str:
    """How long something lasted: `4,2 s`, `2 min 05 s`, `1 h 02 min 05 s`."""
    total = max(elapsed.total_seconds() if isinstance(elapsed, timedelta) else elapsed, 0.0)
    if total < 60:
        return f"{number(total, 1)} s"
    minutes, secs = divmod(round(total), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


def size(octets: int) -> str:
    """`789 octets`, `12,3 ko`, `20,0 Mo`, `1,2 Go` (decimal units, as the 20 MB rule counts)."""
    for factor, unit in SIZE_UNITS:
        if octets >= factor:
            return f"{number(octets / factor, 1)} {unit}"
    return f"{number(octets)} octet{'s' if octets > 1 else ''}"


def figures_in(text: str) -> str:
    """A measured text (`2710 ms (40 requêtes)`, `0.00 % (0/40)`) with its standalone numbers written the French
    way; versions, dates and identifiers are left as they are."""

    def french(match: re.Match[str]) -> str:
        whole, fraction = match.group(1), match.group(2)
        grouped = number(int(whole))
        return f"{grouped},{fraction}" if fraction else grouped

    return _DECIMAL_IN_TEXT.sub(french, text)


def moment(when: datetime) -> str:
    """`28 novembre 2025 à 13:09:12 UTC`."""
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return f"{day(when.date())} à {when:%H:%M:%S} UTC"


def day(when: date) -> str:
    """`1 octobre 2027`."""
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 anomalie`, `3 anomalies`, `0 anomalie` (the French singular for zero and one)."""
    word = singular if abs(count) < 2 else plural_form or f"{singular}s"
    return f"{number(count)} {word}"


FILTERS: dict[str, Callable[..., Any]] = {
    "nombre": number,
    "secondes": seconds,
    "duree": duration,
    "taille": size,
    "chiffres": figures_in,
    "moment": moment,
    "jour": day,
    "pluriel": plural,
}
"""The Jinja filters of the reports' templates."""
