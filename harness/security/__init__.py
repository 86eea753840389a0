"""The security suite (`securite`): transport, mutual TLS and Bearer token checks against any titulaire API.

    results = run_security_checks(env.security_target())     # or config.security_target()

Each result is a `CheckResult` (name, passed, evidence in French); a check that cannot run against the
target as configured is `applicable=False` with the reason and `lift` (what lifts the reservation), never a pass.
"""

from harness.security.leaks import ErrorAnswers
from harness.security.suite import CHECKS, SUITE, check_name, run_security_checks
from harness.security.target import (
    ClientCredentialsSource,
    Forger,
    ProbeRequest,
    SecurityTarget,
    TokenSource,
    health_probe,
    write_probe,
)
from harness.security.verdicts import SecurityResult, tally

__all__ = [
    "CHECKS",
    "SUITE",
    "ClientCredentialsSource",
    "ErrorAnswers",
    "Forger",
    "ProbeRequest",
    "SecurityResult",
    "SecurityTarget",
    "TokenSource",
    "check_name",
    "health_probe",
    "run_security_checks",
    "tally",
    "write_probe",
]
