"""The clients service's own settings, from environment variables (prefix SALON_): how
campaign messages (R30) leave the building.

E-mail goes the shared mail path of ``services/common/mail.py`` (``SALON_SMTP_HOST``...,
or ``.eml`` files in ``SALON_MAILBOX_DIR`` without an SMTP server), as booking's appointment
mails do. SMS goes through a pluggable sender (``services/clients/marketing/sms.py``):

- ``SALON_SMS_URL``: an HTTP endpoint that takes one JSON message per SMS (``{"id", "from",
  "to", "text"}``, with ``Idempotency-Key: <id>``); empty (the default, and the embedded
  launcher's choice) writes each SMS as a JSON file into ``SALON_SMS_DIR`` instead.
- ``SALON_SMS_TOKEN``: sent as ``Authorization: Bearer <it>`` when set.
- ``SALON_SMS_FROM``: the sender name or number the SMS shows (``Salon``).
- ``SALON_SMS_DIR``: the SMS folder (``./sms``; the launcher sets ``<data dir>/sms``).
- ``SALON_SMS_TIMEOUT_SECONDS``: how long one HTTP request may take (10, at most 25).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.mail import MailSettings


class MarketingSettings(MailSettings):
    sms_url: str = ""
    sms_token: str = Field(default="", repr=False)
    sms_from: str = Field(default="Salon", min_length=1, max_length=20)
    sms_dir: Path = Path("./sms")
    sms_timeout_seconds: float = Field(default=10.0, gt=0, le=25)

    @property
    def use_sms_http(self) -> bool:
        return bool(self.sms_url.strip())
