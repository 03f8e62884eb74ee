"""documents/verdict.py: the document verdict reads the same in Python and in the access-log statement's SQL."""

from __future__ import annotations

import datetime as dt

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.statuslist import INVALID, SUSPENDED, VALID
from documents.verdict import document_verdict, document_verdict_sql, window_verdict

_DAYS = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    state=st.sampled_from(["active", "suspended", "revoked"]),
    status=st.none() | st.sampled_from([VALID, INVALID, SUSPENDED]),
    valid_until=st.none() | _DAYS,
    today=_DAYS,
)
async def test_python_and_sql_give_the_same_verdict(
    db: asyncpg.Pool, state: str, status: int | None, valid_until: dt.date | None, today: dt.date
) -> None:
    sql = document_verdict_sql(state="$1::text", status="$2::smallint", valid_until="$3::date", today="$4::date")
    in_sql = await db.fetchval(f"SELECT {sql}", state, status, valid_until, today)
    assert in_sql == document_verdict(state=state, status=status, valid_until=valid_until, today=today)


def test_revoked_comes_before_suspended_and_expired() -> None:
    until, today = dt.date(2025, 1, 1), dt.date(2025, 1, 2)
    assert document_verdict(state="revoked", status=SUSPENDED, valid_until=until, today=today) == "document-revoked"
    assert document_verdict(state="active", status=SUSPENDED, valid_until=until, today=today) == "document-suspended"
    assert document_verdict(state="active", valid_until=until, today=today) == "document-expired"
    assert document_verdict(status=VALID, valid_until=dt.date(2025, 1, 2), today=dt.date(2025, 1, 2)) == "valid"


def test_the_validity_window_allows_the_leeway_either_side() -> None:
    assert window_verdict(1060, not_before=1000, expires=1000, leeway=60) is None
    assert window_verdict(1061, not_before=1000, expires=1000, leeway=60) == "expired"
    assert window_verdict(939, not_before=1000, expires=2000, leeway=60) == "not-yet-valid"
    assert window_verdict(5, not_before=None, expires=None, leeway=0) is None
