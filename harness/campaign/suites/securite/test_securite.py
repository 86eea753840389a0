"""Sécurité des échanges : HTTPS, TLS mutuel, OAuth 2.0 et jetons liés au certificat.

The `securite` suite of `recette run`: `features/securite.feature`, one example per check of
`harness.security`, against the target. A check that cannot run against this target as configured (it would
need the issuer's test signing key, a read-only client…) is a reservation naming what lifts it, never a pass.
"""

from pytest_bdd import scenarios

from harness.foundations.resources import project_folder

scenarios(str(project_folder("features") / "securite.feature"))
