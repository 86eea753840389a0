"""`dossiers.feature`, run against the target's deposit server."""

from pytest_bdd import scenarios

from harness.foundations.resources import project_folder

scenarios(str(project_folder("features") / "dossiers.feature"))
