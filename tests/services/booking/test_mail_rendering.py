"""What the mails say (R15): the appointment's local date and time in the establishment's
timezone, across a DST change, and an RFC 5322 message that reads back the same."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

from services.booking.mail.rendering import Appointment, MailKind, Rendered, message, render

BRUSSELS = ZoneInfo("Europe/Brussels")


def _appointment(start: datetime, end: datetime, tz: ZoneInfo = BRUSSELS) -> Appointment:
    return Appointment(service_name="Cut & blow-dry", start=start, end=end, timezone=tz)


def test_R15_a_confirmation_gives_the_local_day_and_time_of_the_establishment() -> None:
    # 08:00 UTC on the last Sunday of October 2026 is 09:00 in Brussels (winter time again).
    winter = render(
        MailKind.CONFIRMATION,
        "Ann",
        _appointment(datetime(2026, 10, 25, 8, tzinfo=UTC), datetime(2026, 10, 25, 9, tzinfo=UTC)),
        "Salon Belle",
    )
    assert winter.subject == "Your appointment on Sunday 25 October 2026 at 09:00 is confirmed"
    assert "  Cut & blow-dry\n  Sunday 25 October 2026, 09:00 - 10:00\n" in winter.body
    assert winter.body.startswith("Hello Ann,\n") and winter.body.endswith("Salon Belle\n")

    # The same instant a day earlier is still summer time: 10:00.
    summer = render(
        MailKind.REMINDER,
        "",
        _appointment(datetime(2026, 10, 24, 8, tzinfo=UTC), datetime(2026, 10, 24, 9, tzinfo=UTC)),
        "Salon Belle",
    )
    assert summer.subject == "Reminder: your appointment on Saturday 24 October 2026 at 10:00"
    assert summer.body.startswith("Hello,\n") and "10:00 - 11:00" in summer.body


def test_R15_another_timezone_another_local_day() -> None:
    late = _appointment(
        datetime(2026, 3, 2, 22, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
        ZoneInfo("Asia/Tokyo"),
    )
    rendered = render(MailKind.CONFIRMATION, "Ken", late, "Salon")
    assert "Tuesday 3 March 2026, 07:30 - 08:30" in rendered.body


def test_a_deleted_or_unknown_service_still_reads_well() -> None:
    nameless = Appointment(
        service_name="",
        start=datetime(2026, 5, 4, 7, tzinfo=UTC),
        end=datetime(2026, 5, 4, 8, tzinfo=UTC),
        timezone=BRUSSELS,
    )
    assert "  your appointment\n" in render(MailKind.REMINDER, "Ann", nameless, "S").body


def test_the_message_reads_back_with_its_headers_and_non_ascii_text() -> None:
    rendered = Rendered(subject="Rendez-vous confirmé", body="Bonjour Zoë,\n\nÀ bientôt.\n")
    mail = message(
        rendered,
        sender="Salon Belle <no-reply@belle.test>",
        recipient="zoe@example.com",
        recipient_name="Zoë Dupré",
        message_id="<a1.confirmation@belle.test>",
        date=datetime(2026, 5, 4, 7, tzinfo=UTC),
    )
    back = message_from_bytes(bytes(mail), policy=policy.default)
    assert back["Subject"] == "Rendez-vous confirmé"
    assert back["To"].addresses[0].display_name == "Zoë Dupré"
    assert back["Message-ID"] == "<a1.confirmation@belle.test>"
    assert back.get_content() == "Bonjour Zoë,\n\nÀ bientôt.\n"  # type: ignore[attr-defined]
