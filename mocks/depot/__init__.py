"""The ASP's deposit server (mode dossier): SFTP and FTPS, one space per titulaire, journal and faults."""

from mocks.depot.faults import CUT_TRANSFER, DISK_FULL, FAULT_KINDS, REFUSED_CONNECTION, DepotFaults
from mocks.depot.journal import Exchange, Journal
from mocks.depot.server import DepositServer, Listening, TitulaireAccess

__all__ = [
    "CUT_TRANSFER",
    "DISK_FULL",
    "FAULT_KINDS",
    "REFUSED_CONNECTION",
    "DepositServer",
    "DepotFaults",
    "Exchange",
    "Journal",
    "Listening",
    "TitulaireAccess",
]
