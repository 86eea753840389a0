"""The mock of the ASP callback API: receives, validates, acknowledges and records every return."""

from mocks.asp.app import create_app
from mocks.asp.journal import JOURNAL_FILE
from mocks.asp.recorder import ReturnRecorder

__all__ = ["JOURNAL_FILE", "ReturnRecorder", "create_app"]
