"""R29 in the catalogue: each establishment's webshop settings (on or off, which products
of the organization are sold online) and its public mini-website profile (description,
address, phone, e-mail, photos by URL). Both belong to one establishment and are changed
from that establishment only (R07), by its owners and managers.

Plain Python: the input checks (a DomainError naming the GraphQL field) and the rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from services.catalog.domain.model import MAX_BATCH, description
from services.common import validation
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import Role

MAX_WEBSHOP_PRODUCTS = MAX_BATCH
MAX_PHOTOS = 20
MAX_PHOTO_URL = 2048
MAX_STREET = 200
MAX_CITY = 100
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,11}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+$")

# The settings a change may name, as events and GraphQL errors spell them.
WEBSHOP_FIELDS = ("enabled", "product_ids")
PROFILE_FIELDS = ("description", "address", "phone", "email", "photo_urls")


@dataclass
class Webshop:
    """The webshop of one establishment; off and empty until first set."""

    organization_id: str
    establishment_id: str
    enabled: bool = False
    product_ids: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class WebshopChange:
    """What a SetWebshop asks; None: left as it is."""

    enabled: bool | None = None
    product_ids: list[str] | None = None


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    country: str


@dataclass
class WebsiteProfile:
    """The public profile of one establishment; empty until first set."""

    organization_id: str
    establishment_id: str
    description: str = ""
    address: Address | None = None
    phone: str = ""
    email: str = ""
    photo_urls: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


# Sentinel for "not given" where None is a value (no address).
class Unset:
    pass


UNSET = Unset()


@dataclass(frozen=True)
class ProfileChange:
    """What a SetWebsiteProfile asks; UNSET / None: left as it is. An address of None
    removes it (given with every part empty)."""

    description: str | None = None
    address: Address | Unset | None = UNSET
    phone: str | None = None
    email: str | None = None
    photo_urls: list[str] | None = None


# -- rules ------------------------------------------------------------------------------


def check_may_change_website(role: Role) -> None:
    """R29: the webshop and the mini website of an establishment are set by its owners and
    managers (the role of the session's membership there)."""
    if role not in (Role.OWNER, Role.MANAGER):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            "only an owner or a manager of this establishment may change its webshop or website",
        )


def webshop_changes(current: Webshop, change: WebshopChange) -> list[str]:
    """The settings `change` really changes, in the contract's order."""
    out = []
    if change.enabled is not None and change.enabled != current.enabled:
        out.append("enabled")
    if change.product_ids is not None and change.product_ids != current.product_ids:
        out.append("product_ids")
    return out


def profile_changes(current: WebsiteProfile, change: ProfileChange) -> list[str]:
    out = []
    if change.description is not None and change.description != current.description:
        out.append("description")
    if not isinstance(change.address, Unset) and change.address != current.address:
        out.append("address")
    if change.phone is not None and change.phone != current.phone:
        out.append("phone")
    if change.email is not None and change.email != current.email:
        out.append("email")
    if change.photo_urls is not None and change.photo_urls != current.photo_urls:
        out.append("photo_urls")
    return out


# -- input checks -----------------------------------------------------------------------


def check_webshop_change(enabled: bool | None, product_ids: Sequence[str] | None) -> WebshopChange:
    ids = None
    if product_ids is not None:
        ids = list(dict.fromkeys(i.strip() for i in product_ids))
        if any(not i for i in ids):
            raise invalid("productIds", "must not contain an empty id")
        if len(ids) > MAX_WEBSHOP_PRODUCTS:
            raise invalid("productIds", f"at most {MAX_WEBSHOP_PRODUCTS} products")
        if any(len(i) > 64 for i in ids):
            raise invalid("productIds", "an id is at most 64 characters")
    return WebshopChange(enabled=enabled, product_ids=ids)


def _line(value: str, field_: str, max_length: int) -> str:
    cleaned = unicodedata.normalize("NFC", value.strip())
    if not cleaned:
        raise invalid(field_, "must not be empty")
    if len(cleaned) > max_length:
        raise invalid(field_, f"must be at most {max_length} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise invalid(field_, "must not contain control characters")
    return cleaned


def address(street: str, postal_code: str, city: str, country: str) -> Address | None:
    """Every part empty: no address. Otherwise every part is needed."""
    parts = (street, postal_code, city, country)
    if not any(p.strip() for p in parts):
        return None
    code = postal_code.strip()
    if not _POSTAL_CODE.match(code):
        raise invalid("address.postalCode", "must be 1 to 12 letters, digits, spaces or dashes")
    country_ = country.strip().upper()
    if not _COUNTRY.match(country_):
        raise invalid("address.country", "must be a two-letter ISO 3166 code, e.g. BE")
    return Address(
        street=_line(street, "address.street", MAX_STREET),
        postal_code=code.upper(),
        city=_line(city, "address.city", MAX_CITY),
        country=country_,
    )


def photo_url(value: str, position: int) -> str:
    """An https URL of a public host, at most MAX_PHOTO_URL characters, without user
    name or password (they would be published with the page)."""
    where = f"photoUrls[{position}]"
    url = value.strip()
    if not url:
        raise invalid("photoUrls", f"{where} must not be empty")
    if len(url) > MAX_PHOTO_URL:
        raise invalid("photoUrls", f"{where} must be at most {MAX_PHOTO_URL} characters")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise invalid("photoUrls", f"{where} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise invalid("photoUrls", f"{where} is not a valid URL") from exc
    if parts.scheme.lower() != "https":
        raise invalid("photoUrls", f"{where} must be an https URL")
    host = parts.hostname or ""
    if not host or not _HOST.match(host) or "." not in host.strip("."):
        raise invalid("photoUrls", f"{where} needs a host name")
    if parts.username is not None or parts.password is not None:
        raise invalid("photoUrls", f"{where} must not carry a user name or password")
    return url


def photo_urls(values: Sequence[str]) -> list[str]:
    if len(values) > MAX_PHOTOS:
        raise invalid("photoUrls", f"at most {MAX_PHOTOS} photos")
    checked = [photo_url(v, i) for i, v in enumerate(values)]
    if len(set(checked)) != len(checked):
        raise invalid("photoUrls", "a photo is listed twice")
    return checked


def check_profile_change(
    description_: str | None,
    address_: tuple[str, str, str, str] | None,
    phone: str | None,
    email: str | None,
    photo_urls_: Sequence[str] | None,
) -> ProfileChange:
    """The values to set; None: not given. Empty description, phone, e-mail: cleared."""
    phone_ = None
    if phone is not None:
        phone_ = validation.phone(phone, "phone") if phone.strip() else ""
    email_ = None
    if email is not None:
        email_ = validation.email(email, "email") if email.strip() else ""
    return ProfileChange(
        description=None if description_ is None else description(description_),
        address=UNSET if address_ is None else address(*address_),
        phone=phone_,
        email=email_,
        photo_urls=None if photo_urls_ is None else photo_urls(photo_urls_),
    )
