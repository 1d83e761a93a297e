"""Unit tests of the client file's input rules (no database)."""

from __future__ import annotations

import pytest

from services.clients.domain import model
from services.common.errors import DomainError, ErrorCode


def test_names_are_trimmed_and_contact_data_normalised() -> None:
    fields = model.check_new("  Ann ", "Peeters", "Ann@Example.COM", "0470 12 34 56")
    assert fields == model.ClientFields("Ann", "Peeters", "Ann@example.com", "+32470123456")


@pytest.mark.parametrize(
    ("first", "last", "email", "phone", "field"),
    [
        ("", "Peeters", None, None, "firstName"),
        ("Ann", "   ", None, None, "lastName"),
        ("A" * 101, "Peeters", None, None, "firstName"),
        ("Ann", "Peeters", "not-an-email", None, "email"),
        ("Ann", "Peeters", "a@b", None, "email"),
        ("Ann", "Peeters", None, "12", "phone"),
        ("Ann", "Peeters", None, "+32 470 12 34 56 78 90", "phone"),
        ("Ann\x00", "Peeters", None, None, "firstName"),
    ],
)
def test_bad_input_is_invalid_with_its_field(
    first: str, last: str, email: str | None, phone: str | None, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        model.check_new(first, last, email, phone)
    assert caught.value.code is ErrorCode.INVALID
    assert caught.value.field == field


def test_update_can_clear_contact_data_but_not_names() -> None:
    fields = model.check_update(None, None, "", " ")
    assert fields == model.ClientFields(None, None, "", "")
    with pytest.raises(DomainError):
        model.check_update("", None, None, None)


def test_search_terms_match_phone_numbers_whatever_their_spacing() -> None:
    assert model.search_terms("0470 12-34.56") == ["0470123456"]
    assert model.search_terms("Ann  Peeters") == ["ann", "peeters"]
    assert model.search_terms(None) == []
    text = model.search_text("Ann", "Peeters", "ann@example.com", "+32470123456")
    assert "0470123456" in text and "32470123456" in text and "ann@example.com" in text


def test_page_size_is_bounded() -> None:
    assert model.check_page_size(100) == 100
    for bad in (0, -1, 101):
        with pytest.raises(DomainError) as caught:
            model.check_page_size(bad)
        assert caught.value.field == "first"
