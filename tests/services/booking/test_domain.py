"""The rules of the agenda that need no database: hours, dates, slot arithmetic and the
local-time to UTC conversion across DST changes (Europe/Brussels)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.booking.domain import model
from services.booking.domain.model import HoursRange, Slot
from services.common.errors import DomainError, ErrorCode

BRUSSELS = ZoneInfo("Europe/Brussels")
SPRING_FORWARD = date(2027, 3, 28)  # last Sunday of March: 23 hours
FALL_BACK = date(2027, 10, 31)  # last Sunday of October: 25 hours
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
MONDAY = date(2027, 6, 7)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _refused(call: Callable[..., Any], *args: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value


def _week(*ranges: tuple[int, str, str]) -> list[HoursRange]:
    return model.check_hours(ranges)


# -- hours --------------------------------------------------------------------------------


def test_R21_hours_are_sorted_and_may_have_several_ranges_a_day() -> None:
    week = _week((2, "13:00", "18:00"), (1, "09:00", "17:00"), (2, "08:30", "12:00"))

    assert week == [HoursRange(1, 540, 1020), HoursRange(2, 510, 720), HoursRange(2, 780, 1080)]
    assert [(h.opens_text, h.closes_text) for h in week] == [
        ("09:00", "17:00"),
        ("08:30", "12:00"),
        ("13:00", "18:00"),
    ]


def test_R21_touching_ranges_and_a_whole_day_are_allowed() -> None:
    week = _week((1, "09:00", "12:00"), (1, "12:00", "18:00"), (7, "00:00", "24:00"))
    assert [(h.weekday, h.opens, h.closes) for h in week] == [
        (1, 540, 720),
        (1, 720, 1080),
        (7, 0, 1440),
    ]


def test_R21_an_empty_week_is_allowed() -> None:
    assert _week() == []


@pytest.mark.parametrize(
    "ranges",
    [
        [(0, "09:00", "17:00")],
        [(8, "09:00", "17:00")],
        [(1, "9:00", "17:00")],
        [(1, "09:00", "17:0")],
        [(1, "09h00", "17:00")],
        [(1, "09:60", "17:00")],
        [(1, "09:00", "25:00")],
        [(1, "09:00", "24:01")],
        [(1, "", "17:00")],
        [(1, "17:00", "09:00")],
        [(1, "09:00", "09:00")],
        [(1, "09:00", "13:00"), (1, "12:00", "18:00")],
        [(1, "09:00", "18:00"), (1, "10:00", "11:00")],
        [(3, "10:00", "11:00")] * 2,
        [(d % 7 + 1, f"{h:02d}:00", f"{h:02d}:30") for d in range(7) for h in range(11)],
    ],
)
def test_R21_bad_hours_are_invalid(ranges: list[tuple[int, str, str]]) -> None:
    error = _refused(model.check_hours, ranges)
    assert (error.code, error.field) == (ErrorCode.INVALID, "hours")


def test_the_same_range_on_two_weekdays_does_not_overlap() -> None:
    assert len(_week((1, "09:00", "17:00"), (2, "09:00", "17:00"))) == 2


# -- input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "2027-6-7", "07-06-2027", "2027-02-30", "20270607", "x"])
def test_a_malformed_date_is_invalid(value: str) -> None:
    error = _refused(model.check_date, value)
    assert (error.code, error.field) == (ErrorCode.INVALID, "date")


def test_a_date_is_read() -> None:
    assert model.check_date("2027-06-07") == MONDAY


def test_a_start_must_be_in_the_future_and_not_absurdly_far() -> None:
    now = _utc(2027, 6, 7, 10)
    assert model.check_start(now + timedelta(minutes=1), now) == now + timedelta(minutes=1)
    for start in [None, now, now - timedelta(days=1), now + timedelta(days=3 * 365)]:
        error = _refused(model.check_start, start, now)
        assert (error.code, error.field) == (ErrorCode.INVALID, "start")


def test_a_batch_has_at_most_1000_ids_each_once() -> None:
    assert model.check_ids(["b", "a", "b"]) == ["b", "a"]
    error = _refused(model.check_ids, [str(i) for i in range(1001)])
    assert (error.code, error.field) == (ErrorCode.INVALID, "ids")


def test_an_unknown_timezone_falls_back_to_brussels() -> None:
    assert model.zone(None) == BRUSSELS
    assert model.zone("") == BRUSSELS
    assert model.zone("Not/AZone") == BRUSSELS
    assert model.zone("Europe/London") == ZoneInfo("Europe/London")


# -- slot arithmetic ------------------------------------------------------------------------


def test_slots_start_every_15_minutes_while_the_whole_service_fits() -> None:
    start, end = _utc(2027, 6, 7, 7), _utc(2027, 6, 7, 8, 30)

    slots = model.slot_starts([(start, end)], timedelta(minutes=45))

    assert [s.strftime("%H:%M") for s, _e in slots] == [
        "07:00",
        "07:15",
        "07:30",
        "07:45",
    ]
    assert all(e - s == timedelta(minutes=45) for s, e in slots)


def test_slots_restart_at_each_range() -> None:
    week = _week((1, "09:00", "10:00"), (1, "13:10", "14:00"))

    slots = model.free_slots(
        MONDAY, BRUSSELS, week, {"s": None}, {}, timedelta(minutes=30), LONG_AGO
    )

    # Summer time: UTC+2.
    assert [s.start.strftime("%H:%M") for s in slots] == [
        "07:00",
        "07:15",
        "07:30",
        "11:10",
        "11:25",
    ]


def test_a_service_longer_than_a_range_has_no_slot_there() -> None:
    week = _week((1, "09:00", "09:30"))
    assert (
        model.free_slots(MONDAY, BRUSSELS, week, {"s": None}, {}, timedelta(hours=1), LONG_AGO)
        == []
    )


def test_B09_slots_overlapping_a_booked_appointment_are_left_out() -> None:
    week = _week((1, "09:00", "12:00"))
    booked = (_utc(2027, 6, 7, 8), _utc(2027, 6, 7, 9))  # 10:00-11:00 local

    slots = model.free_slots(
        MONDAY,
        BRUSSELS,
        week,
        {"s": None, "t": None},
        {"s": [booked]},
        timedelta(hours=1),
        LONG_AGO,
    )

    for_s = [s.start.astimezone(BRUSSELS).strftime("%H:%M") for s in slots if s.staff_id == "s"]
    for_t = [s.start.astimezone(BRUSSELS).strftime("%H:%M") for s in slots if s.staff_id == "t"]
    assert for_s == ["09:00", "11:00"]  # ending at 10:00 and starting at 11:00 touch only
    assert len(for_t) == 9
    assert slots == sorted(slots, key=lambda s: (s.start, s.staff_id))


def test_R22_a_staff_member_works_their_own_hours_or_else_the_opening_hours() -> None:
    week = _week((1, "09:00", "12:00"))
    own = _week((1, "10:00", "18:00"), (2, "09:00", "12:00"))

    slots = model.free_slots(
        MONDAY, BRUSSELS, week, {"own": own, "default": None}, {}, timedelta(hours=1), LONG_AGO
    )

    local = {
        staff: [
            s.start.astimezone(BRUSSELS).strftime("%H:%M") for s in slots if s.staff_id == staff
        ]
        for staff in ("own", "default")
    }
    # Within the opening hours and within their own (10:00-18:00): 10:00 to 11:00.
    assert local["own"] == ["10:00", "10:15", "10:30", "10:45", "11:00"]
    assert local["default"][0] == "09:00" and len(local["default"]) == 9


def test_slots_in_the_past_are_left_out() -> None:
    week = _week((1, "09:00", "12:00"))
    now = _utc(2027, 6, 7, 8, 10)  # 10:10 local

    slots = model.free_slots(MONDAY, BRUSSELS, week, {"s": None}, {}, timedelta(hours=1), now)

    assert [s.start.astimezone(BRUSSELS).strftime("%H:%M") for s in slots] == [
        "10:15",
        "10:30",
        "10:45",
        "11:00",
    ]


def test_closed_days_have_no_slots() -> None:
    week = _week((2, "09:00", "12:00"))
    assert (
        model.free_slots(MONDAY, BRUSSELS, week, {"s": None}, {}, timedelta(minutes=30), LONG_AGO)
        == []
    )


def test_an_appointment_must_fit_the_opening_hours_of_its_local_day() -> None:
    week = _week((1, "09:00", "12:00"), (1, "12:00", "13:00"))
    inside = (_utc(2027, 6, 7, 7), _utc(2027, 6, 7, 8))  # 09:00-10:00
    across_touching_ranges = (_utc(2027, 6, 7, 9, 30), _utc(2027, 6, 7, 10, 30))
    too_late = (_utc(2027, 6, 7, 10, 30), _utc(2027, 6, 7, 11, 30))  # 12:30-13:30
    too_early = (_utc(2027, 6, 7, 6, 45), _utc(2027, 6, 7, 7, 45))

    model.check_within_hours(*inside, BRUSSELS, week)
    model.check_within_hours(*across_touching_ranges, BRUSSELS, week)
    for start, end in [too_late, too_early]:
        error = _refused(model.check_within_hours, start, end, BRUSSELS, week)
        assert (error.code, error.field) == (ErrorCode.OUTSIDE_OPENING_HOURS, "start")


def test_overlap_is_half_open() -> None:
    nine, ten, eleven = _utc(2027, 1, 1, 9), _utc(2027, 1, 1, 10), _utc(2027, 1, 1, 11)
    assert model.overlaps(nine, eleven, ten, eleven)
    assert not model.overlaps(nine, ten, ten, eleven)
    assert not model.overlaps(ten, eleven, nine, ten)


# -- DST (Europe/Brussels) ------------------------------------------------------------------


def test_a_day_across_the_spring_change_is_23_hours_and_09_00_is_07_00_utc() -> None:
    start, end = model.day_bounds(SPRING_FORWARD, BRUSSELS)
    assert (start, end) == (_utc(2027, 3, 27, 23), _utc(2027, 3, 28, 22))
    assert end - start == timedelta(hours=23)

    week = _week((7, "09:00", "17:00"))
    slots = model.free_slots(
        SPRING_FORWARD, BRUSSELS, week, {"s": None}, {}, timedelta(minutes=30), LONG_AGO
    )

    assert slots[0] == Slot(_utc(2027, 3, 28, 7), _utc(2027, 3, 28, 7, 30), "s")
    assert slots[-1].end == _utc(2027, 3, 28, 15)  # 17:00 summer time
    assert len(slots) == 31


def test_a_day_across_the_autumn_change_is_25_hours_and_09_00_is_08_00_utc() -> None:
    start, end = model.day_bounds(FALL_BACK, BRUSSELS)
    assert (start, end) == (_utc(2027, 10, 30, 22), _utc(2027, 10, 31, 23))
    assert end - start == timedelta(hours=25)

    week = _week((7, "09:00", "17:00"))
    slots = model.free_slots(
        FALL_BACK, BRUSSELS, week, {"s": None}, {}, timedelta(minutes=30), LONG_AGO
    )

    assert slots[0] == Slot(_utc(2027, 10, 31, 8), _utc(2027, 10, 31, 8, 30), "s")
    assert slots[-1].end == _utc(2027, 10, 31, 16)  # 17:00 winter time
    assert len(slots) == 31


def test_a_whole_day_across_a_dst_change_holds_its_real_length() -> None:
    week = _week((7, "00:00", "24:00"))
    spring = model.free_slots(
        SPRING_FORWARD, BRUSSELS, week, {"s": None}, {}, timedelta(hours=1), LONG_AGO
    )
    autumn = model.free_slots(
        FALL_BACK, BRUSSELS, week, {"s": None}, {}, timedelta(hours=1), LONG_AGO
    )
    # Slots every 15 minutes of elapsed time while an hour still fits.
    assert len(spring) == 22 * 4 + 1
    assert len(autumn) == 24 * 4 + 1


def test_an_appointment_on_a_dst_day_is_checked_in_local_time() -> None:
    week = _week((7, "09:00", "17:00"))
    # 08:00 UTC is 10:00 summer time on 28 March, and 09:00 winter time on 31 October.
    model.check_within_hours(_utc(2027, 3, 28, 8), _utc(2027, 3, 28, 9), BRUSSELS, week)
    model.check_within_hours(_utc(2027, 10, 31, 8), _utc(2027, 10, 31, 9), BRUSSELS, week)
    # 07:30 UTC is 08:30 winter time on 31 October: not yet open.
    error = _refused(
        model.check_within_hours,
        _utc(2027, 10, 31, 7, 30),
        _utc(2027, 10, 31, 8, 30),
        BRUSSELS,
        week,
    )
    assert error.code is ErrorCode.OUTSIDE_OPENING_HOURS


def test_a_wall_time_skipped_in_spring_is_read_with_the_offset_before_the_change() -> None:
    # 02:30 does not exist on 28 March 2027 in Brussels: read as 02:30+01:00 (03:30+02:00).
    assert model.local_instant(SPRING_FORWARD, 150, BRUSSELS) == _utc(2027, 3, 28, 1, 30)
    # Hours entirely inside the skipped hour give no range at all.
    assert model.ranges_on(SPRING_FORWARD, _week((7, "02:00", "03:00")), BRUSSELS) == []


def test_R22_who_can_take_an_appointment() -> None:
    week = _week((1, "09:00", "18:00"))
    own = {"late": _week((1, "14:00", "18:00")), "elsewhere": _week((2, "09:00", "18:00"))}
    morning = (_utc(2027, 6, 7, 8), _utc(2027, 6, 7, 9))  # 10:00-11:00 local
    people = ["late", "early", "elsewhere", "default"]

    assert model.who_can_take(*morning, BRUSSELS, week, people, own, asked=False) == [
        "early",
        "default",
    ]
    error = _refused(
        lambda: model.who_can_take(*morning, BRUSSELS, week, ["late"], own, asked=True)
    )
    assert (error.code, error.field) == (ErrorCode.OUTSIDE_OPENING_HOURS, "staffId")
    assert model.who_can_take(*morning, BRUSSELS, week, ["late"], own, asked=False) == []
    night = (_utc(2027, 6, 7, 18), _utc(2027, 6, 7, 19))
    error = _refused(lambda: model.who_can_take(*night, BRUSSELS, week, people, own, asked=True))
    assert (error.code, error.field) == (ErrorCode.OUTSIDE_OPENING_HOURS, "start")
