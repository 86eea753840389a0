"""Resident memory (RSS) of a process, sampled with psutil while a load runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Self

import psutil

from harness.foundations.running import Running

MIB = 1024 * 1024


def rss_bytes(pid: int) -> int | None:
    """The current resident set size of `pid`, or None when it cannot be read (ended, not allowed)."""
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return None


@dataclass(frozen=True)
class RssFigures:
    """RSS before the load and at its peak."""

    baseline_bytes: int
    peak_bytes: int
    samples: int

    @property
    def growth_bytes(self) -> int:
        return max(0, self.peak_bytes - self.baseline_bytes)

    def to_json(self) -> dict[str, Any]:
        return {
            "rssInitialMio": round(self.baseline_bytes / MIB, 1),
            "rssPicMio": round(self.peak_bytes / MIB, 1),
            "croissanceMio": round(self.growth_bytes / MIB, 1),
            "echantillons": self.samples,
        }


class RssSampler(Running):
    """Samples the RSS of `pid` every `interval` seconds in a thread, between `start()` and `stop()`."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)
        self._baseline: int | None = None
        self._peak = 0
        self._samples = 0

    def start(self) -> Self:
        self._baseline = rss_bytes(self.pid)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            value = rss_bytes(self.pid)
            if value is not None:
                self._peak = max(self._peak, value)
                self._samples += 1

    def stop(self) -> RssFigures | None:
        """The figures, or None when the process could not be read."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._baseline is None:
            return None
        return RssFigures(self._baseline, max(self._peak, self._baseline), self._samples)
