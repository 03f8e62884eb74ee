"""The agency API: issue, update, suspend, reinstate, revoke, bulk."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import asyncpg
import httpx

from documents.types.fields import MAX_PORTRAIT_BYTES
from tests.documents.conftest import id_card_claims, issue, licence_claims, portrait_uri


async def _events(db: asyncpg.Pool, topic: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT payload FROM outbox WHERE topic = $1 AND consumer = 'notifications.inbox' ORDER BY id", topic
    )
    return [r["payload"] for r in rows]


async def test_issue_creates_a_document_and_an_event(
    client: httpx.AsyncClient, issuer: dict[str, str], holder: Any, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    assert doc["state"] == "active" and doc["version"] == 1
    assert doc["valid_until"] == "2035-06-10"
    events = await _events(db, "document.issued")
    assert events == [
        {
            "account_id": holder.account_id,
            "document_id": doc["id"],
            "doc_type": "driving_licence",
            "issuer_org_id": "csgt",
            "version": 1,
        }
    ]


async def test_issue_is_idempotent_on_the_agency_number(client: httpx.AsyncClient, issuer: dict[str, str]) -> None:
    body = {
        "doc_type": "driving_licence",
        "agency_ref": "GPLX-1",
        "holder_id": "001090012345",
        "claims": licence_claims(),
    }
    first = await client.post("/v1/agency/documents", headers=issuer, json=body)
    again = await client.post("/v1/agency/documents", headers=issuer, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    body["claims"] = licence_claims(points=10)
    other = await client.post("/v1/agency/documents", headers=issuer, json=body)
    assert other.status_code == 409
    assert other.json()["type"].endswith("/document-exists")


async def test_invalid_fields_are_a_clear_problem(client: httpx.AsyncClient, issuer: dict[str, str]) -> None:
    r = await client.post(
        "/v1/agency/documents",
        headers=issuer,
        json={
            "doc_type": "driving_licence",
            "agency_ref": "X1",
            "holder_id": "001090012345",
            "claims": licence_claims(points=20),
        },
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["key"] == "claims.points"


async def test_a_portrait_must_be_a_small_jpeg_or_png(client: httpx.AsyncClient, issuer: dict[str, str]) -> None:
    def png(data: bytes) -> str:
        return "data:image/png;base64," + base64.b64encode(data).decode()

    large = png(b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(MAX_PORTRAIT_BYTES - 7))
    refused = [
        (png(b"not a picture"), "is not a PNG image"),
        (large, f"is larger than {MAX_PORTRAIT_BYTES} bytes"),
        (large + "AAAA", "length <="),
        ("https://example.com/face.jpg", "regex"),
    ]
    for n, (portrait, message) in enumerate(refused):
        r = await client.post(
            "/v1/agency/documents",
            headers=issuer,
            json={
                "doc_type": "driving_licence",
                "agency_ref": f"P{n}",
                "holder_id": "001090012345",
                "claims": licence_claims(portrait=portrait),
            },
        )
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert error["key"] == "claims.portrait" and message in error["message"], error
    ok = licence_claims(portrait=portrait_uri())
    r = await client.post(
        "/v1/agency/documents",
        headers=issuer,
        json={"doc_type": "driving_licence", "agency_ref": "P-ok", "holder_id": "001090012345", "claims": ok},
    )
    assert r.status_code == 201, r.text


async def test_only_allowed_types_and_scopes(client: httpx.AsyncClient, make_org: Any, holder: Any) -> None:
    insurer = await make_org("baoviet", "issuer", types=["vehicle_liability_insurance"], scopes={"documents:issue"})
    r = await client.post(
        "/v1/agency/documents",
        headers=insurer,
        json={"doc_type": "chip_id_card", "agency_ref": "X", "holder_id": "001090012345", "claims": id_card_claims()},
    )
    assert r.status_code == 403 and r.json()["type"].endswith("/document-type-not-allowed")
    r = await client.post("/v1/agency/documents", headers=holder.headers, json={})
    assert r.status_code == 403


async def test_another_agency_cannot_touch_my_document(
    client: httpx.AsyncClient, issuer: dict[str, str], make_org: Any
) -> None:
    doc = await issue(client, issuer)
    other = await make_org("other", "issuer", types=["driving_licence"], scopes={"documents:issue"})
    r = await client.post(f"/v1/agency/documents/{doc['id']}/revoke", headers=other, json={"reason": "x"})
    assert r.status_code == 404


async def test_update_makes_a_new_version(
    client: httpx.AsyncClient, issuer: dict[str, str], db: asyncpg.Pool, holder: Any
) -> None:
    doc = await issue(client, issuer)
    r = await client.put(f"/v1/agency/documents/{doc['id']}", headers=issuer, json={"claims": licence_claims(points=9)})
    assert r.status_code == 200 and r.json()["version"] == 2
    same = await client.put(
        f"/v1/agency/documents/{doc['id']}", headers=issuer, json={"claims": licence_claims(points=9)}
    )
    assert same.json()["version"] == 2
    assert [e["version"] for e in await _events(db, "document.updated")] == [2]


async def test_suspend_reinstate_revoke(
    client: httpx.AsyncClient, issuer: dict[str, str], db: asyncpg.Pool, holder: Any
) -> None:
    doc = await issue(client, issuer)
    base = f"/v1/agency/documents/{doc['id']}"
    assert (await client.post(f"{base}/suspend", headers=issuer, json={"reason": "investigation"})).json()[
        "state"
    ] == "suspended"
    assert (await client.post(f"{base}/reinstate", headers=issuer, json={})).json()["state"] == "active"
    r = await client.post(f"{base}/revoke", headers=issuer, json={})
    assert r.status_code == 422
    r = await client.post(f"{base}/revoke", headers=issuer, json={"reason": "licence withdrawn by court"})
    assert r.json()["state"] == "revoked" and r.json()["state_reason"] == "licence withdrawn by court"
    r = await client.post(f"{base}/reinstate", headers=issuer, json={})
    assert r.status_code == 409 and r.json()["type"].endswith("/document-state")
    for topic in ("document.suspended", "document.reinstated", "document.revoked"):
        assert len(await _events(db, topic)) == 1
    revoked = (await _events(db, "document.revoked"))[0]
    assert revoked["account_id"] == holder.account_id and revoked["reason"] == "licence withdrawn by court"


async def test_bulk_issue_gives_a_result_per_row(
    client: httpx.AsyncClient, issuer: dict[str, str], db: asyncpg.Pool
) -> None:
    rows: list[dict[str, Any]] = [
        {
            "doc_type": "driving_licence",
            "agency_ref": f"B-{i}",
            "holder_id": "001090012345",
            "claims": licence_claims(points=i % 13),
        }
        for i in range(30)
    ]
    rows.append(
        {
            "doc_type": "driving_licence",
            "agency_ref": "B-bad",
            "holder_id": "001090012345",
            "claims": licence_claims(points=99),
        }
    )
    rows.append({"doc_type": "no_such_type", "agency_ref": "B-x", "holder_id": "001090012345", "claims": {}})
    rows.append(dict(rows[0]))  # the same row twice: unchanged
    rows.append({**rows[1], "claims": licence_claims(points=0, full_name="Khác")})  # same number, other contents
    r = await client.post("/v1/agency/documents/bulk", headers=issuer, json={"documents": rows})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["unchanged"], body["rejected"]) == (30, 1, 3)
    statuses = [row["status"] for row in body["rows"]]
    assert statuses[:30] == ["created"] * 30
    assert statuses[30:] == ["rejected", "rejected", "unchanged", "rejected"]
    assert body["rows"][30]["errors"][0]["key"] == "claims.points"
    again = (await client.post("/v1/agency/documents/bulk", headers=issuer, json={"documents": rows[:30]})).json()
    assert again["unchanged"] == 30
    assert await db.fetchval("SELECT count(*) FROM documents") == 30
    assert len(await _events(db, "document.issued")) == 30


async def test_bulk_issue_of_ten_thousand_rows_in_one_request(
    client: httpx.AsyncClient, issuer: dict[str, str], db: asyncpg.Pool
) -> None:
    rows: list[dict[str, Any]] = [
        {
            "doc_type": "vehicle_registration",
            "agency_ref": f"DK-{i:06d}",
            "holder_id": "001090012345",
            "claims": {
                "plate": f"30A-{i // 100 % 1000:03d}.{i % 100:02d}",
                "owner_name": "Nguyễn Văn Hùng",
                "owner_address": "Phường Láng Thượng, quận Đống Đa, Hà Nội",
                "vehicle_kind": "car",
                "brand": "VinFast",
                "model": "VF 8",
                "colour": "Trắng",
                "chassis_number": f"RLLV{i:013d}",
                "engine_number": f"EV{i:010d}",
                "registration_date": "2024-03-15",
            },
        }
        for i in range(10_000)
    ]
    rows[1234]["claims"]["plate"] = "30A 123.45"
    r = await client.post("/v1/agency/documents/bulk", headers=issuer, json={"documents": rows}, timeout=300)
    assert r.status_code == 200
    body = r.json()
    assert (body["created"], body["unchanged"], body["rejected"]) == (9_999, 0, 1)
    assert body["rows"][1234]["errors"][0]["key"] == "claims.plate"
    assert len(body["rows"]) == 10_000
    assert await db.fetchval("SELECT count(*) FROM documents WHERE doc_type = 'vehicle_registration'") == 9_999


async def test_bulk_issue_from_an_ndjson_file(client: httpx.AsyncClient, issuer: dict[str, str]) -> None:
    lines = [
        json.dumps(
            {
                "doc_type": "driving_licence",
                "agency_ref": f"F-{i}",
                "holder_id": "001090012345",
                "claims": licence_claims(),
            }
        )
        for i in range(3)
    ]
    lines.insert(1, "{not json")
    r = await client.post(
        "/v1/agency/documents/bulk-file",
        headers={**issuer, "content-type": "application/x-ndjson"},
        content="\n".join(lines).encode(),
    )
    assert r.status_code == 200, r.text
    assert [row["status"] for row in r.json()["rows"]] == ["created", "rejected", "created", "created"]
