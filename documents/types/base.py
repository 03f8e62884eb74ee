"""The document-type plugin interface.

A document type is one folder under ``documents/types/`` that exports ``DOCUMENT_TYPE``:
its msgspec schema, extra field rules, labels in Vietnamese and English, which fields
travel together when disclosed, how it renders as a card, and the compact keys it uses
in offline QR payloads. Everything else (issuing, credentials, QR, verification) is
generic and reads these declarations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = [
    "DERIVED_AGE_OVER_18",
    "HOLDER_FACTS",
    "CardLayout",
    "DocumentInvalid",
    "DocumentType",
    "FieldError",
    "Label",
]

#: A claim computed at presentation time from ``date_of_birth`` ("over 18" without the date).
DERIVED_AGE_OVER_18 = "age_over_18"

#: The population registry's facts a claim may be declared to carry (``DocumentType.holder_claims``).
HOLDER_FACTS = frozenset({"person_id", "full_name", "date_of_birth"})


@dataclass(frozen=True, slots=True)
class Label:
    vi: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class DocumentInvalid(Exception):
    """The claims do not satisfy the type's schema or rules."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class CardLayout:
    """How the app draws the document as a card (fields by name; text comes from labels)."""

    #: Background colour of the card, ``#rrggbb``.
    colour: str
    #: The field printed large (the holder's name, a plate number).
    headline: str
    #: Fields on the face of the card, in order.
    face: tuple[str, ...]
    #: Fields shown when the card is turned over.
    back: tuple[str, ...] = ()
    #: Field holding a reference to the holder's photo, if the type has one.
    photo: str | None = None


Check = Callable[[Any], Iterable[FieldError]]


