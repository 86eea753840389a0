"""A private, fair titulaire: a second implementation of the titulaire API that the harness must qualify.

Written from the contracts alone (`contracts/titulaire/v1`, `contracts/asp-callback/v1`, the service
contract), on another web stack than the reference (the standard library's `http.server` and `ssl`), and
sharing none of `harness.reference`'s code. Its `Variation` flags make it vary where the contracts leave
it free (slow returns within the deadline, other wording, defaults written out, extra headers, other key
orders, other UTC offsets): every variation must be qualified too.
"""

from tests.fair_titulaire.platform import FairSettings, FairTitulaire
from tests.fair_titulaire.variations import Variation

__all__ = ["FairSettings", "FairTitulaire", "Variation"]
