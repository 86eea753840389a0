"""Callback conformance: every deposit a run makes is tracked, and its single return judged.

`deposits` keeps what the ASP sent (fuzzer and scenarios alike); `returns` is the one return judge (one
deposit's returns against both contracts, the deposit itself and the service contract's delay); `callbacks`
waits for the returns of every tracked deposit and judges each one.
"""

from harness.conformance.callbacks import ReturnJudge, ReturnVerdict
from harness.conformance.deposits import DepositLedger, SentDeposit, TrackedDeposit, read_deposit
from harness.conformance.returns import RULES, Defect, acknowledged_returns, judge, max_return_delay

__all__ = [
    "RULES",
    "Defect",
    "DepositLedger",
    "ReturnJudge",
    "ReturnVerdict",
    "SentDeposit",
    "TrackedDeposit",
    "acknowledged_returns",
    "judge",
    "max_return_delay",
    "read_deposit",
]
