"""Load and performance at the 20 MB limit: `recette load`, its locust runs and their QoS verdict.

The locustfiles live in `load/` and only ever run in locust subprocesses (`runner.py`); this package
never imports locust.
"""

from harness.load.charge import LoadRequest, LoadTarget, qos_checks, run_load

__all__ = ["LoadRequest", "LoadTarget", "qos_checks", "run_load"]
