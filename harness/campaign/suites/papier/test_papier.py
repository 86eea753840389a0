"""Mode papier : les plis numérisés et leur retour unique.

The `papier` suite of `recette run`: `features/papier.feature`. On the embedded reference the recette team
posts plis to its mail room (`@reference`); the plis expected and not returned by the deadline are judged on
any target.
"""

from pytest_bdd import scenarios

from harness.foundations.resources import project_folder

scenarios(str(project_folder("features") / "papier.feature"))
