"""The one stream of a campaign's results: events emitted once, read by independent handlers.

The runner opens the stream (`EventStream.running`), the campaign plugin emits what the suites produce,
and every report (terminal, summary, billing, PV) is a `Handler` registered in `harness.campaign.reports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from harness.campaign.results import CampaignReport, ScenarioResult


@dataclass(frozen=True)
class RunStarted:
    """The run begins (its target and suites still to start): tags, suites and start time are known."""

    report: CampaignReport


@dataclass(frozen=True)
class PreflightPassed:
    """A real platform passed the pre-flight (`harness.campaign.preflight`): one French line per check."""

    checks: tuple[str, ...]


@dataclass(frozen=True)
class Unreadable:
    """A suite's file pytest could not collect, and why."""

    nodeid: str
    text: str


@dataclass(frozen=True)
class SuitesCollected:
    """The suites are read: `planned` results will follow; `unreadable` files stop the run."""

    planned: int
    unreadable: tuple[Unreadable, ...] = ()


@dataclass(frozen=True)
class ResultRecorded:
    """One scenario (or test of a suite) has its verdict."""

    result: ScenarioResult


@dataclass(frozen=True)
class LoadMeasured:
    """The `charge` suite's QoS verdict (`qos.json`: `verdict`, `criteres`, `profil`…)."""

    verdict: dict[str, Any]


@dataclass(frozen=True)
class RunFinished:
    """The run is over and complete: `report` holds every result."""

    report: CampaignReport


@dataclass(frozen=True)
class RunAborted:
    """The run could not run to its end: an error, never a verdict (no report is written)."""

    reason: str


Event = RunStarted | PreflightPassed | SuitesCollected | ResultRecorded | LoadMeasured | RunFinished | RunAborted


class Handler(Protocol):
    """A reader of the stream: it receives every event, in order, and ignores those it has no use for."""

    def handle(self, event: Event) -> None: ...


class EventStream:
    """Hands every event to every handler, in the order they were registered."""

    def __init__(self, handlers: Iterable[Handler] = ()) -> None:
        self._handlers = tuple(handlers)

    def emit(self, event: Event) -> None:
        for handler in self._handlers:
            handler.handle(event)

    @contextmanager
    def running(self, report: CampaignReport) -> Iterator[None]:
        """`RunStarted`, then `RunFinished` when the block ends, or `RunAborted` when it raises."""
        self.emit(RunStarted(report))
        try:
            yield
        except BaseException as error:
            self.emit(RunAborted(str(error) or type(error).__name__))
            raise
        self.emit(RunFinished(report))
