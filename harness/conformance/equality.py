"""Equality as the contracts mean it: of JSON values, never of their representation.

Key order and the spelling of a number (1 == 1.0) do not count, a boolean is never a number, and two
RFC 3339 date-times are equal when they name the same instant (`…T10:00:00+01:00` is `…T09:00:00Z`).
Metadata are compared with the contract's defaults applied: `sae` left out is `sae: false`
(`metadata_equal`). Every judge of the harness compares with these, never with `==` on what it received.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harness.foundations.contracts import openapi
from harness.foundations.majors import CONTRACTS

DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
"""An RFC 3339 `date-time` (format of the contracts), with its mandatory offset."""
EVERY_MAJOR = tuple(CONTRACTS.values())
"""The titulaire contracts of every major."""


def json_equal(left: Any, right: Any) -> bool:
    """Equality of two JSON values: objects whatever their key order, numbers by value, date-times by instant."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str) and left != right:
        return same_instant(left, right)
    return type(left) is type(right) and bool(left == right)


def same_instant(left: str, right: str) -> bool:
    """Whether two strings are RFC 3339 date-times of the same instant."""
    if not (DATE_TIME.fullmatch(left) and DATE_TIME.fullmatch(right)):
        return False
    return _instant(left) == _instant(right)


@functools.cache
def metadata_defaults(contracts: tuple[str, ...] = EVERY_MAJOR) -> dict[str, Any]:
    """The defaults the titulaire contracts give `MetadonneesDepot` fields (`sae`: false)."""
    defaults: dict[str, Any] = {}
    for contract in contracts:
        properties = openapi(contract).spec / "components" / "schemas" / "MetadonneesDepot" / "properties"
        defaults |= {
            str(name): (field / "default").read_value() for name, field in properties.items() if "default" in field
        }
    return defaults


def with_defaults(metadata: Mapping[str, Any], contracts: tuple[str, ...] = EVERY_MAJOR) -> dict[str, Any]:
    """`metadata` with the contracts' defaults written out where it leaves a field out."""
    return metadata_defaults(contracts) | dict(metadata)


def metadata_equal(left: Mapping[str, Any], right: Mapping[str, Any], contracts: tuple[str, ...] = EVERY_MAJOR) -> bool:
    """Whether two `MetadonneesDepot` say the same, defaults applied."""
    return json_equal(with_defaults(left, contracts), with_defaults(right, contracts))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
