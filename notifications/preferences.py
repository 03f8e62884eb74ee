"""The citizen's choice of channels per category: one row per (account, category, channel
preference), only where the citizen chose; everything else is the category's default.

A preference is what a citizen turns on or off (``push``, ``sms``, ``email``): the channels
(notifications/channels/) declare which one they answer to, and which preferences exist is
known only from them, never from a list in SQL. A mandatory category (security notices)
forces on every preference it turns on by default, whatever a row says; preferences it does
not name (e-mail) stay the citizen's choice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

import asyncpg

from notifications.channels import preference_defaults
from notifications.templates import CATEGORIES, Category

__all__ = ["PREFERENCES", "Choices", "chosen", "forced", "is_on", "load", "save"]

#: Every preference, by name, with its default where a category names none.
PREFERENCES: dict[str, bool] = preference_defaults()

#: (category, preference) -> on, as the citizen chose (rows only).
Choices = Mapping[tuple[str, str], bool]

_LOAD = """SELECT account_id, category, channel, enabled FROM notification_preferences
           WHERE account_id = ANY($1::uuid[])"""
_SAVE = """
INSERT INTO notification_preferences (account_id, category, channel, enabled)
SELECT $1, c, p, e FROM unnest($2::text[], $3::text[], $4::bool[]) AS t(c, p, e)
ON CONFLICT (account_id, category, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()
"""


def forced(category: Category) -> set[str]:
    """The preferences a mandatory category keeps on."""
    return {p for p, on in category.defaults.items() if on} if category.mandatory else set()


def is_on(category: Category, preference: str, choices: Choices) -> bool:
    default = category.defaults.get(preference, PREFERENCES.get(preference, False))
    if preference in forced(category):
        return True
    return choices.get((category.code, preference), default)


def chosen(choices: Choices) -> dict[str, dict[str, bool]]:
    """Every category's every preference, as it applies."""
    return {code: {p: is_on(cat, p, choices) for p in PREFERENCES} for code, cat in CATEGORIES.items()}


async def load(
    conn: asyncpg.Pool | asyncpg.Connection, accounts: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[tuple[str, str], bool]]:
    """The rows of these accounts: account -> (category, preference) -> on."""
    out: dict[uuid.UUID, dict[tuple[str, str], bool]] = {}
    for r in await conn.fetch(_LOAD, list(accounts)):
        out.setdefault(r["account_id"], {})[(r["category"], r["channel"])] = r["enabled"]
    return out


async def save(conn: asyncpg.Connection, account_id: uuid.UUID, choices: Choices) -> None:
    if choices:
        keys = list(choices)
        await conn.execute(_SAVE, account_id, [k[0] for k in keys], [k[1] for k in keys], [choices[k] for k in keys])
