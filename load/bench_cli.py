"""Benchmark of the start-up of `recette gate` and `recette lint`, against `python -c 'import yaml'`.

    .venv/bin/python load/bench_cli.py [--rounds 9] [--json bench.json] [--root CHECKOUT]

Each command runs as a fresh process, `--rounds` times, interleaved with the baseline (the cheapest Python
that reads YAML) so that a busy machine weighs on both alike, after one warm-up round. Byte code is cached
in a temporary folder (`PYTHONPYCACHEPREFIX`) even where `PYTHONDONTWRITEBYTECODE` is set, as an installed
package has it: otherwise every run would measure the compilation of the harness. `--root` measures another
checkout of the project (e.g. a worktree of `main`, for before/after figures) with this interpreter.
Measured:

1. `recette gate` on titulaire v1 → v2 (the diff, the semver check and the calendar);
2. `recette lint` on titulaire v1 (every rule);
3. `recette --help` (the command group alone).

For each: the median wall time, its ratio to the baseline's median and the difference in seconds (the
target of issue 19: within 0.25 s of the baseline). It prints the table and exits 0 whatever the figures:
timings are figures, never verdicts of a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
V1 = "contracts/titulaire/v1/openapi.yaml"
V2 = "contracts/titulaire/v2/openapi.yaml"
BASELINE = "import yaml"
COMMANDS: dict[str, list[str]] = {
    "recette gate v1 → v2": ["gate", V1, V2, "--today", "2026-10-01"],
    "recette lint v1": ["lint", V1],
    "recette --help": ["--help"],
}
TARGET_SECONDS = 0.25


def wall_time(arguments: list[str], root: Path, environment: dict[str, str]) -> float:
    """The wall time of one run of `python ARGUMENTS` from `root` (its exit code is ignored)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *arguments], cwd=root, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def measure(rounds: int, root: Path, cache: Path) -> dict[str, list[float]]:
    """Every command and the baseline, `rounds` times each (after a warm-up round), interleaved."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(cache)
    runs: dict[str, list[float]] = {"python -c 'import yaml'": [], **{name: [] for name in COMMANDS}}
    for _ in range(rounds + 1):
        runs["python -c 'import yaml'"].append(wall_time(["-c", BASELINE], root, environment))
        for name, arguments in COMMANDS.items():
            runs[name].append(wall_time(["-m", "harness.cli", *arguments], root, environment))
    return {name: times[1:] for name, times in runs.items()}


def figures(runs: dict[str, list[float]]) -> list[dict[str, float | str]]:
    """Median, ratio to the baseline and difference to it, one row per command (the baseline first)."""
    medians = {name: statistics.median(times) for name, times in runs.items()}
    baseline = next(iter(medians.values()))
    return [
        {"command": name, "median_s": median, "ratio": median / baseline, "over_baseline_s": median - baseline}
        for name, median in medians.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", type=Path, help="Write the figures to this JSON file too.")
    parser.add_argument("--root", type=Path, default=ROOT, help="The checkout to measure [default: this one].")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as cache:
        rows = figures(measure(options.rounds, options.root.resolve(), Path(cache)))
    print(f"{'commande':<26} {'médiane':>9} {'ratio':>7} {'écart':>9}  (cible : écart ≤ {TARGET_SECONDS} s)")
    for row in rows:
        print(f"{row['command']:<26} {row['median_s']:>8.3f}s {row['ratio']:>6.2f}x {row['over_baseline_s']:>+8.3f}s")
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
