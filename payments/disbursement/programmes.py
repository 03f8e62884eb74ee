"""Programmes and enrolment: who a welfare agency pays, checked against the registry set-wise.

An upload is streamed straight from the request body into ``COPY`` into a temporary
staging table, then every row is judged by one SQL statement (malformed ID, unknown
person, deceased, outside the programme's provinces, duplicate, already enrolled, bad
amount). Nothing is loaded whole into memory, so 1,000,000 rows cost what the database
costs. The registry here is the local ``population`` table; a real national registry would
need a bulk lookup interface (a file exchange or a set-based API), not one call per row.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg

from payments.disbursement import BULK_TIMEOUT, ledger
from payments.disbursement.csvcopy import quote_end_markers
from payments.disbursement.schemas import EnrolmentOut, ProgrammeIn, RuleEnrolmentIn
from wallet_api.kernel import Forbidden, NotFound, Principal, Problem, ValidationFailed, record

__all__ = [
    "CSV_HEADER",
    "create_programme",
    "enrol_by_rule",
    "enrol_upload",
    "programme_for",
    "programme_summary",
]

#: The first line of an enrolment file, exactly.
CSV_HEADER = "person_id,amount,agency_reference"

# The 4th digit of an ID number encodes century (and sex): 0/1 → 1900s, 2/3 → 2000s, ...
# A number whose century and year digits disagree with the registry's birth date is invalid.
_BIRTH_DIGITS_DISAGREE = """
    (1900 + (substr(s.pid, 4, 1)::int / 2) * 100 + substr(s.pid, 5, 2)::int)
        <> extract(year FROM pop.date_of_birth)::int
"""

# The report rows of a judged set (``judged``: line_no, person_id, amount, agency_reference,
# pid, refused): every refusal, and every accepted person without an active default wallet
# (enrolled, but a payment to them will be held until they link one).
_NOTED = """noted AS (
    INSERT INTO enrolment_rows (enrolment_id, line_no, person_id, amount, agency_ref, outcome, reason)
    SELECT $1, j.line_no, j.person_id, j.amount, j.agency_reference,
           CASE WHEN j.refused IS NULL THEN 'accepted' ELSE 'rejected' END, coalesce(j.refused, 'no_linked_wallet')
    FROM judged j
    WHERE j.refused IS NOT NULL OR NOT EXISTS (
        SELECT 1 FROM accounts a
        JOIN wallet_links l ON l.account_id = a.id AND l.state = 'active' AND l.is_default
        WHERE a.person_id = j.pid
    )
)"""

# ... and the accepted ones enrolled; the statement's row count is the number enrolled.
_ENROL_JUDGED = f"""{_NOTED}
INSERT INTO beneficiaries (programme_id, person_id, amount, agency_ref, enrolment_id, line_no)
SELECT $2, j.pid, coalesce($3::bigint, j.amount::bigint), j.agency_reference, $1, j.line_no
FROM judged j
WHERE j.refused IS NULL
"""

# Judge every staged row once (``judged``, materialised: each row's reason is computed a
# single time), note the rows with something to say in the report (rejected, or accepted
# without a linked wallet) and enrol the accepted ones, in one statement. An accepted row is
# written once, as a beneficiary carrying its line number; the report download adds it back
# (reports.REPORT_SQL). Enrolments of one programme are serialised by a lock on its row
# (``_LOCK``), so 'already_enrolled' is exact and a plain INSERT suffices
# (UNIQUE(programme_id, person_id) still refuses a double); ON CONFLICT's speculative
# insertion cost ~15 % of the statement. Duplicates within the file are found by sorting on
# the raw bytes (COLLATE "C"): the database's linguistic collation is slower and means nothing
# for digits.
_JUDGE = f"""
WITH judged AS MATERIALIZED (
    SELECT s.line_no, s.person_id, s.amount, s.agency_reference, s.pid, CASE
        WHEN s.pid IS NULL THEN 'malformed_id'
        WHEN pop.person_id IS NULL THEN 'unknown_person'
        WHEN {_BIRTH_DIGITS_DISAGREE} THEN 'malformed_id'
        WHEN $3::bigint IS NULL AND (s.amount IS NULL OR s.amount !~ '^[0-9]{{1,15}}$' OR s.amount::bigint = 0)
            THEN 'invalid_amount'
        WHEN $3::bigint IS NOT NULL AND s.amount IS NOT NULL AND s.amount <> ''
             AND (s.amount !~ '^[0-9]{{1,15}}$' OR s.amount::bigint <> $3::bigint) THEN 'invalid_amount'
        WHEN s.nth > 1 THEN 'duplicate_in_file'
        WHEN b.id IS NOT NULL THEN 'already_enrolled'
        WHEN pop.status = 'deceased' THEN 'deceased'
        WHEN cardinality($4::text[]) > 0 AND NOT (pop.residence_province::text = ANY ($4::text[]))
            THEN 'outside_province'
    END AS refused
    FROM (
        SELECT st.line_no, st.person_id, st.amount, st.agency_reference,
               CASE WHEN st.person_id ~ '^[0-9]{{12}}$' THEN st.person_id::char(12) END AS pid,
               row_number() OVER (PARTITION BY st.person_id COLLATE "C" ORDER BY st.line_no) AS nth
        FROM enrol_stage st
    ) s
    LEFT JOIN population pop ON pop.person_id = s.pid
    LEFT JOIN beneficiaries b ON b.programme_id = $2 AND b.person_id = s.pid
), {_ENROL_JUDGED}"""

_LOCK = "SELECT 1 FROM programmes WHERE id = $1 FOR NO KEY UPDATE"

# Memory for sorts, hashes and the judged rows of one enrolment (this transaction only). At
# the server's default a million-row file spills its duplicate sort, the registry hash and
# the materialised judgements to temporary files; in memory the statement costs ~20 % less
# CPU per row (15-16 against 19-20 us at 1,000,000 rows, docs/benchmarks.md). Uploads are
# rare and serialised per programme, so the memory is bounded by concurrent programmes.
_BULK_WORK_MEM = "256MB"

_COUNTS = """
SELECT outcome, reason, count(*) AS n FROM enrolment_rows WHERE enrolment_id = $1 GROUP BY outcome, reason
"""


async def programme_for(conn: asyncpg.Connection | asyncpg.Pool, programme_id: UUID, who: Principal) -> asyncpg.Record:
    """The programme, if it belongs to the caller's organisation (otherwise 404: no existence leak)."""
    row = await conn.fetchrow("SELECT * FROM programmes WHERE id = $1", programme_id)
    if row is None or row["org_id"] != who.org_id:
        raise NotFound("No such programme.")
    return row


