"""What a fair titulaire may legitimately vary, and how it writes its JSON and date-times accordingly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

EXTRA_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Titulaire-Instance": "recette-equitable-1",
    "Server-Timing": 'app;desc="traitement"',
}
"""Headers no contract asks for nor forbids."""


@dataclass(frozen=True)
class Variation:
    """Each field is a freedom the contracts leave the titulaire; the defaults are its plainest behaviour."""

    return_delay_seconds: float = 0.0
    """How long after its receipt a deposit's return leaves (within the service contract's delaiMaxRetour)."""
    reworded: bool = False
    """Problems worded otherwise (`title`, `detail`); the `code` stays the contract's."""
    defaults_written: bool = False
    """The state and the return write out the contract's defaults the ASP left out (`sae: false`)."""
    extra_headers: bool = False
    """Every answer carries `EXTRA_HEADERS`."""
    reversed_keys: bool = False
    """Every JSON object is written with its keys in reverse order."""
    utc_offset: timedelta | None = None
    """Date-times written at this UTC offset (e.g. +01:00) instead of `Z`: the same instants."""

    def dumps(self, value: Any) -> bytes:
        """`value` as UTF-8 JSON, keys in this variation's order."""
        return json.dumps(self._ordered(value), ensure_ascii=False, separators=(",", ":")).encode()

    def instant(self, moment: datetime) -> str:
        """An RFC 3339 date-time of fixed length (milliseconds), in UTC (`Z`) or at this variation's offset."""
        moment = moment.astimezone(UTC)
        if self.utc_offset is None:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        return moment.astimezone(timezone(self.utc_offset)).isoformat(timespec="milliseconds")

    def headers(self) -> dict[str, str]:
        return dict(EXTRA_HEADERS) if self.extra_headers else {}

    def _ordered(self, value: Any) -> Any:
        if isinstance(value, dict):
            items = [(k, self._ordered(v)) for k, v in value.items()]
            return dict(reversed(items) if self.reversed_keys else items)
        if isinstance(value, list):
            return [self._ordered(v) for v in value]
        return value
