"""Every change of a payment's state goes through the state machine (payments/disbursement/machine/).

- No SQL elsewhere writes ``payments.state``: the source says so.
- The machine's edges are the database's.
- Whatever happens, in any order (sends, faults, callbacks, lost workers, statements,
  reversals, deaths, wallets linked, windows ending), every recorded move is an allowed
  one and the ledger balances, every đồng of the batch in exactly one place.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import asyncpg
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.disbursement import dispatch, holds, machine
from payments.disbursement.dispatch import dispatch_once, recover_once
from payments.disbursement.reconciliation import reconcile_lines
from payments.disbursement.webhooks import PayoutEvent, apply_events
from payments.providers import PROVIDERS
from tests.disbursement.conftest import Agency, add_residents, approved_batch, csv_body, enrol, make_programme
from tests.disbursement.generated import PROVIDER_FAULTS, db_examples, faulty_provider
from tests.disbursement.ledger_checks import assert_money_in_one_place
from tests.disbursement.local_provider import LocalProvider, LocalRegistry
from tests.support.settings import replaced
from wallet_api.worker_context import WorkerContext

REPO = Path(__file__).resolve().parents[2]
MACHINE = Path(machine.__file__).resolve().parent

# An UPDATE of payments whose SET list assigns ``state``, or an INSERT naming the column.
_UPDATE = re.compile(
    r"UPDATE\s+payments(?:\s+(?!SET\b)\w+)?\s+SET\s+(?P<set>.*?)(?:\bFROM\b|\bWHERE\b|\bRETURNING\b|$)",
    re.IGNORECASE | re.DOTALL,
)
_SETS_STATE = re.compile(r"(?:^|,)\s*state\s*=", re.IGNORECASE)
_INSERT = re.compile(r"INSERT\s+INTO\s+payments\s*\((?P<columns>[^)]*)\)", re.IGNORECASE)
# The set-wise settling functions of migration 0404 (they write payments.state).
_SETTLING = re.compile(r"payments_mark_(?:succeeded|failed)\s*\(", re.IGNORECASE)


def _sql_texts(path: Path) -> list[str]:
    """Every string in a module, f-strings with their holes left empty."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append("".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values))
    return texts


def _writes_payment_state(sql: str) -> bool:
    if any(_SETS_STATE.search(m["set"]) for m in _UPDATE.finditer(sql)):
        return True
    if any(re.search(r"\bstate\b", m["columns"]) for m in _INSERT.finditer(sql)):
        return True
    return bool(_SETTLING.search(sql))


def _production_modules() -> list[Path]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    return [path for package in packages for path in sorted((REPO / package).rglob("*.py"))]


def test_no_sql_outside_the_state_machine_writes_a_payment_state() -> None:
    writers = {
        str(path.relative_to(REPO))
        for path in _production_modules()
        if any(_writes_payment_state(sql) for sql in _sql_texts(path))
    }
    inside = {w for w in writers if (REPO / w).resolve().is_relative_to(MACHINE)}
    assert writers - inside == set()
    # The scan does see the machine's own statements (every module of it but the face and the table).
    assert len(inside) == len([p for p in MACHINE.glob("*.py") if p.stem not in ("__init__", "moves")])


async def test_the_machine_allows_exactly_the_moves_the_database_allows(db: asyncpg.Pool) -> None:
    stored = {(r["from_state"], r["to_state"]) for r in await db.fetch("SELECT * FROM payment_state_edges")}
    assert stored == machine.EDGES
    assert {s for edge in stored for s in edge} == machine.STATES
    assert set().union(*(m.edges for m in machine.MOVES)) <= machine.EDGES


def test_a_move_along_an_edge_that_is_not_allowed_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match="not allowed"):
        machine.Move("pay_again", ("succeeded",), ("sending",))


_SETTINGS = db_examples(50)

_EVENTS = (
    "dispatch",
    "dispatch",
    "crash_after_claim",
    "lease_runs_out",
    "status_queries",
    "callback_paid",
    "callback_failed",
    "statement",
    "statement",
    "provider_reverses",
    "death",
    "wallet_linked",
    "hold_window_ends",
    "cancel_other_batch",
)

_case = st.fixed_dictionaries(
    {
        **PROVIDER_FAULTS,
        "status_checks": st.sampled_from([30, 1]),
        "events": st.lists(st.tuples(st.sampled_from(_EVENTS), st.integers(0, 10**6)), min_size=3, max_size=30),
    }
)


async def _recorded_moves(db: asyncpg.Pool, programme_id: uuid.UUID) -> set[tuple[str | None, str]]:
    rows = await db.fetch(
        """SELECT DISTINCT t.from_state, t.to_state FROM payment_transitions t
           JOIN payments p ON p.id = t.payment_id WHERE p.programme_id = $1""",
        programme_id,
    )
    return {(r["from_state"], r["to_state"]) for r in rows}


