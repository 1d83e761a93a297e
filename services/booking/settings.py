"""The booking service's own settings, from environment variables (prefix SALON_): how the
mails for future appointments (R15) leave the building.

The mail settings (``SALON_SMTP_HOST``, ``SALON_MAILBOX_DIR``, ``SALON_MAIL_FROM``...) are
the shared mail path's, described in ``services/common/mail.py``: the clients service's
campaigns (R30) send the same way.

Whether an organization's mails go out at all, and how many hours before an appointment the
reminder does, is not configuration but data: the owner's SetMailSettings (R15).
"""

from __future__ import annotations

from services.common.mail import MailSettings


class MailerSettings(MailSettings):
    """The appointment mails' settings: the shared mail path's, nothing more (yet)."""
