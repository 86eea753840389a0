"""Sécurité des échanges : HTTPS, TLS mutuel, OAuth 2.0 et jetons liés au certificat.

The `securite` suite of `recette run`: `features/securite.feature`, one example per check of
`harness.security`, against the target. A check that cannot run against this target (it would need to
sign with a key we do not hold) is skipped with its reason, never passed.
"""

from pytest_bdd import scenarios

from harness.foundations.resources import project_folder

scenarios(str(project_folder("features") / "securite.feature"))
