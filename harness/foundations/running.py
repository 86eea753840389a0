"""What is started by `start()` and stopped by `stop()` (a server, an environment, a sampler): `with` does both."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import ExitStack
from types import TracebackType
from typing import Self


class Running(ABC):
    """Started by `start()` (which returns it), stopped by `stop()`; as a context manager, both."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> object:
        """Stop it (what it gives back, if anything, is for callers of `stop()` itself)."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class StackedRunning(Running):
    """Started by `_start()`, which enters each part it starts in `self._stack`: a start that fails half way
    stops what it had started, and `stop()` stops everything, last started first."""

    _stack: ExitStack

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    @abstractmethod
    def _start(self) -> None: ...

    def stop(self) -> None:
        self._stack.close()
