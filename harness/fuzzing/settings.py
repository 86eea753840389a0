"""The fuzzing budget and seed: small by default (the suite runs in well under a minute on the reference).

Environment variables override the defaults: `RECETTE_FUZZ_SEED` (replays a run exactly),
`RECETTE_FUZZ_EXEMPLES` (generated cases per operation in the fuzzing phase), `RECETTE_FUZZ_PHASES`
(comma-separated, among examples, coverage, fuzzing, stateful), `RECETTE_FUZZ_SEQUENCES` and
`RECETTE_FUZZ_ETAPES` (stateful sequences through the contract's links, and steps per sequence).
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

PHASES = ("examples", "coverage", "fuzzing", "stateful")
VARIABLES = {
    "seed": "RECETTE_FUZZ_SEED",
    "max_examples": "RECETTE_FUZZ_EXEMPLES",
    "phases": "RECETTE_FUZZ_PHASES",
    "sequences": "RECETTE_FUZZ_SEQUENCES",
    "sequence_steps": "RECETTE_FUZZ_ETAPES",
}


class FuzzSettingsError(ValueError):
    """A fuzzing variable that cannot be used (its name and what is expected)."""


def new_seed() -> int:
    return random.SystemRandom().getrandbits(32)


def run_seed(environ: Mapping[str, str] = os.environ) -> int:
    """A run's seed: `RECETTE_FUZZ_SEED` when it is set (a run replayed), else a new one."""
    variable = VARIABLES["seed"]
    text = environ.get(variable, "").strip()
    return integer(variable, text) if text else new_seed()


def integer(variable: str, text: str) -> int:
    """The integer value of a fuzzing variable, or a `FuzzSettingsError` naming it."""
    try:
        return int(text)
    except ValueError:
        raise FuzzSettingsError(f"{variable}={text!r} : un entier est attendu") from None


@dataclass(frozen=True)
class FuzzSettings:
    """How much to fuzz, and from which seed (printed and recorded with every result, to replay a run)."""

    seed: int = field(default_factory=new_seed)
    max_examples: int = 12
    phases: tuple[str, ...] = PHASES
    sequences: int = 6
    sequence_steps: int = 4

    def __post_init__(self) -> None:
        unknown = [p for p in self.phases if p not in PHASES]
        if unknown:
            raise FuzzSettingsError(f"phase(s) inconnue(s) {unknown} : choisir parmi {', '.join(PHASES)}")
        if min(self.max_examples, self.sequences, self.sequence_steps) < 1:
            raise FuzzSettingsError("le budget de fuzzing (exemples, séquences, étapes) doit être d'au moins 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> FuzzSettings:
        values: dict[str, object] = {}
        for name, variable in VARIABLES.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            if name == "phases":
                values[name] = tuple(p.strip() for p in text.split(",") if p.strip())
                continue
            values[name] = integer(variable, text)
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> str:
        """One line for the evidence: enough to replay the run."""
        return (
            f"graine {self.seed} ({VARIABLES['seed']}={self.seed} pour rejouer) ; phases {','.join(self.phases)} ; "
            f"{self.max_examples} exemples par opération ; {self.sequences} séquences de {self.sequence_steps} étapes"
        )