@dataclasses.dataclass
class _World:
    db: asyncpg.Pool
    client: httpx.AsyncClient
    agency: Agency
    ctx: WorkerContext
    provider: LocalProvider
    programme_id: uuid.UUID
    unlinked: list[Any]
    other_batch: str

    async def payment_ids(self, *states: str) -> list[uuid.UUID]:
        rows = await self.db.fetch(
            "SELECT id FROM payments WHERE programme_id = $1 AND state = ANY($2::text[]) ORDER BY id",
            self.programme_id,
            list(states),
        )
        return [r["id"] for r in rows]

    async def callback(self, pick: int, state: Literal["succeeded", "failed"]) -> None:
        # Mostly about payments still in flight (the ones a callback can move), sometimes late.
        ids = await self.payment_ids("sending", "unknown") or await self.payment_ids("succeeded", "failed")
        if not ids:
            return
        payment_id = ids[pick % len(ids)]
        event = PayoutEvent(str(uuid.uuid4()), str(payment_id), state, f"cb-{pick}", "rejected")
        async with self.db.acquire() as conn, conn.transaction():
            await apply_events(conn, self.provider.code, [event])

    async def statement(self) -> None:
        today = datetime.now(UTC).date()
        async with self.db.acquire() as conn:
            await reconcile_lines(conn, self.provider.code, today, self.provider.statement(today), "test")

    async def happen(self, event: str, pick: int) -> None:
        db, ctx = self.db, self.ctx
        if event == "dispatch":
            await dispatch_once(ctx)
        elif event == "crash_after_claim":
            await dispatch._claim(ctx)  # a worker that dies right after committing its claim
        elif event == "lease_runs_out":
            await db.execute("UPDATE payments SET lease_until = now() - interval '1 second' WHERE state = 'sending'")
            await recover_once(ctx)
        elif event == "status_queries":
            await db.execute("UPDATE payments SET next_check_at = now() WHERE state = 'unknown'")
            await recover_once(ctx)
        elif event == "callback_paid":
            await self.callback(pick, "succeeded")
        elif event == "callback_failed":
            await self.callback(pick, "failed")
        elif event == "statement":
            await self.statement()
        elif event == "provider_reverses":
            paid = sorted(p for p, b in self.provider.books.items() if b.reversed_at is None)
            if paid:
                self.provider.reverse(paid[pick % len(paid)])
                await self.statement()
        elif event == "death":
            await db.execute(
                """UPDATE population SET status = 'deceased' WHERE person_id = (
                       SELECT person_id FROM payments WHERE programme_id = $1 ORDER BY id OFFSET $2 LIMIT 1)""",
                self.programme_id,
                pick % 4,
            )
            await holds.sweep_holds_once(ctx)
        elif event == "wallet_linked":
            for r in self.unlinked:
                await db.execute(
                    """INSERT INTO wallet_links (account_id, provider, wallet_account, state, is_default, activated_at)
                       VALUES ($1, 'localpay', $2, 'active', true, now()) ON CONFLICT DO NOTHING""",
                    r.account_id,
                    f"w{r.person_id}",
                )
            async with db.acquire() as conn, conn.transaction():
                await holds.release_holds(conn, [r.account_id for r in self.unlinked])
        elif event == "hold_window_ends":
            await db.execute(
                "UPDATE payments SET hold_until = now() WHERE programme_id = $1 AND state = 'held'", self.programme_id
            )
            await holds.sweep_holds_once(ctx)
        elif event == "cancel_other_batch":
            await self.client.post(f"/v1/batches/{self.other_batch}/cancel", headers=self.agency.checker)


@pytest.mark.slow
@_SETTINGS
@given(case=_case)
async def test_any_sequence_of_events_makes_only_allowed_moves_and_keeps_the_ledger_balanced(
    client: httpx.AsyncClient, agency: Agency, db: asyncpg.Pool, worker_ctx: WorkerContext, case: dict[str, Any]
) -> None:
    provider = faulty_provider(case, seed=len(case["events"]))
    ctx = worker_ctx.replaced(
        services={PROVIDERS: LocalRegistry(provider)},
        settings=replaced(
            worker_ctx.settings,
            payout_not_found_grace_seconds=0,
            payout_claim_size=3,
            payout_status_max_checks=case["status_checks"],
        ),
    )
    linked = await add_residents(db, 4)
    provider.closed_wallets.update(str(r.wallet_account) for r in linked[: case["closed"]])
    unlinked = await add_residents(db, case["no_wallet"], wallet=False)
    people = linked + unlinked
    amounts = [100_000 * (i + 1) for i in range(len(people))]
    programme = await make_programme(client, agency, fixed_amount=None, budget=10 * sum(amounts))
    rows = [(p.person_id, str(a), "r") for p, a in zip(people, amounts, strict=True)]
    await enrol(client, agency, programme["id"], csv_body(rows))
    released = await approved_batch(client, agency, programme["id"], len(people), sum(amounts), cycle="2026-10")
    r = await client.post(f"/v1/batches/{released}/release", headers=agency.checker)
    assert r.status_code == 200, r.text
    other = await approved_batch(client, agency, programme["id"], len(people), sum(amounts), cycle="2026-11")
    world = _World(db, client, agency, ctx, provider, uuid.UUID(programme["id"]), unlinked, other)
    # Whatever happened, the provider's statement comes at the end.
    for event, pick in [*case["events"], ("statement", 0)]:
        await world.happen(event, pick)
        assert await _recorded_moves(db, world.programme_id) - {(None, "created")} <= machine.EDGES, event
        await assert_money_in_one_place(db, world.programme_id, sum(amounts))
    assert max(provider.executions.values(), default=0) <= 1
