"""The majors of the titulaire API served side by side, translated at the HTTP edge.

The service and the store hold one model, the v1 one (`MetadonneesDepot` of v1, which is also what the
ASP's callback API receives in a return). A v2 request is translated into it on the way in, and every
answer into the shape of the version called on the way out, so one store serves both majors.
"""

from __future__ import annotations

from typing import Any

from harness.foundations.contracts import TITULAIRE_V1, TITULAIRE_V2
from harness.foundations.majors import Major

CONTRACTS = {"/v1": TITULAIRE_V1, "/v2": TITULAIRE_V2}
"""Path prefix of each major → its contract."""
RELEASES = {"/v1": "1.0.1", "/v2": "2.0.0"}
"""Path prefix of each major → the contract version it serves (`info.version`)."""
LATEST = "/v2"


def prefix_of(path: str) -> str:
    """The major's prefix of a request path (`/v1` or `/v2`); empty for a path outside every major."""
    head = "/" + path.lstrip("/").split("/", 1)[0]
    return head if head in CONTRACTS else ""


def contract_for(path: str) -> str:
    """The contract that describes the route at `path` (v1's for a path outside every major)."""
    return CONTRACTS.get(prefix_of(path), TITULAIRE_V1)


def metadata_in(path: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """Deposit metadata as received on `path` → the internal (v1) model."""
    prefix = prefix_of(path)
    return Major(prefix[1:]).internal_metadata(metadata) if prefix else metadata


def metadata_out(path: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """Internal (v1) metadata → the model of the version called on `path` (v2: `dossier` object)."""
    prefix = prefix_of(path)
    return Major(prefix[1:]).wire_metadata(metadata) if prefix else metadata


def state_out(path: str, state: dict[str, Any]) -> dict[str, Any]:
    """A deposit's state (EtatDepot) in the model of the version called on `path`."""
    return state | {"metadonnees": metadata_out(path, state["metadonnees"])}


def successor_path(path: str) -> str:
    """The same route in the latest major (`/v1/depots/x` → `/v2/depots/x`)."""
    prefix = prefix_of(path)
    return LATEST + path[len(prefix) :] if path.startswith(prefix + "/") else LATEST + "/sante"
