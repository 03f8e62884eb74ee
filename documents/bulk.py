"""Bulk issuing: back-filling an agency's existing register in one request, row by row.

Rows are validated first (each bad row gets its own errors, and the problem type the
single-document route would answer with, and the rest go on), their holders checked
against the population registry in one lookup (documents/holders.py), then inserted in
chunks, each chunk one transaction with one multi-row insert and one batch of outbox
events. Re-sending the same file is harmless: rows already issued with the same contents
come back ``unchanged``.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from documents.holders import holder_refusal
from documents.schemas import BulkIssueResult, BulkRow, IssueRequest
from documents.types import DocumentInvalid, get_type
from wallet_api.accounts.registry import PopulationRegistry, RegistryUnavailable
from wallet_api.accounts.registry.problem import registry_down
from wallet_api.kernel import Forbidden, JsonTooDeep, Principal, decode_json, problem_type, publish_many, record

__all__ = ["bulk_issue", "ndjson_rows"]

_CHUNK = 2000


def ndjson_rows(body: bytes) -> list[Any]:
    """The rows of a register export in NDJSON (line *n* is row *n - 1*); a line that is not JSON is ``None``."""
    rows: list[Any] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(decode_json(line))
        except (msgspec.DecodeError, JsonTooDeep):
            rows.append(None)  # reported as a rejected row, the others go on
    return rows


def _rejected(row: int, slug: str, errors: list[dict[str, str]]) -> BulkRow:
    return BulkRow(row=row, status="rejected", errors=errors, problem=problem_type(slug))


async def bulk_issue(
    pool: asyncpg.Pool, principal: Principal, rows: list[Any], registry: PopulationRegistry
) -> BulkIssueResult:
    org = await pool.fetchrow(
        "SELECT kind, document_types, disabled_at FROM organisations WHERE id = $1", principal.org_id
    )
    if org is None or org["kind"] != "issuer" or org["disabled_at"] is not None:
        raise Forbidden("Your organisation does not issue documents.", slug="document-type-not-allowed")
    allowed = set(org["document_types"])
    results: dict[int, BulkRow] = {}
    valid: list[tuple[int, IssueRequest, dict[str, Any], Any, Any]] = []
    for i, raw in enumerate(rows):
        try:
            req = msgspec.convert(raw, IssueRequest)
        except msgspec.ValidationError as exc:
            results[i] = _rejected(i, "validation", [{"key": "row", "message": str(exc)}])
            continue
        doc_type = get_type(req.doc_type)
        if doc_type is None or req.doc_type not in allowed:
            errors = [{"key": "doc_type", "message": "not a type you may issue"}]
            results[i] = _rejected(i, "document-type-not-allowed", errors)
            continue
        try:
            claims = doc_type.parse(req.claims)
        except DocumentInvalid as exc:
            errors = [{"key": f"claims.{e.field}", "message": e.message} for e in exc.errors]
            results[i] = _rejected(i, "document-invalid", errors)
            continue
        valid_from, valid_until = doc_type.validity(claims)
        valid.append((i, req, claims, valid_from, valid_until))
    valid = await _with_known_holders(registry, valid, results)

    for start in range(0, len(valid), _CHUNK):
        chunk = valid[start : start + _CHUNK]
        async with pool.acquire() as conn, conn.transaction():
            await _insert_chunk(conn, principal, chunk, results)

    ordered = [results[i] for i in sorted(results)]
    counts = {s: sum(1 for r in ordered if r.status == s) for s in ("created", "unchanged", "rejected")}
    async with pool.acquire() as conn, conn.transaction():
        await record(
            conn, actor=principal.key, action="document.bulk_issue", subject=f"org:{principal.org_id}", details=counts
        )
    return BulkIssueResult(rows=ordered, **counts)


async def _with_known_holders(
    registry: PopulationRegistry,
    valid: list[tuple[int, IssueRequest, dict[str, Any], Any, Any]],
    results: dict[int, BulkRow],
) -> list[tuple[int, IssueRequest, dict[str, Any], Any, Any]]:
    """The rows whose identity claims match their holder's registry record; the others are rejected."""
    try:
        people = await registry.lookup_many([r[1].holder_id for r in valid])
    except RegistryUnavailable as exc:
        raise registry_down() from exc
    kept = []
    for row in valid:
        i, req, claims = row[0], row[1], row[2]
        doc_type = get_type(req.doc_type)
        assert doc_type is not None
        refusal = holder_refusal(doc_type, claims, people.get(req.holder_id))
        if refusal is None:
            kept.append(row)
        else:
            results[i] = _rejected(i, refusal.slug, refusal.extensions["errors"])
    return kept


