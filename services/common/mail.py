"""The mail path every service that sends mail shares: the settings (SALON_SMTP_HOST...),
the transport (SMTP through aiosmtplib, or a mailbox folder of ``.eml`` files when no SMTP
server is configured), the line between a permanent refusal and a temporary failure, and
the backoff between attempts.

Booking's appointment mails (R15) and the clients service's campaigns (R30) both send
through it; each keeps its own queue, claims and what its mails say.

- ``SALON_SMTP_HOST``: the SMTP server; empty (the default, and the embedded launcher's
  choice) writes each mail as an ``.eml`` file into ``SALON_MAILBOX_DIR`` instead.
- ``SALON_SMTP_PORT`` (25), ``SALON_SMTP_USERNAME`` / ``SALON_SMTP_PASSWORD`` (both empty:
  no login), ``SALON_SMTP_STARTTLS`` (false), ``SALON_SMTP_TIMEOUT_SECONDS`` (10).
- ``SALON_MAIL_FROM``: the sender, ``"Salon <no-reply@salon.local>"`` by default; its display
  name signs the mails and its domain names their Message-IDs.
- ``SALON_MAILBOX_DIR``: the mailbox folder (``./mailbox``; the launcher sets
  ``<data dir>/mailbox``).
- ``SALON_MAIL_POLL_SECONDS``: how often a sender looks for due mails (1.0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The longest wait between two attempts at one mail.
MAX_BACKOFF_SECONDS = 300


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALON_", extra="ignore")

    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_starttls: bool = False
    # The longest one SMTP conversation may take; well under a sender's claim on a mail
    # (see booking's mail/sender.py), so that no other replica can take a mail still
    # being sent.
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


class Refused(Exception):
    """The server refused the message for good (a 5xx for the recipient): not retried."""


class Transport(Protocol):
    async def send(self, mail: EmailMessage, name: str) -> None:
        """Deliver `mail` (`name`: a file-safe name, unique per mail); return only once it
        is accepted. Raises Refused for a permanent refusal, anything else for a failure
        worth another attempt."""


class SmtpTransport:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    async def send(self, mail: EmailMessage, name: str) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(e.code >= 500 for e in exc.recipients):
                raise Refused("; ".join(f"{e.code} {e.message}" for e in exc.recipients)) from exc
            raise


def write_whole(folder: Path, filename: str, data: bytes) -> None:
    """Write `folder/filename` whole or not at all (a temporary file renamed into place):
    a reader of the folder never sees half a file, and a second write replaces the first."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, folder / filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class MailboxTransport:
    """The embedded default: each mail an .eml file in a folder (the launcher's
    <data dir>/mailbox), written whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, mail: EmailMessage, name: str) -> None:
        await asyncio.to_thread(self._write, bytes(mail), name)

    def _write(self, data: bytes, name: str) -> None:
        write_whole(self.folder, f"{name}.eml", data)


def transport_for(settings: MailSettings) -> Transport:
    """SMTP when SALON_SMTP_HOST is set, the mailbox folder otherwise."""
    if settings.use_smtp:
        return SmtpTransport(settings)
    return MailboxTransport(settings.mailbox_dir)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 2, 4, 8... seconds, at most five minutes."""
    return timedelta(seconds=min(2 ** min(attempts, 16), MAX_BACKOFF_SECONDS))
