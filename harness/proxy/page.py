"""The journal as a page people read (`journal.html`): one self-contained file (no script or style fetched),
each deposit with its returns, then every exchange, filterable by run and status (also from the address:
`journal.html?run=ID&statut=422`)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

PAGE_FILE = "journal.html"


def write_page(lines: list[dict[str, Any]], run_dir: Path) -> Path:
    environment = Environment(
        loader=PackageLoader("harness.proxy", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )
    page = environment.get_template("journal.html.j2").render(
        lines=lines,
        deposits=pairs(lines),
        runs=sorted({line["etiquettes"]["run"] or "" for line in lines}),
        statuses=sorted({str(line["statut"]) for line in lines}),
        violations=sum(len(line["violations"]) for line in lines),
    )
    path = run_dir / PAGE_FILE
    path.write_text(page, encoding="utf-8")
    return path


def pairs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each deposit (its 202 on the titulaire leg) with the returns posted for it, and the latest verdict."""
    returns: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        if line["jambe"] == "asp-callback" and line["idDepot"]:
            returns[line["idDepot"]].append(line)
    deposits = [line for line in lines if line["jambe"] == "titulaire" and line["idDepot"]]
    return [
        {
            "depot": deposit,
            "retours": returns.get(deposit["idDepot"], []),
            "verdict": next(
                (r["rapprochement"] for r in reversed(returns.get(deposit["idDepot"], [])) if r["rapprochement"]),
                None,
            ),
        }
        for deposit in deposits
    ]
