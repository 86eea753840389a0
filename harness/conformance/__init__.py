"""Callback conformance: every deposit a run makes is tracked, and its single return judged at the end.

`deposits` keeps what the ASP sent (fuzzer and scenarios alike); `callbacks` judges what the ASP's callback
API received for each deposit against both contracts, the deposit itself and the service contract's delay.
"""

from harness.conformance.callbacks import RULES, Defect, ReturnJudge, ReturnVerdict, judge, max_return_delay
from harness.conformance.deposits import DepositLedger, SentDeposit, TrackedDeposit, read_deposit

__all__ = [
    "RULES",
    "Defect",
    "DepositLedger",
    "ReturnJudge",
    "ReturnVerdict",
    "SentDeposit",
    "TrackedDeposit",
    "judge",
    "max_return_delay",
    "read_deposit",
]
