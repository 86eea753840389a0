"""`recette gate` and `recette lint` start fast: they import nothing of the campaign, pytest or openapi-core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
V1, V2 = "contracts/titulaire/v1/openapi.yaml", "contracts/titulaire/v2/openapi.yaml"
HEAVY = ("harness.campaign", "harness.reference", "pytest", "openapi_core", "schemathesis", "locust", "mitmproxy")
PROBE = """
import json, sys
from harness.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules_after(*arguments: str) -> list[str]:
    """The modules a `recette ARGUMENTS` process has imported when it ends."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("arguments", "also_absent"),
    [
        (["gate", V1, V2], ("openapi_spec_validator", "jsonschema")),
        (["lint", V1], ()),
        (["lint", "contracts/service-contract.yaml"], ("openapi_spec_validator",)),
    ],
)
def test_gate_and_lint_import_nothing_of_the_campaign(arguments: list[str], also_absent: tuple[str, ...]) -> None:
    loaded = modules_after(*arguments)
    assert "harness.cli.gate" in loaded or "harness.cli.lint" in loaded
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY + also_absent)]
    assert heavy == []


def test_every_command_is_still_listed_and_loads() -> None:
    from harness.cli import main

    assert sorted(main.commands) == ["billing", "certificats", "gate", "lint", "load", "plis", "proxy", "run", "serve"]
    assert all(main.commands[name].name == name for name in main.commands)
