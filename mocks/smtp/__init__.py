"""The SMTP catcher: receives the incident mails the titulaire sends to the ASP."""

from mocks.smtp.catcher import CaughtMail, SmtpCatcher

__all__ = ["CaughtMail", "SmtpCatcher"]
