"""The Jinja2 environment of the reports' HTML pages (the PV de recette, its « mode papier » annex): the
package's templates, autoescaped, strict about missing values, with the French number and date filters."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from harness.campaign.reports import french


def report_pages() -> Environment:
    environment = Environment(
        loader=PackageLoader("harness.campaign.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(french.FILTERS)
    return environment
