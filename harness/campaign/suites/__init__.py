"""The campaign's suites (product code): bdd, securite, contrat, charge, run by `recette run` with pytest."""
