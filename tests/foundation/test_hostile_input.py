"""The ten causes of a 500 an outside review found (issue 14, item 4): each is now a 4xx problem.

Five need no credentials (a NUL in a token's ``kid``, in the issuer-metadata path, JSON
nested deeper than the decoder's limit, a webhook signature timestamp too large for a float,
a non-ASCII ``v1=``); the others need a token (integers beyond 64 bits, NUL in text bound
for PostgreSQL). The every-route fuzz test (test_no_server_errors.py) sends the same classes
of input to every route, so a new route cannot bring them back; these pin the exact cases.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from payments.providers.signing import sign_webhook
from tests.documents.conftest import add_to_registry, licence_claims
from tests.foundation.test_no_server_errors import kid_token

NUL = "\u0000"
BEYOND_INT64 = 2**64 + 1


def _problem(r: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    return body


async def test_a_nul_in_a_token_kid_is_an_invalid_token_even_on_health(client: httpx.AsyncClient) -> None:
    token = kid_token("key" + NUL + "1")
    _problem(await client.get("/health/live", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")


async def test_a_nul_in_the_issuer_metadata_path_is_a_bad_request(client: httpx.AsyncClient) -> None:
    _problem(await client.get("/.well-known/jwt-vc-issuer/issuers/cs%00gt"), 400, "nul-character")


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("path", ["/v1/auth/challenges", "/v1/registrations", "/v1/auth/refresh"])
async def test_json_nested_deeper_than_the_limit_is_a_bad_request(client: httpx.AsyncClient, path: str) -> None:
    r = await client.post(path, content=_nested(955), headers={"content-type": "application/json"})
    _problem(r, 400, "json-too-deep")


async def test_json_nested_deeply_in_an_object_field_is_a_bad_request(client: httpx.AsyncClient) -> None:
    body = b'{"payload":' + _nested(5000) + b"}"
    r = await client.post("/v1/auth/sign-in", content=body, headers={"content-type": "application/json"})
    _problem(r, 400, "json-too-deep")


@pytest.mark.parametrize("path", ["/v1/auth/challenges", "/v1/auth/sign-in", "/v1/registrations"])
async def test_a_body_that_is_not_utf8_is_a_bad_request(client: httpx.AsyncClient, path: str) -> None:
    """In a string, both decoders raise UnicodeDecodeError, not their own error: it was answered as a 500."""
    r = await client.post(path, content=b'{"device_id": "\xff"}', headers={"content-type": "application/json"})
    assert _problem(r, 400, "bad-request")["detail"] == "The body is not valid UTF-8."
    r = await client.post(path, content=b"\xfe\xff", headers={"content-type": "application/json"})
    _problem(r, 400, "bad-request")  # outside a string it is malformed JSON, as before


async def test_ordinary_nesting_still_decodes(client: httpx.AsyncClient) -> None:
    """The limit is far above anything a real request nests: a validation problem, not a depth one."""
    r = await client.post("/v1/auth/challenges", content=_nested(20), headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and not r.json()["type"].endswith("/json-too-deep"), r.text


async def test_a_webhook_timestamp_too_large_for_a_float_is_unauthorized(client: httpx.AsyncClient) -> None:
    body = b'{"event_id": "e1", "payment_id": "p1", "state": "succeeded"}'
    header = sign_webhook("dev-momo-webhook-secret", body, timestamp=10**400)["Wallet-Signature"]
    r = await client.post("/v1/providers/momo/payout-events", content=body, headers={"Wallet-Signature": header})
    _problem(r, 401)


async def test_a_non_ascii_webhook_signature_is_unauthorized(client: httpx.AsyncClient) -> None:
    body = b'{"event_id": "e1", "payment_id": "p1", "state": "succeeded"}'
    header = f"t={int(time.time())},v1=".encode() + "é".encode("latin-1") * 64
    r = await client.post("/v1/providers/momo/payout-events", content=body, headers={b"Wallet-Signature": header})
    _problem(r, 401)


@pytest.fixture
async def citizen(mint: Any, db: asyncpg.Pool) -> dict[str, str]:
    account_id = await db.fetchval(
        "INSERT INTO accounts (person_id, phone, level) VALUES ('001090099999', '0900009999', 2) RETURNING id"
    )
    headers: dict[str, str] = await mint(kind="citizen", subject=str(account_id), level=2, device_id=str(uuid.uuid4()))
    return headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/notifications/{BEYOND_INT64}"),
        ("DELETE", f"/v1/notifications/{BEYOND_INT64}"),
        ("POST", f"/v1/notifications/{BEYOND_INT64}/read"),
        ("GET", f"/v1/notifications/{-BEYOND_INT64}"),
    ],
)
async def test_a_notification_id_beyond_64_bits_is_refused(
    client: httpx.AsyncClient, citizen: dict[str, str], method: str, path: str
) -> None:
    r = await client.request(method, path, headers=citizen)
    assert 400 <= r.status_code < 500, r.text


async def test_a_cursor_beyond_64_bits_is_an_invalid_cursor(client: httpx.AsyncClient, citizen: dict[str, str]) -> None:
    r = await client.get("/v1/notifications", params={"cursor": str(BEYOND_INT64)}, headers=citizen)
    _problem(r, 400, "invalid-cursor")


async def test_up_to_beyond_64_bits_is_a_validation_problem(client: httpx.AsyncClient, citizen: dict[str, str]) -> None:
    r = await client.post("/v1/notifications/read-all", json={"up_to": BEYOND_INT64}, headers=citizen)
    _problem(r, 422, "validation")


@pytest.fixture
async def welfare(mint: Any, db: asyncpg.Pool) -> dict[str, dict[str, str]]:
    await db.execute(
        "INSERT INTO organisations (id, kind, name, provinces) VALUES ('welfare-x', 'welfare', 'W', '{001}')"
    )
    await db.execute("INSERT INTO organisations (id, kind, name) VALUES ('platform', 'admin', 'Platform operator')")

    async def officer(role: str, org: str = "welfare-x") -> dict[str, str]:
        return dict(await mint(kind="officer", subject=str(uuid.uuid4()), org_id=org, roles=frozenset({role})))

    return {"maker": await officer("welfare_maker"), "operator": await officer("admin", "platform")}


def _programme(**over: Any) -> dict[str, Any]:
    return {
        "name": "Trợ cấp",
        "legal_basis": "Nghị định 20/2021/NĐ-CP",
        "budget": 10_000_000,
        "schedule": "monthly",
        "fixed_amount": 500_000,
        "provinces": ["001"],
        **over,
    }


async def test_control_count_beyond_64_bits_is_a_validation_problem(
    client: httpx.AsyncClient, welfare: dict[str, dict[str, str]]
) -> None:
    r = await client.post("/v1/programmes/", json=_programme(), headers=welfare["maker"])
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/programmes/{r.json()['id']}/batches",
        json={"cycle": "2026-11", "control_count": BEYOND_INT64, "control_sum": 1},
        headers=welfare["maker"],
    )
    _problem(r, 422, "validation")


async def test_a_nul_in_a_programme_name_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, welfare: dict[str, dict[str, str]], db: asyncpg.Pool
) -> None:
    r = await client.post("/v1/programmes/", json=_programme(name="Trợ" + NUL + "cấp"), headers=welfare["maker"])
    _problem(r, 400, "nul-character")
    assert await db.fetchval("SELECT count(*) FROM programmes") == 0


async def test_a_nul_in_the_reconciliation_provider_is_refused(
    client: httpx.AsyncClient, welfare: dict[str, dict[str, str]]
) -> None:
    r = await client.post(
        "/v1/reconciliations",
        params={"provider": "mo" + NUL + "mo", "day": "2026-11-02"},
        content=b"payment_id,provider_ref,wallet_account,amount,kind,at\n",
        headers={**welfare["operator"], "content-type": "text/csv"},
    )
    _problem(r, 400, "nul-character")


@pytest.fixture
async def issuer(mint: Any, db: asyncpg.Pool) -> dict[str, str]:
    await db.execute(
        "INSERT INTO organisations (id, kind, name, document_types)"
        " VALUES ('csgt', 'issuer', 'CSGT', '{driving_licence}')"
    )
    await db.execute("INSERT INTO accounts (person_id, phone, level) VALUES ('001090012345', '0900012345', 2)")
    await add_to_registry(db, "001090012345")
    headers: dict[str, str] = await mint(
        kind="client", subject="csgt-client", org_id="csgt", scopes=frozenset({"documents:issue"})
    )
    return headers


def _licence(**over: Any) -> dict[str, Any]:
    claims = licence_claims(**over)
    return {"doc_type": "driving_licence", "agency_ref": "GPLX-1", "holder_id": "001090012345", "claims": claims}


async def test_a_nul_in_a_document_claim_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, issuer: dict[str, str], db: asyncpg.Pool
) -> None:
    r = await client.post("/v1/agency/documents", json=_licence(place_of_residence="Hà Nội" + NUL), headers=issuer)
    _problem(r, 400, "nul-character")
    r = await client.post("/v1/agency/documents", json=_licence(**{"na" + NUL + "me": "x"}), headers=issuer)
    _problem(r, 422, "document-invalid")
    assert await db.fetchval("SELECT count(*) FROM documents") == 0


async def test_a_nul_in_a_revocation_reason_is_refused_and_the_document_stays_active(
    client: httpx.AsyncClient, issuer: dict[str, str], db: asyncpg.Pool
) -> None:
    r = await client.post("/v1/agency/documents", json=_licence(), headers=issuer)
    assert r.status_code == 201, r.text
    document_id = r.json()["id"]
    r = await client.post(f"/v1/agency/documents/{document_id}/revoke", json={"reason": "lost" + NUL}, headers=issuer)
    _problem(r, 400, "nul-character")
    assert await db.fetchval("SELECT state FROM documents WHERE id = $1", uuid.UUID(document_id)) == "active"
