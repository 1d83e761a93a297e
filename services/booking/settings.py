"""The booking service's own settings, from environment variables (prefix SALON_): how the
mails for future appointments (R15) leave the building.

- ``SALON_SMTP_HOST``: the SMTP server; empty (the default, and the embedded launcher's
  choice) writes each mail as an ``.eml`` file into ``SALON_MAILBOX_DIR`` instead.
- ``SALON_SMTP_PORT`` (25), ``SALON_SMTP_USERNAME`` / ``SALON_SMTP_PASSWORD`` (both empty:
  no login), ``SALON_SMTP_STARTTLS`` (false), ``SALON_SMTP_TIMEOUT_SECONDS`` (10).
- ``SALON_MAIL_FROM``: the sender, ``"Salon <no-reply@salon.local>"`` by default; its display
  name signs the mails and its domain names their Message-IDs.
- ``SALON_MAILBOX_DIR``: the mailbox folder (``./mailbox``; the launcher sets
  ``<data dir>/mailbox``).
- ``SALON_MAIL_POLL_SECONDS``: how often the sender looks for due mails (1.0).

Whether an organization's mails go out at all, and how many hours before an appointment the
reminder does, is not configuration but data: the owner's SetMailSettings (R15).
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALON_", extra="ignore")

    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_starttls: bool = False
    # The longest one SMTP conversation may take; well under the sender's claim on a mail
    # (see mail/sender.py), so that no other replica can take a mail still being sent.
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=25)
    mail_from: str = "Salon <no-reply@salon.local>"
    mailbox_dir: Path = Path("./mailbox")
    mail_poll_seconds: float = Field(default=1.0, gt=0, le=3600)

    @field_validator("mail_from")
    @classmethod
    def _an_address(cls, value: str) -> str:
        _name, address = parseaddr(value)
        if "@" not in address:
            raise ValueError(f"not a mail address: {value!r}")
        return value

    @property
    def use_smtp(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def sender_name(self) -> str:
        """The display name of MAIL_FROM ("Salon"), or its address when it has none."""
        name, address = parseaddr(self.mail_from)
        return name or address

    @property
    def sender_domain(self) -> str:
        return Address(addr_spec=parseaddr(self.mail_from)[1]).domain