async def _insert_chunk(
    conn: asyncpg.Connection,
    principal: Principal,
    chunk: list[tuple[int, IssueRequest, dict[str, Any], Any, Any]],
    results: dict[int, BulkRow],
) -> None:
    inserted = await conn.fetch(
        """INSERT INTO documents (issuer_org_id, doc_type, agency_ref, holder_id, claims, valid_from, valid_until)
           SELECT $1, t.doc_type, t.agency_ref, t.holder_id, t.claims, t.valid_from, t.valid_until
           FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::date[], $7::date[])
                AS t(doc_type, agency_ref, holder_id, claims, valid_from, valid_until)
           ON CONFLICT (issuer_org_id, doc_type, agency_ref) DO NOTHING
           RETURNING id, doc_type, agency_ref, holder_id, version, issuer_org_id""",
        principal.org_id,
        [r[1].doc_type for r in chunk],
        [r[1].agency_ref for r in chunk],
        [r[1].holder_id for r in chunk],
        [r[2] for r in chunk],
        [r[3] for r in chunk],
        [r[4] for r in chunk],
    )
    created = {(r["doc_type"], r["agency_ref"]): r for r in inserted}
    leftovers = [r for r in chunk if (r[1].doc_type, r[1].agency_ref) not in created]
    existing: dict[tuple[str, str], asyncpg.Record] = {}
    if leftovers:
        found = await conn.fetch(
            """SELECT d.id, d.doc_type, d.agency_ref, d.holder_id, d.claims FROM documents d
               JOIN unnest($2::text[], $3::text[]) AS t(doc_type, agency_ref)
                 ON d.doc_type = t.doc_type AND d.agency_ref = t.agency_ref
               WHERE d.issuer_org_id = $1""",
            principal.org_id,
            [r[1].doc_type for r in leftovers],
            [r[1].agency_ref for r in leftovers],
        )
        existing = {(r["doc_type"], r["agency_ref"]): r for r in found}
    first: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for i, req, claims, _, _ in chunk:
        natural = (req.doc_type, req.agency_ref)
        made = created.get(natural)
        if made is not None and natural not in first:
            first[natural] = (req.holder_id, claims)
            results[i] = BulkRow(row=i, status="created", document_id=made["id"])
            continue
        if made is not None:  # a second row with the same number in this very request
            document_id = made["id"]
            holder_id, earlier = first[natural]
        else:
            other = existing[natural]
            document_id, holder_id, earlier = other["id"], other["holder_id"], other["claims"]
        if holder_id == req.holder_id and earlier == claims:
            results[i] = BulkRow(row=i, status="unchanged", document_id=document_id)
        else:
            results[i] = BulkRow(
                row=i,
                status="rejected",
                document_id=document_id,
                errors=[{"key": "agency_ref", "message": "a document with this number exists with other contents"}],
                problem=problem_type("document-exists"),
            )
    accounts = dict(
        await conn.fetch(
            "SELECT person_id, id FROM accounts WHERE person_id = ANY($1::text[])",
            list({r["holder_id"] for r in inserted}),
        )
    )
    await publish_many(
        conn,
        "document.issued",
        (
            (
                str(r["id"]),
                {
                    "account_id": str(accounts[r["holder_id"]]) if r["holder_id"] in accounts else None,
                    "document_id": str(r["id"]),
                    "doc_type": r["doc_type"],
                    "issuer_org_id": r["issuer_org_id"],
                    "version": r["version"],
                },
            )
            for r in inserted
        ),
    )
