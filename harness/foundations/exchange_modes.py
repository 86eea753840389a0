"""The callback contract's rules per exchange mode (`x-regles-mode-echange` of `Retour`): paper metadata.

OpenAPI 3.0 cannot make a field required for one value of `modeEchange` without breaking the returns
already valid, so the contract states these rules as an extension, read here (never restated): a PAPIER
return carries `idPli`, its days and `numeriseLe`, in order; the other modes carry none of them. The mock
ASP refuses a return that breaks them, the return judge reports it.
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from harness.foundations.contracts import ASP_CALLBACK_V1, load_yaml

PARIS = ZoneInfo("Europe/Paris")
"""The days of a pli (`dateReceptionPli`, `dateNumerisation`) are French days."""

Error = tuple[str, str]
"""Where (a field, « corps » for the whole return) and what, in French."""


@functools.cache
def mode_rules() -> dict[str, dict[str, Any]]:
    """`x-regles-mode-echange` of the contract's `Retour`, per mode."""
    retour = load_yaml(ASP_CALLBACK_V1)["components"]["schemas"]["Retour"]
    return dict(retour["x-regles-mode-echange"])


def mode_errors(retour: Any) -> list[Error]:
    """Every rule of its mode that `retour` breaks (empty when it keeps them, or is not an object)."""
    if not isinstance(retour, dict):
        return []
    rules = mode_rules().get(str(retour.get("modeEchange")), {})
    mode = retour.get("modeEchange")
    errors = [(f, f"obligatoire en mode {mode}") for f in rules.get("requis", []) if f not in retour]
    errors += [(f, f"interdit en mode {mode}") for f in rules.get("interdits", []) if f in retour]
    return errors + order_errors(retour, rules.get("ordre", [])) + _day_errors(retour, rules.get("jours", {}))


def paper_order() -> list[str]:
    """The date-times of a PAPIER return, in the order they must follow (reception … sending)."""
    return list(mode_rules()["PAPIER"]["ordre"])


def order_errors(retour: dict[str, Any], order: list[str]) -> list[Error]:
    """Each date-time of `order` that precedes the one before it (the fields absent or unreadable skipped)."""
    instants = [(name, instant(retour.get(name))) for name in order]
    known = [(name, moment) for name, moment in instants if moment is not None]
    return [
        (later, f"{later} ({retour[later]}) précède {earlier} ({retour[earlier]})")
        for (earlier, first), (later, second) in itertools.pairwise(known)
        if second < first
    ]


def _day_errors(retour: dict[str, Any], days: dict[str, str]) -> list[Error]:
    errors = []
    for day_field, instant_field in days.items():
        moment = instant(retour.get(instant_field))
        if moment is None or day_field not in retour:
            continue
        expected = paris_day(moment).isoformat()
        if retour[day_field] != expected:
            errors.append((day_field, f"{retour[day_field]!r} au lieu de {expected} (date à Paris de {instant_field})"))
    return errors


def instant(value: Any) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime (UTC when it has no offset); None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def paris_day(moment: datetime) -> date:
    """The day `moment` falls on in Paris."""
    return moment.astimezone(PARIS).date()
