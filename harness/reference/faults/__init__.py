"""Deliberate defects of the reference titulaire, as plug-ins: each proves a check of the harness can fail.

`base.py` holds the `Fault` protocol (its hooks, no-ops by default) and the `FaultSet` the reference calls;
`answers.py`, `service.py` and `returns.py` hold the faults, by where they act; `registry.py` lists them
all (`FAULTS`). Arm them with `recette run --defaut-reference NAME` or `ReferenceSettings(faults=…)`.
"""

from harness.reference.faults.base import Answer, Fault, FaultSet
from harness.reference.faults.registry import FAULTS, arm, unknown_faults

__all__ = ["FAULTS", "Answer", "Fault", "FaultSet", "arm", "unknown_faults"]
