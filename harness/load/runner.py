"""Locust as subprocesses: one headless process, or a master and N local workers, bounded in time.

Locust monkey-patches the standard library with gevent when imported, so it never runs inside the
harness's process. Its reports land in the run's `charge/` folder: CSV (`locust_stats.csv`…), HTML
(`locust.html`) and JSON (`locust.json`), with each process's log.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.foundations.servers import LOOPBACK, free_port
from harness.load.profiles import Profile
from harness.load.settings import LoadSettings

REPORT_STEM = "locust"
STARTUP_SLACK_SECONDS = 60.0
"""Time allowed beyond the run and its stop timeout for start-up and writing reports."""
WORKERS_MAX_WAIT_SECONDS = 30
GRACE_SECONDS = 15.0


class LoadRunError(RuntimeError):
    """Locust did not produce its report."""


@dataclass(frozen=True)
class LocustRun:
    """What to run: a profile, its settings, users, duration and workers; where the reports go."""

    profile: Profile
    settings: LoadSettings
    users: int
    duration_seconds: float
    out_dir: Path
    workers: int = 0
    stop_timeout_seconds: float = 15.0

    @property
    def json_report(self) -> Path:
        return self.out_dir / f"{REPORT_STEM}.json"

    @property
    def html_report(self) -> Path:
        return self.out_dir / f"{REPORT_STEM}.html"

    @property
    def csv_prefix(self) -> Path:
        return self.out_dir / REPORT_STEM

    @property
    def deadline_seconds(self) -> float:
        return self.duration_seconds + self.stop_timeout_seconds + STARTUP_SLACK_SECONDS


@dataclass(frozen=True)
class LocustOutcome:
    """How the locust processes ended and where their reports and logs are."""

    exit_code: int
    timed_out: bool
    logs: list[Path]


def run_locust(run: LocustRun) -> LocustOutcome:
    """Run the profile's locustfile to completion (or its deadline); raise `LoadRunError` without a report."""
    run.out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **run.settings.to_env(), "PYTHONUNBUFFERED": "1"}
    port = free_port() if run.workers else None
    logs = [run.out_dir / "locust-maitre.log", *(_worker_log(run, i) for i in range(1, run.workers + 1))]
    commands = [_main_command(run, port)] + [_worker_command(run, port) for _ in range(run.workers)]
    with contextlib.ExitStack() as stack:
        processes = [
            _spawn(command, env, stack.enter_context(log.open("wb")))
            for command, log in zip(commands, logs, strict=True)
        ]
        stack.callback(_kill_all, processes)  # only if something went wrong: all have ended otherwise
        master, workers = processes[0], processes[1:]
        timed_out = _wait(master, run.deadline_seconds)
        for worker in workers:
            _wait(worker, GRACE_SECONDS)
    if not run.json_report.is_file():
        raise LoadRunError(f"locust n'a pas produit de rapport (code {master.returncode}) : {_tail(logs[0])}")
    return LocustOutcome(master.returncode, timed_out, logs)


def _kill_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _main_command(run: LocustRun, port: int | None) -> list[str]:
    command = [
        *_locust(run),
        "--headless",
        "--users", str(run.users),
        "--spawn-rate", str(run.users),
        "--run-time", f"{math.ceil(run.duration_seconds)}s",
        "--stop-timeout", f"{run.stop_timeout_seconds:g}",
        "--csv", str(run.csv_prefix),
        "--html", str(run.html_report),
        "--json-file", str(run.csv_prefix),  # locust adds .json
        "--exit-code-on-error", "0",
        "--only-summary",
    ]  # fmt: skip
    if port is not None:
        command += [
            "--master",
            "--master-bind-host", LOOPBACK,
            "--master-bind-port", str(port),
            "--expect-workers", str(run.workers),
            "--expect-workers-max-wait", str(WORKERS_MAX_WAIT_SECONDS),
        ]  # fmt: skip
    return command


def _worker_command(run: LocustRun, port: int | None) -> list[str]:
    return [*_locust(run), "--worker", "--master-host", LOOPBACK, "--master-port", str(port)]


def _locust(run: LocustRun) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(run.profile.path())]


def _worker_log(run: LocustRun, index: int) -> Path:
    return run.out_dir / f"locust-travailleur-{index}.log"


def _spawn(command: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for `process`; past `timeout`, SIGTERM (locust then writes its reports), then SIGKILL. True if cut."""
    try:
        process.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return True


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "journal absent"
    return " | ".join(text[-lines:]) or "journal vide"
