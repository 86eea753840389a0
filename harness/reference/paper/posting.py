"""What `POST /_recette/plis` receives: a pli as the recette team posts it (reference only, outside the contract).

`{"origine": {"site": "LYON", "canal": "COURRIER"}, "applicationSource": "AIDES", "pages": ["<PDF en base64>", …]}`:
the site and channel it came by, the ASP application whose postal address received it, its scanned pages.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from harness.foundations.problems import Problem

SITE = re.compile(r"[A-Z0-9]{2,12}")
CHANNELS = ("COURRIER", "RECOMMANDE", "GUICHET")
MAX_PAGES = 50
ROUTE = "/_recette/plis"


@dataclass(frozen=True)
class Posting:
    """One pli posted to the mail room."""

    site: str
    canal: str
    application: str
    pages: list[bytes]

    def to_json(self) -> dict[str, Any]:
        """The body of `POST /_recette/plis`."""
        return {
            "origine": {"site": self.site, "canal": self.canal},
            "applicationSource": self.application,
            "pages": [base64.b64encode(page).decode() for page in self.pages],
        }


def read_posting(body: bytes) -> Posting:
    """The posted pli, or a 400 `requete-invalide` naming what is wrong."""
    try:
        document = json.loads(body)
        origin = document["origine"]
        posting = Posting(
            str(origin["site"]),
            str(origin["canal"]),
            str(document["applicationSource"]),
            [base64.b64decode(page, validate=True) for page in document["pages"]],
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise _invalid(f"pli illisible ({type(error).__name__} : {error})") from error
    if not SITE.fullmatch(posting.site):
        raise _invalid(f"site « {posting.site} » : 2 à 12 majuscules ou chiffres attendus")
    if posting.canal not in CHANNELS:
        raise _invalid(f"canal « {posting.canal} » : attendu {', '.join(CHANNELS)}")
    if not posting.application.strip():
        raise _invalid("applicationSource vide")
    if not 1 <= len(posting.pages) <= MAX_PAGES:
        raise _invalid(f"{len(posting.pages)} page(s) : de 1 à {MAX_PAGES} attendues")
    return posting


def _invalid(detail: str) -> Problem:
    return Problem("requete-invalide", f"Le pli posté n'est pas recevable : {detail}.")