async def create_programme(conn: asyncpg.Connection, who: Principal, body: ProgrammeIn) -> asyncpg.Record:
    org = await conn.fetchrow("SELECT kind, provinces, disabled_at FROM organisations WHERE id = $1", who.org_id)
    if org is None or org["kind"] != "welfare" or org["disabled_at"] is not None:
        raise Forbidden("Only an officer of an active welfare organisation may create programmes.")
    served = set(org["provinces"])
    wanted = set(body.provinces)
    if served and (not wanted or not wanted <= served):
        raise ValidationFailed(
            "A programme may only cover provinces its organisation serves.",
            errors=[{"key": "provinces", "message": f"allowed: {', '.join(sorted(served))}"}],
        )
    try:
        row = await conn.fetchrow(
            """INSERT INTO programmes (org_id, name, legal_basis, budget, amount_mode, fixed_amount, provinces,
                                       schedule, hold_days, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *""",
            who.org_id,
            body.name,
            body.legal_basis,
            body.budget,
            "fixed" if body.fixed_amount is not None else "per_row",
            body.fixed_amount,
            sorted(wanted or served),
            body.schedule,
            body.hold_days,
            who.key,
        )
    except asyncpg.UniqueViolationError:
        raise Problem(
            "Your organisation already has a programme with this name.",
            slug="programme-exists",
            title="Programme exists",
            status=409,
        ) from None
    assert row is not None
    await ledger.open_accounts(conn, row["id"], body.budget)
    await record(conn, actor=who.key, action="programme.created", subject=f"programme:{row['id']}")
    return row


