"""The « mode papier » annex of the PV de recette: the declared plis mapped to their returns (`recette plis`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from harness.campaign.reports import french
from harness.campaign.reports.pages import report_pages
from harness.conformance.paper import PaperVerdict
from harness.foundations.clock import utc_now

TEMPLATE = "annexe-papier.html.j2"


def render_paper_annex(
    verdict: PaperVerdict, declaration: Path, deadline: datetime, unjudged: bool, generated: datetime | None = None
) -> str:
    """The annex as one HTML page: the mapping, the unexpected plis, the findings and the verdict."""
    return (
        report_pages()
        .get_template(TEMPLATE)
        .render(
            verdict=verdict,
            declaration=declaration.name,
            deadline=french.moment(deadline),
            unjudged=unjudged,
            generated=french.moment(generated or utc_now()),
        )
    )
