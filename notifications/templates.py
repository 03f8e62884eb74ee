"""Texts for every notification, in Vietnamese and English, from one data file.

``templates.json`` beside this module is the only place a notification's wording lives:
categories (and which a citizen may switch off), per-event texts with variants, and the
names of codes found in payloads (document types, fields, e-wallet providers). Code here
only chooses a variant and fills in parameters, formatted for the language: amounts in
đồng with the local digit grouping, dates and times in Vietnam's time zone (UTC+7, no
daylight saving).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CATEGORIES",
    "LANGUAGES",
    "Category",
    "Language",
    "Rendered",
    "category_of",
    "known_kinds",
    "render",
]

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")

_VIETNAM = timezone(timedelta(hours=7))
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    mandatory: bool
    #: On or off by default, per channel preference the category names (``push``, ``sms``);
    #: a mandatory category forces on those it turns on.
    defaults: dict[str, bool]
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str
    #: The push title: fixed text per event, never with parameters.
    push: str
    sms: str | None
    #: A code the app maps to a screen (``link_wallet``), and its button label.
    action: str | None
    action_label: str | None


@cache
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((Path(__file__).parent / "templates.json").read_text(encoding="utf-8"))
    return loaded


def _categories() -> dict[str, Category]:
    return {
        code: Category(
            code,
            bool(c["mandatory"]),
            {k: v for k, v in c.items() if isinstance(v, bool) and k != "mandatory"},
            {lang: c[lang] for lang in LANGUAGES},
        )
        for code, c in _data()["categories"].items()
    }


CATEGORIES: dict[str, Category] = _categories()


def known_kinds() -> tuple[str, ...]:
    return tuple(_data()["events"])


def category_of(kind: str) -> str:
    return str(_data()["events"][kind]["category"])


def _document_label(table: str, code: str, language: Language, doc_type: object) -> str | None:
    """Names the documents domain gives its own types and fields (its plugins own them)."""
    from documents.types import get_type

    spec = get_type(str(doc_type if table == "field" else code))
    if spec is None:
        return None
    label = spec.title if table == "doc_type" else spec.labels.get(code)
    if label is None:
        return None
    text = str(getattr(label, language))
    # English names are used mid-sentence ("Your driving licence"); keep acronyms as they are.
    if language == "en" and len(text) > 1 and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _name(table: str, code: object, language: Language, doc_type: object = None) -> str:
    if table in ("doc_type", "field"):
        label = _document_label(table, str(code), language, doc_type)
        if label is not None:
            return label
    names = _data()["names"][table]
    entry = names.get(str(code)) or names.get("default")
    if entry is None:
        # An unknown code is shown as sent (a new document type the templates do not know yet).
        return str(code).replace("_", " ")
    return str(entry[language])


def _amount(value: object, language: Language) -> str:
    try:
        dong = int(str(value))
    except ValueError:
        return str(value)
    grouped = f"{dong:,}"
    return f"{grouped.replace(',', '.')} ₫" if language == "vi" else f"{grouped} VND"


def _date(value: object, language: Language) -> str:
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d.day:02d}/{d.month:02d}/{d.year}" if language == "vi" else f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"


def _time(value: object, language: Language) -> str:
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    local = t.astimezone(_VIETNAM)
    if language == "vi":
        return f"{local:%H:%M} ngày {local.day:02d}/{local.month:02d}/{local.year}"
    return f"{local:%H:%M} on {local.day} {_EN_MONTHS[local.month - 1]} {local.year} (Vietnam time)"


def _display_params(params: dict[str, Any], language: Language) -> dict[str, str]:
    """Turn stored parameters (codes, integers, ISO dates) into text for ``language``."""
    out: dict[str, str] = {}
    if "amount" in params:
        out["amount"] = _amount(params["amount"], language)
    if "programme_name" in params:
        out["programme"] = str(params["programme_name"])
    if "doc_type" in params:
        out["doc"] = _name("doc_type", params["doc_type"], language)
    if "expires_on" in params:
        out["expires_on"] = _date(params["expires_on"], language)
    if "verifier_name" in params:
        out["verifier"] = str(params["verifier_name"])
    if "fields" in params:
        fields = params["fields"] if isinstance(params["fields"], list) else [params["fields"]]
        out["fields"] = ", ".join(_name("field", f, language, params.get("doc_type")) for f in fields)
    if "level" in params:
        out["level"] = str(params["level"])
    if "provider" in params:
        out["provider"] = _name("provider", params["provider"], language)
    if "hold_until" in params:
        out["hold_until"] = _time(params["hold_until"], language) if params["hold_until"] else ""
    if "reason" in params:
        out["reason"] = _name("link_reason", params["reason"] or "default", language)
    return out


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


_FORMATTER = string.Formatter()


def _fill(template: str, values: dict[str, str]) -> str:
    return _FORMATTER.vformat(template, (), _Blank(values))


def render(
    kind: str, params: dict[str, Any], language: Language, *, about_child: bool = False, child_name: str | None = None
) -> Rendered:
    """The texts of a notification of ``kind`` with ``params`` in ``language``.

    ``about_child``: the notice is a copy, in a guardian's inbox, of one about the account of
    a child they manage; the texts say so (naming the child in the inbox only: the push
    title and SMS never carry the name).
    """
    event = _data()["events"][kind]
    variants = event["variants"]
    selector = event.get("variant_by")
    variant = variants.get(str(params.get(selector))) if selector else None
    if variant is None:
        variant = variants["default"]
    text = variant[language]
    values = _display_params(params, language)
    sms = text.get("sms")
    title = _fill(text["title"], values)
    body = _fill(text["body"], values)
    push = text["push"]
    sms_text = _fill(sms, values) if sms else None
    if about_child:
        wrap = _data()["guardian"][language]
        child = child_name or wrap["child"]
        title = wrap["title"].format(child=child, title=title)
        body = wrap["body"].format(child=child, body=body)
        push = wrap["push"].format(push=push)
        sms_text = wrap["sms"]
    return Rendered(
        title=title,
        body=body,
        push=push,
        sms=sms_text,
        action=variant.get("action"),
        action_label=text.get("action"),
    )
