"""What a confirmation and a reminder say (R15): plain text, the appointment's date and time
in the establishment's timezone. Pure functions; the only place the wording lives.

Day and month names are spelt out here rather than taken from the process locale, so a
mail reads the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from enum import StrEnum
from zoneinfo import ZoneInfo

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class MailKind(StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Appointment:
    """What a mail tells of the appointment; start and end are UTC instants."""

    service_name: str
    start: datetime
    end: datetime
    timezone: ZoneInfo


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def local_day(instant: datetime, tz: ZoneInfo) -> str:
    """ "Tuesday 14 April 2026" (the local date of the instant)."""
    local = instant.astimezone(tz)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


def local_clock(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%H:%M")


def render(kind: MailKind, client_name: str, appointment: Appointment, salon: str) -> Rendered:
    tz = appointment.timezone
    day = local_day(appointment.start, tz)
    start, end = local_clock(appointment.start, tz), local_clock(appointment.end, tz)
    service = appointment.service_name or "your appointment"
    greeting = f"Hello {client_name}," if client_name else "Hello,"
    when = f"  {service}\n  {day}, {start} - {end}\n"
    if kind is MailKind.CONFIRMATION:
        subject = f"Your appointment on {day} at {start} is confirmed"
        lines = [
            greeting,
            "",
            "Your appointment is booked:",
            "",
            when,
            "We look forward to seeing you. Cannot make it? Let us know, so that someone",
            "else can have the chair.",
        ]
    else:
        subject = f"Reminder: your appointment on {day} at {start}"
        lines = [
            greeting,
            "",
            "A reminder of your appointment:",
            "",
            when,
            "See you soon! Please arrive a few minutes early.",
        ]
    body = "\n".join([*lines, "", f"{salon}", ""])
    return Rendered(subject=subject, body=body)


def message(
    rendered: Rendered,
    *,
    sender: str,
    recipient: str,
    recipient_name: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """The RFC 5322 message. `message_id` is stable per (appointment, kind), so that a
    receiving server can recognise the same mail should it ever arrive twice."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = formataddr((recipient_name, recipient)) if recipient_name else recipient
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(date)
    mail["Message-ID"] = message_id
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(rendered.body)
    return mail
