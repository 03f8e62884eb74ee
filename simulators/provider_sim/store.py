"""The simulator's own store: wallets, link consents, payouts, its ledger and webhooks.

A SQLite file (default ``.wallet/provider-sim/sim.sqlite3``), deliberately not our
PostgreSQL: the simulator stands for other companies' systems, so nothing of ours may read
or join its data, and it must survive our database being truncated by tests or rebuilt.
SQLite needs no server, persists across restarts, and one simulator process serialises
its writes anyway (WAL mode; every operation is a short transaction with no ``await``
inside, so the event loop is never held for long).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["PayoutOutcome", "SimStore", "Wallet"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS wallets (
    provider        TEXT    NOT NULL,
    wallet_account  TEXT    NOT NULL,
    owner_person_id TEXT    NOT NULL,
    owner_name      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active',
    txn_limit       INTEGER NOT NULL DEFAULT 100000000,
    balance         INTEGER NOT NULL DEFAULT 0,
    -- Ground truth for tests and benchmarks: owned, other_owner, name_variant, name_different.
    seed_kind       TEXT    NOT NULL DEFAULT 'owned',
    PRIMARY KEY (provider, wallet_account)
);
CREATE INDEX IF NOT EXISTS wallets_owner ON wallets (owner_person_id);
CREATE TABLE IF NOT EXISTS link_otps (
    provider        TEXT    NOT NULL,
    link_id         TEXT    NOT NULL,
    wallet_account  TEXT    NOT NULL,
    otp             TEXT    NOT NULL,
    created_at      REAL    NOT NULL,
    expires_at      REAL    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    confirmed_at    REAL,
    PRIMARY KEY (provider, link_id)
);
CREATE TABLE IF NOT EXISTS payouts (
    provider        TEXT    NOT NULL,
    payment_id      TEXT    NOT NULL,
    wallet_account  TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    description     TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    reason          TEXT,
    provider_ref    TEXT,
    created_at      REAL    NOT NULL,
    settles_at      REAL    NOT NULL,
    PRIMARY KEY (provider, payment_id)
);
CREATE TABLE IF NOT EXISTS ledger (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT    NOT NULL,
    provider_ref    TEXT    NOT NULL,
    payment_id      TEXT    NOT NULL,
    wallet_account  TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    at              REAL    NOT NULL,
    day             TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_day ON ledger (provider, day, seq);
CREATE TABLE IF NOT EXISTS webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    payment_id      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    due_at          REAL    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     TEXT,
    delivered_at    REAL,
    gave_up         INTEGER NOT NULL DEFAULT 0,
    -- Recorded but never sent (the "webhooks never sent" fault).
    dropped         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhooks (due_at) WHERE delivered_at IS NULL AND gave_up = 0 AND dropped = 0;
"""

#: Attempts before the simulator stops retrying a webhook delivery.
WEBHOOK_MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Wallet:
    provider: str
    wallet_account: str
    owner_person_id: str
    owner_name: str
    status: str
    txn_limit: int
    balance: int
    seed_kind: str


@dataclass(frozen=True)
class PayoutOutcome:
    payment_id: str
    outcome: str
    provider_ref: str | None
    reason: str | None
    #: True when this call created the payout (False: an idempotent repeat).
    created: bool


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def new_ref(provider: str) -> str:
    return f"{provider[:4].upper()}{int(time.time() * 1000):013d}{secrets.token_hex(4).upper()}"


class SimStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- wallets -------------------------------------------------------------------------

    def upsert_wallet(self, w: Wallet) -> None:
        self._db.execute(
            """INSERT INTO wallets (provider, wallet_account, owner_person_id, owner_name, status, txn_limit,
                                    balance, seed_kind)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (provider, wallet_account) DO UPDATE SET
                 owner_person_id = excluded.owner_person_id, owner_name = excluded.owner_name,
                 status = excluded.status, txn_limit = excluded.txn_limit, seed_kind = excluded.seed_kind""",
            (
                w.provider,
                w.wallet_account,
                w.owner_person_id,
                w.owner_name,
                w.status,
                w.txn_limit,
                w.balance,
                w.seed_kind,
            ),
        )

    def insert_wallets_if_absent(self, wallets: Iterable[Wallet]) -> int:
        before = self._db.total_changes
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                """INSERT OR IGNORE INTO wallets (provider, wallet_account, owner_person_id, owner_name, status,
                                                  txn_limit, balance, seed_kind)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        w.provider,
                        w.wallet_account,
                        w.owner_person_id,
                        w.owner_name,
                        w.status,
                        w.txn_limit,
                        w.balance,
                        w.seed_kind,
                    )
                    for w in wallets
                ],
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return self._db.total_changes - before

    def wallet(self, provider: str, wallet_account: str) -> Wallet | None:
        row = self._db.execute(
            "SELECT * FROM wallets WHERE provider = ? AND wallet_account = ?", (provider, wallet_account)
        ).fetchone()
        return Wallet(**dict(row)) if row else None

    def wallets(self, *, person_id: str | None = None, provider: str | None = None, limit: int = 1000) -> list[Wallet]:
        sql = "SELECT * FROM wallets WHERE 1 = 1"
        args: list[Any] = []
        if person_id:
            sql += " AND owner_person_id = ?"
            args.append(person_id)
        if provider:
            sql += " AND provider = ?"
            args.append(provider)
        sql += " ORDER BY provider, wallet_account LIMIT ?"
        args.append(limit)
        return [Wallet(**dict(r)) for r in self._db.execute(sql, args).fetchall()]

    def count_wallets(self) -> dict[str, int]:
        rows = self._db.execute("SELECT seed_kind, count(*) AS n FROM wallets GROUP BY seed_kind").fetchall()
        return {r["seed_kind"]: r["n"] for r in rows}

    # -- link consent (OTP) --------------------------------------------------------------

    def link_otp(self, provider: str, link_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(
            "SELECT * FROM link_otps WHERE provider = ? AND link_id = ?", (provider, link_id)
        ).fetchone()
        return row

    def issue_otp(self, provider: str, link_id: str, wallet_account: str, ttl: float) -> bool:
        """Create an OTP for the link unless a live one exists; True when a new one was made."""
        now = time.time()
        row = self.link_otp(provider, link_id)
        live = row is not None and (row["confirmed_at"] is not None or row["expires_at"] > now)
        if row is not None and row["wallet_account"] == wallet_account and live:
            return False
        otp = f"{secrets.randbelow(1_000_000):06d}"
        self._db.execute(
            """INSERT INTO link_otps (provider, link_id, wallet_account, otp, created_at, expires_at, attempts)
               VALUES (?, ?, ?, ?, ?, ?, 0)
               ON CONFLICT (provider, link_id) DO UPDATE SET wallet_account = excluded.wallet_account,
                 otp = excluded.otp, created_at = excluded.created_at, expires_at = excluded.expires_at,
                 attempts = 0, confirmed_at = NULL""",
            (provider, link_id, wallet_account, otp, now, now + ttl),
        )
        return True

    def confirm_otp(self, provider: str, link_id: str, wallet_account: str, otp: str, max_attempts: int) -> str | None:
        """None when consent is confirmed (also on a repeat), else the refusal code."""
        row = self.link_otp(provider, link_id)
        if row is None or row["wallet_account"] != wallet_account:
            return "otp_not_requested"
        if row["confirmed_at"] is not None:
            return None if secrets.compare_digest(row["otp"], otp) else "otp_invalid"
        if row["attempts"] >= max_attempts:
            return "otp_attempts_exceeded"
        if row["expires_at"] <= time.time():
            return "otp_expired"
        if not secrets.compare_digest(row["otp"], otp):
            self._db.execute(
                "UPDATE link_otps SET attempts = attempts + 1 WHERE provider = ? AND link_id = ?", (provider, link_id)
            )
            return "otp_attempts_exceeded" if row["attempts"] + 1 >= max_attempts else "otp_invalid"
        self._db.execute(
            "UPDATE link_otps SET confirmed_at = ? WHERE provider = ? AND link_id = ?", (time.time(), provider, link_id)
        )
        return None

    # -- payouts -------------------------------------------------------------------------

    def payout(
        self,
        provider: str,
        items: Sequence[dict[str, Any]],
        *,
        settle_delay: float,
        reject: Any,
        webhooks: Any = None,
    ) -> list[PayoutOutcome]:
        """Decide and record every item in one transaction; idempotent on payment_id.

        ``reject(item) -> str | None`` injects rejections (the "limit exceeded" fault).
        ``webhooks(created) -> [(event_id, payment_id, body, due_at, dropped)]`` gives the
        webhooks to queue for the payouts this call created; they are queued in the same
        transaction as the payouts (the provider's own outbox), so none is lost or extra.
        """
        now = time.time()
        out: list[PayoutOutcome] = []
        ids = [item["payment_id"] for item in items]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            existing: dict[str, Any] = {
                r["payment_id"]: r
                for r in self._db.execute(
                    f"""SELECT payment_id, wallet_account, amount, state, reason, provider_ref, settles_at
                        FROM payouts WHERE provider = ? AND payment_id IN ({",".join("?" * len(ids))})""",
                    (provider, *ids),
                )
            }
            accounts = sorted({item["wallet_account"] for item in items if item["payment_id"] not in existing})
            wallets = {
                r["wallet_account"]: r
                for r in self._db.execute(
                    f"""SELECT wallet_account, status, txn_limit FROM wallets
                        WHERE provider = ? AND wallet_account IN ({",".join("?" * len(accounts))})""",
                    (provider, *accounts),
                )
            }
            settles_at = now + settle_delay
            day = _day(settles_at)
            credits: list[tuple[int, str, str]] = []
            lines: list[tuple[Any, ...]] = []
            payouts: list[tuple[Any, ...]] = []
            created: list[dict[str, Any]] = []
            for item in items:
                payment_id = item["payment_id"]
                row = existing.get(payment_id)
                if row is not None:
                    if row["wallet_account"] != item["wallet_account"] or row["amount"] != item["amount"]:
                        out.append(PayoutOutcome(payment_id, "failed", None, "payment_id_conflict", created=False))
                        continue
                    outcome = row["state"] if row["settles_at"] <= now else "pending"
                    out.append(PayoutOutcome(payment_id, outcome, row["provider_ref"], row["reason"], created=False))
                    continue
                wallet = wallets.get(item["wallet_account"])
                reason: str | None
                if wallet is None:
                    reason = "account_not_found"
                elif wallet["status"] != "active":
                    reason = f"account_{wallet['status']}"
                elif item["amount"] > wallet["txn_limit"]:
                    reason = "limit_exceeded"
                else:
                    reason = reject(item)
                ref: str | None = None
                state = "failed"
                if reason is None:
                    ref = new_ref(provider)
                    state = "succeeded"
                    credits.append((item["amount"], provider, item["wallet_account"]))
                    lines.append(
                        (provider, ref, payment_id, item["wallet_account"], item["amount"], "payout", settles_at, day)
                    )
                payouts.append(
                    (provider, payment_id, item["wallet_account"], item["amount"], item["description"], state,
                     reason, ref, now, settles_at)
                )  # fmt: skip
                created.append(
                    {"payment_id": payment_id, "state": state, "reason": reason, "provider_ref": ref,
                     "amount": item["amount"], "settles_at": settles_at}
                )  # fmt: skip
                existing[payment_id] = {
                    "payment_id": payment_id, "wallet_account": item["wallet_account"], "amount": item["amount"],
                    "state": state, "reason": reason, "provider_ref": ref, "settles_at": settles_at,
                }  # fmt: skip
                outcome = state if settle_delay <= 0 else "pending"
                out.append(PayoutOutcome(payment_id, outcome, ref, reason, created=True))
            self._db.executemany(
                "UPDATE wallets SET balance = balance + ? WHERE provider = ? AND wallet_account = ?", credits
            )
            self._db.executemany(
                """INSERT INTO ledger (provider, provider_ref, payment_id, wallet_account, amount, kind, at, day)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                lines,
            )
            self._db.executemany(
                """INSERT INTO payouts (provider, payment_id, wallet_account, amount, description, state, reason,
                                        provider_ref, created_at, settles_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                payouts,
            )
            if webhooks is not None and created:
                self._db.executemany(
                    """INSERT INTO webhooks (provider, event_id, payment_id, body, due_at, dropped)
                       VALUES (?, ?, ?, ?, ?, ?)""",
                    [(provider, *w[:4], int(w[4])) for w in webhooks(created)],
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return out

    def payout_status(self, provider: str, payment_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT * FROM payouts WHERE provider = ? AND payment_id = ?", (provider, payment_id)
        ).fetchone()
        if row is None:
            return None
        state = row["state"] if row["settles_at"] <= time.time() else "pending"
        return {
            "payment_id": payment_id,
            "state": state,
            "amount": row["amount"],
            "provider_ref": row["provider_ref"],
            "reason": row["reason"] if state == "failed" else None,
        }

    def payout_row(self, provider: str, payment_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(
            "SELECT * FROM payouts WHERE provider = ? AND payment_id = ?", (provider, payment_id)
        ).fetchone()
        return row

    def statement(self, provider: str, day: str, after_seq: int, limit: int) -> list[sqlite3.Row]:
        """Ledger lines of ``day`` (UTC) that have settled, in order, after ``after_seq``."""
        return list(
            self._db.execute(
                """SELECT * FROM ledger WHERE provider = ? AND day = ? AND seq > ? AND at <= ?
                   ORDER BY seq LIMIT ?""",
                (provider, day, after_seq, time.time(), limit),
            ).fetchall()
        )

    # -- webhooks ------------------------------------------------------------------------

    def enqueue_webhook(
        self, provider: str, event_id: str, payment_id: str, body: str, due_at: float, *, dropped: bool = False
    ) -> None:
        self._db.execute(
            "INSERT INTO webhooks (provider, event_id, payment_id, body, due_at, dropped) VALUES (?, ?, ?, ?, ?, ?)",
            (provider, event_id, payment_id, body, due_at, int(dropped)),
        )

    def due_webhooks(self, limit: int) -> list[sqlite3.Row]:
        return list(
            self._db.execute(
                """SELECT * FROM webhooks WHERE delivered_at IS NULL AND gave_up = 0 AND dropped = 0 AND due_at <= ?
                   ORDER BY due_at LIMIT ?""",
                (time.time(), limit),
            ).fetchall()
        )

    def webhooks_tried(self, delivered: Sequence[tuple[int, str]], failed: Sequence[tuple[int, str]]) -> None:
        """Record a round of deliveries in one transaction: ``(webhook id, status)`` each."""
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "UPDATE webhooks SET delivered_at = ?, attempts = attempts + 1, last_status = ? WHERE id = ?",
                [(now, status, wid) for wid, status in delivered],
            )
            for wid, status in failed:
                self.webhook_failed(wid, status)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def webhook_delivered(self, webhook_id: int, status: str) -> None:
        self._db.execute(
            "UPDATE webhooks SET delivered_at = ?, attempts = attempts + 1, last_status = ? WHERE id = ?",
            (time.time(), status, webhook_id),
        )

    def webhook_failed(self, webhook_id: int, status: str) -> None:
        row = self._db.execute("SELECT attempts FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        attempts = (row["attempts"] if row else 0) + 1
        backoff = min(60.0, 0.5 * 2**attempts)
        self._db.execute(
            """UPDATE webhooks SET attempts = ?, last_status = ?, due_at = ?, gave_up = ? WHERE id = ?""",
            (attempts, status, time.time() + backoff, int(attempts >= WEBHOOK_MAX_ATTEMPTS), webhook_id),
        )

    def webhooks(self, provider: str | None = None, payment_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM webhooks WHERE 1 = 1"
        args: list[Any] = []
        if provider:
            sql += " AND provider = ?"
            args.append(provider)
        if payment_id:
            sql += " AND payment_id = ?"
            args.append(payment_id)
        sql += " ORDER BY id LIMIT 10000"
        return [dict(r) for r in self._db.execute(sql, args).fetchall()]
