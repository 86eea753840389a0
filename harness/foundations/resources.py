"""The project's data folders (`contracts/`, `features/`, `load/`): beside the package in a checkout,
inside it (`harness/_contracts`, …) in an installed wheel."""

from __future__ import annotations

import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def project_folder(name: str) -> Path:
    """The folder `name` of the project, wherever the harness is installed."""
    for candidate in (PACKAGE.parent / name, PACKAGE / f"_{name}"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ folder not found beside the harness package ({PACKAGE})")
