"""`python -m harness.cli`: the `recette` command."""

from harness.cli import main

main()