@dataclass(frozen=True)
class DocumentType:
    code: str
    title: Label
    schema: type[msgspec.Struct]
    labels: Mapping[str, Label]
    card: CardLayout
    #: Claim holding the first day of validity, and the last one (None: never expires).
    valid_from_field: str
    valid_until_field: str | None
    #: Small integer keys for each field in the CBOR claims of offline QR payloads.
    offline_keys: Mapping[str, int]
    #: Fields that are only ever disclosed together (choosing one discloses the group).
    groups: tuple[frozenset[str], ...] = ()
    #: Rules across fields that a schema cannot express (dates in order, ID number digits).
    check: Check | None = None
    #: The colours and icon are presentation hints; the issuer of record is in the registry.
    issuer_hint: Label | None = None
    schema_version: int = 1
    derived: tuple[str, ...] = field(default=())
    #: Claims that say who the holder is, each with the registry fact it must equal at
    #: issuance (:data:`HOLDER_FACTS`): e.g. ``{"id_number": "person_id"}``. Names are
    #: compared as wallet linking does (case, spacing and diacritics aside).
    holder_claims: Mapping[str, str] = field(default_factory=dict)
    #: Field holding the holder's portrait (``fields.Portrait``), which verifiers show as a picture.
    portrait: str | None = None

    def __post_init__(self) -> None:
        names = set(self.field_names)
        if self.portrait is not None and self.portrait not in names:
            raise ValueError(f"{self.code}: the portrait field {self.portrait} is not a field")
        for group in self.groups:
            if not group <= names:
                raise ValueError(f"{self.code}: group {sorted(group)} names unknown fields")
        if not set(self.holder_claims) <= names or not set(self.holder_claims.values()) <= HOLDER_FACTS:
            raise ValueError(f"{self.code}: holder_claims must map fields to {sorted(HOLDER_FACTS)}")
        missing = names - set(self.labels)
        if missing:
            raise ValueError(f"{self.code}: fields without labels: {sorted(missing)}")
        if set(self.offline_keys) != names | set(self.derived) or len(set(self.offline_keys.values())) != len(
            self.offline_keys
        ):
            raise ValueError(f"{self.code}: offline_keys must give every field a distinct key")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self.schema.__struct_fields__)

    @property
    def disclosable(self) -> tuple[str, ...]:
        """Every field a holder may reveal: the schema's and the derived ones."""
        return self.field_names + self.derived

    @property
    def vct(self) -> str:
        """The SD-JWT VC type of this document."""
        return f"https://citizenwallet.vn/credentials/{self.code}/v{self.schema_version}"

    def claims_schema(self, base_url: str) -> dict[str, Any]:
        """The claims an issuer sends for this type, as a JSON Schema (2020-12) made from ``schema``.

        Field titles and descriptions are the Vietnamese and English labels. Rules across
        fields (``check``: dates in order, ID number digits, licence classes) are not
        expressible here; the API still applies them (``document-invalid``).
        """
        generated = msgspec.json.schema(self.schema)
        ref = generated.pop("$ref").rsplit("/", 1)[-1]
        defs = generated.pop("$defs")
        root = defs.pop(ref)
        for name, prop in root.get("properties", {}).items():
            label = self.labels.get(name)
            if label is not None:
                prop.setdefault("title", label.en)
                prop.setdefault("description", f"{label.vi} / {label.en}")
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base_url.rstrip('/')}/v1/document-types/{self.code}/schema",
            **root,
            "title": f"{self.title.en} ({self.title.vi}): claims",
            **({"$defs": defs} if defs else {}),
        }

    def label(self, name: str) -> Label:
        if name == DERIVED_AGE_OVER_18:
            return Label("Đủ 18 tuổi", "Aged 18 or over")
        return self.labels[name]

    def parse(self, raw: Any) -> dict[str, Any]:
        """Validate claims from a request; returns them in canonical JSON form."""
        if not isinstance(raw, dict):
            raise DocumentInvalid([FieldError("claims", "must be an object")])
        try:
            value = msgspec.convert(raw, self.schema)
        except msgspec.ValidationError as exc:
            raise DocumentInvalid([_from_msgspec(str(exc))]) from None
        errors = list(self.check(value)) if self.check is not None else []
        if errors:
            raise DocumentInvalid(errors)
        stripped = _without_nulls(msgspec.to_builtins(value))
        assert isinstance(stripped, dict)
        return stripped

    def validity(self, claims: Mapping[str, Any]) -> tuple[dt.date, dt.date | None]:
        start = dt.date.fromisoformat(claims[self.valid_from_field])
        end = claims.get(self.valid_until_field) if self.valid_until_field else None
        return start, dt.date.fromisoformat(end) if end else None

    def expand(self, chosen: Iterable[str]) -> list[str]:
        """The fields actually disclosed for a choice: unknown names refused, groups completed."""
        chosen = list(dict.fromkeys(chosen))
        unknown = [f for f in chosen if f not in self.disclosable]
        if unknown:
            raise DocumentInvalid([FieldError(f, "no such field in this document") for f in unknown])
        result = set(chosen)
        for group in self.groups:
            if result & group:
                result |= group
        return [f for f in self.disclosable if f in result]

    def derive(self, name: str, claims: Mapping[str, Any], today: dt.date) -> Any:
        if name == DERIVED_AGE_OVER_18:
            dob = dt.date.fromisoformat(claims["date_of_birth"])
            try:
                eighteenth = dob.replace(year=dob.year + 18)
            except ValueError:  # born on 29 February
                eighteenth = dt.date(dob.year + 18, 3, 1)
            return today >= eighteenth
        raise KeyError(name)

    def reveal(self, claims: Mapping[str, Any], fields: Iterable[str], today: dt.date) -> dict[str, Any]:
        """The values of ``fields`` (already expanded), computing derived ones."""
        out: dict[str, Any] = {}
        for name in fields:
            if name in self.derived:
                out[name] = self.derive(name, claims, today)
            elif name in claims:
                out[name] = claims[name]
        return out

    def describe(self) -> dict[str, Any]:
        """The type's public description: labels, groups and card layout, for apps and verifiers."""
        return {
            "code": self.code,
            "title": self.title.as_dict(),
            "vct": self.vct,
            "fields": [{"name": n, "label": self.label(n).as_dict()} for n in self.disclosable],
            "groups": [sorted(g) for g in self.groups],
            "holder_claims": dict(self.holder_claims),
            "card": {
                "colour": self.card.colour,
                "headline": self.card.headline,
                "face": list(self.card.face),
                "back": list(self.card.back),
                "photo": self.card.photo,
            },
        }

    def render_card(self, claims: Mapping[str, Any], language: str) -> dict[str, Any]:
        """Card data for the app: title and labelled lines in the holder's language."""

        def line(name: str) -> dict[str, Any]:
            label = self.label(name)
            return {"field": name, "label": label.vi if language == "vi" else label.en, "value": claims.get(name)}

        title = self.title.vi if language == "vi" else self.title.en
        return {
            "title": title,
            "colour": self.card.colour,
            "headline": claims.get(self.card.headline),
            "face": [line(n) for n in self.card.face if n in claims],
            "back": [line(n) for n in self.card.back if n in claims],
            "photo": claims.get(self.card.photo) if self.card.photo else None,
        }


def _without_nulls(value: Any) -> Any:
    """Absent optional fields are left out rather than stored as null."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _from_msgspec(message: str) -> FieldError:
    # msgspec says e.g. "Expected `str` matching regex '...' - at `$.plate`"
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        return FieldError("claims", message)
    path = where.rstrip("`").removeprefix("$").lstrip(".") or "claims"
    return FieldError(path, text)