async def programme_summary(conn: asyncpg.Connection | asyncpg.Pool, row: asyncpg.Record) -> dict[str, Any]:
    count = await conn.fetchval(
        "SELECT count(*) FROM beneficiaries WHERE programme_id = $1 AND state = 'active'", row["id"]
    )
    return {
        "id": str(row["id"]),
        "org_id": row["org_id"],
        "name": row["name"],
        "legal_basis": row["legal_basis"],
        "budget": row["budget"],
        "schedule": row["schedule"],
        "amount_mode": row["amount_mode"],
        "fixed_amount": row["fixed_amount"],
        "provinces": list(row["provinces"]),
        "hold_days": row["hold_days"],
        "beneficiaries": int(count),
        "ledger": await ledger.balances(conn, row["id"]),
        "created_at": row["created_at"],
    }


class _HeaderCheck:
    """Passes the body through after checking (and dropping) its header line."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.bytes = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = b""
        header_done = False
        async for chunk in self._chunks:
            self.bytes += len(chunk)
            if header_done:
                yield chunk
                continue
            pending += chunk
            if b"\n" not in pending:
                if len(pending) > 1024:
                    raise _bad_header()
                continue
            line, _, rest = pending.partition(b"\n")
            text = line.decode("utf-8", errors="replace").lstrip("\ufeff").strip().replace(" ", "").lower()
            if text != CSV_HEADER:
                raise _bad_header()
            header_done = True
            if rest:
                yield rest
        if not header_done:
            raise _bad_header()


def _bad_header() -> Problem:
    return ValidationFailed(
        f"The file must be CSV (UTF-8) whose first line is exactly: {CSV_HEADER}",
        slug="enrolment-file-invalid",
        title="The enrolment file is not valid",
    )


async def _begin_enrolment(conn: asyncpg.Connection, programme_id: UUID) -> None:
    """Serialise enrolments of the programme and give this transaction bulk memory."""
    await conn.execute(_LOCK, programme_id)
    await conn.execute("SELECT set_config('work_mem', $1, true)", _BULK_WORK_MEM)


async def enrol_upload(
    conn: asyncpg.Connection, who: Principal, programme: asyncpg.Record, body: AsyncIterable[bytes]
) -> EnrolmentOut:
    """Stream a CSV into staging, judge every row in SQL, enrol the accepted ones; one transaction."""
    started = time.perf_counter()
    async with conn.transaction():
        await _begin_enrolment(conn, programme["id"])
        enrolment_id = await conn.fetchval(
            "INSERT INTO enrolments (programme_id, source, created_by) VALUES ($1, 'upload', $2) RETURNING id",
            programme["id"],
            who.key,
        )
        await conn.execute(
            """CREATE TEMP TABLE enrol_stage (
                   line_no bigint GENERATED ALWAYS AS IDENTITY (START WITH 2),
                   person_id text, amount text, agency_reference text
               ) ON COMMIT DROP"""
        )
        try:
            await conn.copy_to_table(
                "enrol_stage",
                source=quote_end_markers(_HeaderCheck(body), 3),
                columns=["person_id", "amount", "agency_reference"],
                format="csv",
                timeout=BULK_TIMEOUT,
            )
        except (asyncpg.DataError, asyncpg.BadCopyFileFormatError, asyncpg.CharacterNotInRepertoireError) as exc:
            # PostgreSQL names the line (its count excludes the header line we dropped).
            where = getattr(exc, "context", None) or ""
            raise ValidationFailed(
                f"The file is not valid CSV with three columns: {exc.args[0] if exc.args else ''} {where}".strip(),
                slug="enrolment-file-invalid",
                title="The enrolment file is not valid",
            ) from None
        await conn.execute("ANALYZE enrol_stage")  # a temporary table has no statistics otherwise
        status = await conn.execute(
            _JUDGE,
            enrolment_id,
            programme["id"],
            programme["fixed_amount"],
            programme["provinces"],
            timeout=BULK_TIMEOUT,
        )
        out = await _finish(conn, who, enrolment_id, programme["id"], "upload", _inserted(status))
    out.seconds = round(time.perf_counter() - started, 3)
    return out


def _inserted(status: str) -> int:
    """The row count of an INSERT's command tag ('INSERT 0 <rows>')."""
    return int(status.rsplit(" ", 1)[1])


