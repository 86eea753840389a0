"""The one registry of the reference's deliberate defects: name → fault class."""

from __future__ import annotations

from collections.abc import Iterable

from harness.reference.faults import answers, archives, paper, returns, service, tokens, transport
from harness.reference.faults.base import Fault, FaultSet

FAULTS: dict[str, type[Fault]] = {
    fault.name: fault
    for fault in (
        returns.SecondReturn,
        answers.InvalidMetadataServerError,
        answers.HealthOutsideContract,
        answers.MissingLocation,
        returns.ReturnWithoutBusinessData,
        answers.WrongReceiptDigest,
        answers.WrongReceiptSize,
        answers.RepeatedDepositId,
        answers.StateWithoutBusinessData,
        answers.AckMisrecorded,
        answers.V2DossierMistranslated,
        answers.ResendAnotherReturn,
        answers.UnknownDepositAs400,
        answers.ExpiredAsUnknown,
        answers.ExpiredResendUnavailable,
        answers.ProblemWithoutCode,
        answers.LimitPlusOne,
        answers.TokensUnchecked,
        answers.EarlyDeprecation,
        answers.NoMigrationGuideLink,
        answers.NeverRetired,
        service.IdempotencyIgnored,
        service.BillingTagsDropped,
        service.DocumentBytesBilled,
        service.ShortRetention,
        service.NoRetry,
        service.IncidentWithoutDeposit,
        service.IncidentMailMisaddressed,
        returns.WrongPieceDigest,
        returns.RedeliveryRestamped,
        returns.DraftOutsideContract,
        returns.InventedContractReference,
        returns.IterationShifted,
        returns.ReturnAlwaysOutsideContract,
        returns.LateReturn,
        returns.WithheldReturn,
        returns.ReturnForAnotherDeposit,
        answers.TraceInDetail,
        answers.DeclaredSizeIgnored,
        service.RetryAfterIgnored,
        answers.ExpiredTokensAccepted,
        tokens.AudienceUnchecked,
        tokens.ScopeUnchecked,
        tokens.BindingUnchecked,
        transport.ExpiredCertificatesAccepted,
        service.HalfRetention,
        paper.PliIdOutsidePattern,
        paper.PliIdRepeated,
        paper.PliDigitizedAfterProcessing,
        paper.PieceUidsRepeated,
        paper.PaperFieldsOnEveryReturn,
        paper.UnreadablePliProcessed,
        returns.ReturnWithoutToken,
        archives.NoticeWithoutDigest,
        archives.GenericRefusal,
        archives.ExtractionOutsideFolder,
        archives.PieceUidReplaced,
        archives.ReturnArchiveWithoutReturnFile,
        archives.AcknowledgementNeverRemoved,
        archives.ArchiveReturnByApi,
    )
}
"""Every fault `recette run --defaut-reference` can arm, by name."""


def unknown_faults(names: Iterable[str]) -> list[str]:
    """The names that are not faults of the registry, sorted."""
    return sorted(set(names) - set(FAULTS))


def arm(names: Iterable[str]) -> FaultSet:
    """A fresh instance of each named fault, in the order given (a ValueError names any unknown one)."""
    names = tuple(names)
    if unknown := unknown_faults(names):
        raise ValueError(f"unknown faults {unknown}: choose among {sorted(FAULTS)}")
    return FaultSet([FAULTS[name]() for name in names])
