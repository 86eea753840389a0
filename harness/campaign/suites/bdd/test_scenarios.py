"""Every scenario of `features/` but the security checks (the `securite` suite), run against the target."""

from pytest_bdd import scenarios

from harness.foundations.resources import project_folder

SUITE_FEATURES = {"securite.feature", "dossiers.feature"}

scenarios(*(str(f) for f in sorted(project_folder("features").glob("*.feature")) if f.name not in SUITE_FEATURES))