async def _finish(
    conn: asyncpg.Connection, who: Principal, enrolment_id: UUID, programme_id: UUID, source: str, accepted: int
) -> EnrolmentOut:
    """Count the judged rows onto the enrolment, audit it, and describe it (both enrolment paths).

    ``accepted`` is the number of beneficiaries the enrolment created; its report rows
    (enrolment_rows) are the refusals and the accepted people without a linked wallet.
    """
    rows = await conn.fetch(_COUNTS, enrolment_id, timeout=BULK_TIMEOUT)
    rejected = {r["reason"]: int(r["n"]) for r in rows if r["outcome"] == "rejected"}
    without_wallet = sum(r["n"] for r in rows if r["outcome"] == "accepted" and r["reason"] == "no_linked_wallet")
    total = accepted + sum(rejected.values())
    await conn.execute(
        "UPDATE enrolments SET rows = $2, accepted = $3, rejected = $4, without_wallet = $5 WHERE id = $1",
        enrolment_id,
        total,
        accepted,
        sum(rejected.values()),
        without_wallet,
    )
    await record(
        conn,
        actor=who.key,
        action="programme.enrolled",
        subject=f"programme:{programme_id}",
        details={"enrolment_id": str(enrolment_id), "rows": int(total), "accepted": int(accepted)},
    )
    return EnrolmentOut(
        id=str(enrolment_id),
        programme_id=str(programme_id),
        source=source,
        rows=int(total),
        accepted=int(accepted),
        rejected=int(sum(rejected.values())),
        without_wallet=int(without_wallet),
        rejected_by_reason=rejected,
        report_url=f"/v1/programmes/{programme_id}/enrolments/{enrolment_id}/report.csv"
        if source == "upload"
        else None,
        seconds=0.0,
    )


# Rule-based enrolment judges the matching residents as an upload judges its rows: the
# line number is the person's position in ID-number order.
_RULE = f"""
WITH judged AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY pop.person_id) AS line_no, pop.person_id::text AS person_id,
           $3::bigint::text AS amount, NULL::text AS agency_reference, pop.person_id AS pid,
           CASE WHEN b.id IS NOT NULL THEN 'already_enrolled' END AS refused
    FROM population pop
    LEFT JOIN beneficiaries b ON b.programme_id = $2 AND b.person_id = pop.person_id
    WHERE pop.status = 'alive'
      AND pop.residence_province = ANY ($4::text[])
      AND pop.date_of_birth <= (current_date - make_interval(years => $5))
      AND ($6::int IS NULL OR pop.date_of_birth > (current_date - make_interval(years => $6 + 1)))
), {_ENROL_JUDGED}"""


async def enrol_by_rule(
    conn: asyncpg.Connection, who: Principal, programme: asyncpg.Record, rule: RuleEnrolmentIn
) -> EnrolmentOut:
    """Enrol every living resident of the given provinces within an age range (fixed-amount programmes)."""
    if programme["fixed_amount"] is None:
        raise ValidationFailed(
            "Rule-based enrolment needs a programme with a fixed amount.", slug="programme-needs-fixed-amount"
        )
    scope = set(programme["provinces"])
    if scope and not set(rule.provinces) <= scope:
        raise ValidationFailed(
            "The rule names provinces outside the programme.",
            errors=[{"key": "provinces", "message": f"allowed: {', '.join(sorted(scope))}"}],
        )
    if rule.max_age is not None and rule.max_age < rule.min_age:
        raise ValidationFailed("max_age must not be below min_age.")
    started = time.perf_counter()
    async with conn.transaction():
        await _begin_enrolment(conn, programme["id"])
        enrolment_id = await conn.fetchval(
            "INSERT INTO enrolments (programme_id, source, rule, created_by) VALUES ($1, 'rule', $2, $3) RETURNING id",
            programme["id"],
            {"provinces": rule.provinces, "min_age": rule.min_age, "max_age": rule.max_age},
            who.key,
        )
        status = await conn.execute(
            _RULE,
            enrolment_id,
            programme["id"],
            programme["fixed_amount"],
            rule.provinces,
            rule.min_age,
            rule.max_age,
            timeout=BULK_TIMEOUT,
        )
        out = await _finish(conn, who, enrolment_id, programme["id"], "rule", _inserted(status))
    out.seconds = round(time.perf_counter() - started, 3)
    return out
