"""The mock of the ASP callback API: receives, validates, acknowledges and records every return."""

from mocks.asp.app import create_app
from mocks.asp.recorder import ReturnRecorder

__all__ = ["ReturnRecorder", "create_app"]
