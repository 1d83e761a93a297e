"""Unit tests of the catalogue's input checks and rules (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.catalog.domain import model
from services.common.errors import DomainError, ErrorCode
from services.common.scope import Role

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _error(call, *args) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value


def test_a_new_service_is_trimmed_and_its_price_has_two_decimals() -> None:
    new = model.check_new_service("  Cut ", " Hair ", "40", 30, "  Wash, cut, dry\n", True)
    assert new == model.NewService(
        name="Cut",
        category="Hair",
        defaults=model.Settings(Decimal("40.00"), 30, "Wash, cut, dry", True),
    )
    blank = model.check_new_service("Cut", "  ", "40.5", 1, None, False)
    assert (blank.category, blank.defaults.description) == ("", "")
    assert blank.defaults.price == Decimal("40.50")


@pytest.mark.parametrize(
    ("name", "category", "price", "duration", "description", "field"),
    [
        ("", None, "40", 30, None, "name"),
        ("C" * 101, None, "40", 30, None, "name"),
        ("Cut", "H" * 61, "40", 30, None, "category"),
        ("Cut", None, "-1", 30, None, "price"),
        ("Cut", None, "abc", 30, None, "price"),
        ("Cut", None, "1.234", 30, None, "price"),
        ("Cut", None, "", 30, None, "price"),
        ("Cut", None, "NaN", 30, None, "price"),
        ("Cut", None, "40", 0, None, "durationMinutes"),
        ("Cut", None, "40", -30, None, "durationMinutes"),
        ("Cut", None, "40", 1441, None, "durationMinutes"),
        ("Cut", None, "40", 30, "d" * 2001, "description"),
        ("Cut", None, "40", 30, "bad\x00byte", "description"),
    ],
)
def test_bad_service_input_is_invalid_with_its_field(
    name: str, category: str | None, price: str, duration: int, description: str | None, field: str
) -> None:
    error = _error(model.check_new_service, name, category, price, duration, description, True)
    assert (error.code, error.field) == (ErrorCode.INVALID, field)


def test_R12_an_update_names_only_the_settings_it_changes() -> None:
    overrides = model.check_overrides("45", None, "", None)
    assert overrides == model.Settings(price=Decimal("45.00"), description="")
    assert overrides.present() == ["price", "description"]
    assert model.check_overrides(None, None, None, None).present() == []
    for args, field in [
        (("-5", None, None, None), "price"),
        ((None, 0, None, None), "durationMinutes"),
        ((None, None, "x" * 2001, None), "description"),
    ]:
        assert _error(model.check_overrides, *args).field == field


def test_B10_values_are_overrides_over_organization_defaults() -> None:
    service = model.Service(
        id="s",
        organization_id="o",
        name="Cut",
        category="Hair",
        establishment_id="b",
        defaults=model.Settings(Decimal("40.00"), 30, "Classic", True),
        overrides=model.Settings(price=Decimal("45.00"), bookable_online=False),
        created_at=NOW,
    )
    assert service.values == model.Settings(Decimal("45.00"), 30, "Classic", False)
    assert service.customized_fields == ["price", "bookable_online"]


def test_B10_reset_fields_default_to_all_and_refuse_unknown_names() -> None:
    assert model.check_reset_fields([]) == [
        "price",
        "duration_minutes",
        "description",
        "bookable_online",
    ]
    assert model.check_reset_fields(["bookable_online", "price", "price"]) == [
        "price",
        "bookable_online",
    ]
    for bad in (["name"], ["durationMinutes"], ["price", "category"]):
        error = _error(model.check_reset_fields, bad)
        assert (error.code, error.field) == (ErrorCode.INVALID, "fields")


def test_B05_future_appointments_need_confirmation() -> None:
    assert not model.needs_confirmation(0, False)
    assert not model.needs_confirmation(0, True)
    assert not model.needs_confirmation(3, True)
    assert model.needs_confirmation(3, False)


def test_B05_only_owners_and_managers_delete_shared_services() -> None:
    model.check_may_delete_services(Role.OWNER)
    model.check_may_delete_services(Role.MANAGER)
    assert _error(model.check_may_delete_services, Role.STAFF).code is ErrorCode.FORBIDDEN


def test_B05_restore_within_30_days_only() -> None:
    model.check_restore(NOW - timedelta(days=29, hours=23), NOW)
    too_old = _error(model.check_restore, NOW - timedelta(days=30), NOW)
    assert (too_old.code, too_old.field) == (ErrorCode.NOT_FOUND, "id")
    not_deleted = _error(model.check_restore, None, NOW)
    assert (not_deleted.code, not_deleted.field) == (ErrorCode.CONFLICT, "id")


@pytest.mark.parametrize(
    ("barcode", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (" 5410000000001 ", "5410000000001"),
        ("123-X", "123-X"),
    ],
)
def test_R13_barcodes_are_optional_and_trimmed(barcode: str | None, expected: str | None) -> None:
    assert model.check_new_product("Gel", None, barcode, "12").barcode == expected


@pytest.mark.parametrize("barcode", ["12 34", "abc_def", "é123", "1" * 65, "12/34"])
def test_R13_a_bad_barcode_is_invalid(barcode: str) -> None:
    error = _error(model.check_new_product, "Gel", None, barcode, "12")
    assert (error.code, error.field) == (ErrorCode.INVALID, "barcode")


def test_bad_product_input_is_invalid_with_its_field() -> None:
    assert _error(model.check_new_product, "", None, None, "12").field == "name"
    assert _error(model.check_new_product, "Gel", "B" * 101, None, "12").field == "brand"
    assert _error(model.check_new_product, "Gel", None, None, "-1").field == "price"
    product = model.check_new_product("Gel", "  ", None, "12")
    assert (product.brand, product.price) == ("", Decimal("12.00"))


def test_R25_a_menu_needs_services_each_once_in_order() -> None:
    menu = model.check_new_menu("Cut & colour", "89", ["b", "a", "b"])
    assert menu == model.NewMenu("Cut & colour", Decimal("89.00"), ["b", "a"])
    assert _error(model.check_new_menu, "M", "1", []).field == "serviceIds"
    assert _error(model.check_new_menu, "M", "1", [str(i) for i in range(51)]).field == (
        "serviceIds"
    )
    assert _error(model.check_new_menu, "", "1", ["a"]).field == "name"
    assert _error(model.check_new_menu, "M", "1.001", ["a"]).field == "price"


def test_batches_are_bounded_and_deduplicated() -> None:
    assert model.check_ids(["a", "b", "a"]) == ["a", "b"]
    assert model.check_ids([str(i) for i in range(1000)])
    error = _error(model.check_ids, [str(i) for i in range(1001)])
    assert (error.code, error.field) == (ErrorCode.INVALID, "ids")
