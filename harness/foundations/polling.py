"""Waiting for something another process does: poll a condition until it holds, within a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], what: str, timeout: float = 20.0, every: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy, and return it; TimeoutError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} : non atteint en {timeout:.0f} s")
        time.sleep(every)
    return result
