"""The version gate (`recette gate`): contract diff, version and calendar policy, CI reports.

- `model`: one shape for OpenAPI 3.0.x and Swagger 2.0 operations, on `harness.foundations.document`;
- `changes`: the catalogue of change ids and how direction turns an effect into a level;
- `schemas`, `diff`: the comparison itself (schemas deeply, then everything around them);
- `policy`: semver bump and the ASP's calendar rules (notice, coexistence, migration guide);
- `report`: text, JSON and JUnit outputs (the click command is `harness.cli.gate`).
"""
