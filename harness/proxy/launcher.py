"""Start and stop the proxy process from the harness (whose virtualenv has no mitmproxy).

The process runs `python -m harness.proxy` from `.venv-proxy` (or `RECETTE_PROXY_PYTHON`); it is ready when
it has written each leg's URL to `proxy-ready.json`, and it writes the HAR, the page, the reconciliation
and the ledger line when it stops (SIGTERM).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

from harness.foundations.resources import PACKAGE
from harness.foundations.running import Running
from harness.foundations.servers import START_TIMEOUT_SECONDS, free_port
from harness.proxy.settings import READY_FILE, ProxySettings

PYTHON_VARIABLE = "RECETTE_PROXY_PYTHON"
STOP_TIMEOUT_SECONDS = 30.0
LOG_FILE = "proxy.log"
PORT_ATTEMPTS = 3
"""A port chosen free here may be taken by another process before mitmproxy binds it: it is chosen anew,
at most this many times in all (a port set in the configuration is never changed)."""
PORT_TAKEN = b"address already in use"


class ProxyError(RuntimeError):
    """The proxy could not start (its interpreter is missing, or it exited): one French line."""


def proxy_python() -> Path:
    """The interpreter that has mitmproxy: `RECETTE_PROXY_PYTHON`, else the project's `.venv-proxy`."""
    if configured := os.environ.get(PYTHON_VARIABLE):
        return Path(configured)
    return PACKAGE.parent / ".venv-proxy" / "bin" / "python"


class ProxyProcess(Running):
    """The proxy as a context manager: `urls` maps each leg to the URL it listens on."""

    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self.urls: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._log_start = 0
        """Where the current attempt's lines start in the log."""

    def start(self) -> Self:
        python = proxy_python()
        if not python.exists():
            raise ProxyError(
                f"interpréteur du proxy absent : {python} (make .venv-proxy/.installed, ou {PYTHON_VARIABLE}=… "
                "vers un Python où mitmproxy 11.0 et ce harnais sont installés)"
            )
        asked = self.settings
        attempts = PORT_ATTEMPTS if any(leg.port == 0 for leg in asked.legs) else 1
        for _ in range(attempts):
            self.settings = _with_ports(asked)
            if self._launched(python):
                return self
            if not self._port_taken():
                break
        raise ProxyError(f"le proxy n'a pas démarré (voir {self.settings.run_dir / LOG_FILE})")

    def _launched(self, python: Path) -> bool:
        """Start the process with the current settings; True once it is ready, False if it exited or timed out."""
        ready = self.settings.run_dir / READY_FILE
        ready.unlink(missing_ok=True)
        settings_file = self.settings.write()
        log_path = self.settings.run_dir / LOG_FILE
        self._log_start = log_path.stat().st_size if log_path.exists() else 0
        with log_path.open("ab") as log:
            command = [str(python), "-m", "harness.proxy", str(settings_file)]
            self._process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.is_file():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return False
            time.sleep(0.05)
        self.urls = json.loads(ready.read_text(encoding="utf-8"))
        return True

    def _port_taken(self) -> bool:
        """Whether the last attempt's log says one of its ports was taken meanwhile."""
        with (self.settings.run_dir / LOG_FILE).open("rb") as log:
            log.seek(self._log_start)
            return PORT_TAKEN in log.read()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        """SIGTERM, then wait for the journal's last files (killed past `STOP_TIMEOUT_SECONDS`)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            print(f"proxy arrêté de force (voir {self.settings.run_dir / LOG_FILE})", file=sys.stderr)


def _with_ports(settings: ProxySettings) -> ProxySettings:
    """Each leg on its port, a free one chosen here when 0 (mitmproxy refuses two modes on port 0)."""
    legs = tuple(dataclasses.replace(leg, port=leg.port or free_port()) for leg in settings.legs)
    return dataclasses.replace(settings, legs=legs)
