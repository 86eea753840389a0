"""The version gate (`recette gate`): contract diff, version and calendar policy, CI reports.

- `model`: one shape for OpenAPI 3.0.x and Swagger 2.0 operations, on `harness.foundations.document`;
- `changes`: the catalogue of change ids and how direction turns an effect into a level;
- `schemas`, `diff`: the comparison itself (schemas deeply, then everything around them);
- `archives`: the archive exchange's JSON Schemas as synthetic OpenAPI documents, for the same diff;
- `policy`: semver bump, the ASP's calendar rules (notice, coexistence, migration guide) and which calendar
  applies to a contract;
- `report`: text and JSON, and for CI JUnit, SARIF, GitHub, GitLab, Markdown and HTML (the click command is
  `harness.cli.gate`).
"""
