"""Every scenario of `features/` but the security checks (`securite`) and the plis (`papier`), run on the target."""

from pytest_bdd import scenarios

from harness.foundations.resources import project_folder

SUITE_FEATURES = {"securite.feature", "papier.feature", "dossiers.feature"}

scenarios(*(str(f) for f in sorted(project_folder("features").glob("*.feature")) if f.name not in SUITE_FEATURES))
