"""Forms per establishment (R29): a template (name and typed fields) and a client's
answers to it, checked against the template.

A form belongs to the establishment where it was created: it is changed, archived,
answered and read there only (R07); from another establishment it is not found, as one of
another organization (R01). Answers are text typed by their field and stored normalised:

- TEXT: up to MAX_TEXT characters (line breaks allowed);
- NUMBER: a finite decimal ("12", "-3.5"), stored without exponent;
- BOOLEAN: "true" or "false" (any case, also yes/no), stored lower-case;
- CHOICE: exactly one of the field's options;
- DATE: an ISO date (YYYY-MM-DD).

A required field needs a non-blank answer; a blank answer to an optional field is no
answer; a key the form does not have, or a key given twice, is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from services.common import validation
from services.common.errors import DomainError, ErrorCode, invalid

MAX_NAME = 100
MAX_LABEL = 200
MAX_FIELDS = 50
MAX_OPTIONS = 50
MAX_OPTION = 100
MAX_TEXT = 2000
MAX_NUMBER = 40
MAX_BATCH = 1000
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class FieldType(StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    CHOICE = "CHOICE"
    DATE = "DATE"


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    type: FieldType
    required: bool = False
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type.value,
            "required": self.required,
            "options": list(self.options),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FormField:
        return cls(
            key=str(data["key"]),
            label=str(data["label"]),
            type=FieldType(str(data["type"])),
            required=bool(data["required"]),
            options=tuple(str(o) for o in data.get("options", []) or []),  # type: ignore[attr-defined]
        )


@dataclass(frozen=True)
class Template:
    name: str
    fields: tuple[FormField, ...]


@dataclass
class Form:
    id: str
    organization_id: str
    establishment_id: str
    name: str
    fields: list[FormField]
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass
class FormResponse:
    id: str
    organization_id: str
    establishment_id: str
    form_id: str
    form_version: int
    client_id: str
    # (key, value), in the order of the form's fields.
    answers: list[tuple[str, str]] = field(default_factory=list)
    answered_by: str = ""
    answered_at: datetime | None = None


# -- the template -----------------------------------------------------------------------


def _where(index: int, part: str) -> str:
    return f"fields[{index}].{part}"


def check_field(
    index: int,
    key: str,
    label: str,
    type_: str,
    required: bool,
    options: Sequence[str],
) -> FormField:
    key_ = key.strip()
    if not _KEY.match(key_):
        raise invalid(
            "fields",
            f"{_where(index, 'key')} must be 1 to 40 lower-case letters, digits or "
            "underscores, starting with a letter",
        )
    try:
        label_ = validation.name(label, "fields", MAX_LABEL)
    except DomainError as exc:
        raise invalid("fields", f"{_where(index, 'label')} {exc.message}") from None
    try:
        kind = FieldType(type_)
    except ValueError:
        raise invalid(
            "fields",
            f"{_where(index, 'type')} must be one of {', '.join(t.value for t in FieldType)}",
        ) from None
    checked: list[str] = []
    if kind is FieldType.CHOICE:
        if not options:
            raise invalid("fields", f"{_where(index, 'options')}: a CHOICE needs options")
        if len(options) > MAX_OPTIONS:
            raise invalid("fields", f"{_where(index, 'options')}: at most {MAX_OPTIONS}")
        for option in options:
            try:
                checked.append(validation.name(option, "fields", MAX_OPTION))
            except DomainError as exc:
                raise invalid("fields", f"{_where(index, 'options')}: {exc.message}") from None
        if len(set(checked)) != len(checked):
            raise invalid("fields", f"{_where(index, 'options')}: an option is listed twice")
    elif options:
        raise invalid("fields", f"{_where(index, 'options')}: only a CHOICE has options")
    return FormField(key_, label_, kind, bool(required), tuple(checked))


def check_template(name: str, fields_: Sequence[FormField]) -> Template:
    """The name and the fields (already checked one by one): at least one, keys unique."""
    name_ = validation.name(name, "name", MAX_NAME)
    if not fields_:
        raise invalid("fields", "a form needs at least one field")
    if len(fields_) > MAX_FIELDS:
        raise invalid("fields", f"at most {MAX_FIELDS} fields")
    seen: set[str] = set()
    for index, f in enumerate(fields_):
        if f.key in seen:
            raise invalid("fields", f"{_where(index, 'key')} {f.key!r} is used twice")
        seen.add(f.key)
    return Template(name_, tuple(fields_))


def check_ids(ids: Sequence[str], field_: str = "ids") -> list[str]:
    if len(ids) > MAX_BATCH:
        raise invalid(field_, f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(ids))


def check_may_change(form: Form) -> None:
    if form.archived:
        raise DomainError(ErrorCode.CONFLICT, "the form is archived", "id")


# -- the answers ------------------------------------------------------------------------


def _answer_value(f: FormField, raw: str) -> str:
    """The normalised value of a non-blank answer to `f`."""
    where = f"{f.key!r}"
    if f.type is FieldType.TEXT:
        text = unicodedata.normalize("NFC", raw.strip())
        if len(text) > MAX_TEXT:
            raise invalid("answers", f"{where} must be at most {MAX_TEXT} characters")
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
            raise invalid("answers", f"{where} must not contain control characters")
        return text
    value = raw.strip()
    if f.type is FieldType.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or len(value) > MAX_NUMBER:
            raise invalid("answers", f"{where} must be a number, e.g. 12 or 3.5")
        text = format(number, "f")
        if len(text) > MAX_NUMBER:
            raise invalid("answers", f"{where} must be a number of at most {MAX_NUMBER} digits")
        return text
    if f.type is FieldType.BOOLEAN:
        lowered = value.lower()
        if lowered in ("true", "yes"):
            return "true"
        if lowered in ("false", "no"):
            return "false"
        raise invalid("answers", f"{where} must be true or false")
    if f.type is FieldType.CHOICE:
        chosen = unicodedata.normalize("NFC", value)
        if chosen not in f.options:
            raise invalid("answers", f"{where} must be one of: {', '.join(f.options)}")
        return chosen
    bad_date = invalid("answers", f"{where} must be a date as YYYY-MM-DD")
    if len(value) != 10:
        raise bad_date
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise bad_date from None


def check_answers(form: Form, answers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The answers, checked against the form and normalised, in the order of its fields;
    INVALID (answers) naming the key for the first problem found."""
    if form.archived:
        raise DomainError(ErrorCode.CONFLICT, "the form is archived: it takes no answers", "formId")
    if len(answers) > MAX_FIELDS:
        raise invalid("answers", f"at most {MAX_FIELDS} answers")
    by_key = {f.key: f for f in form.fields}
    given: dict[str, str] = {}
    for key, value in answers:
        if key not in by_key:
            raise invalid("answers", f"{key[:40]!r} is not a field of this form")
        if key in given:
            raise invalid("answers", f"{key!r} is answered twice")
        given[key] = value
    out: list[tuple[str, str]] = []
    for f in form.fields:
        raw = given.get(f.key, "")
        if not raw.strip():
            if f.required:
                raise invalid("answers", f"{f.key!r} ({f.label}) is required")
            continue
        out.append((f.key, _answer_value(f, raw)))
    return out
