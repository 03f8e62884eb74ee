"""Government documents are delivered, shown and presented only at identification level 2:
a level-1 account sees that its documents exist and how to reach level 2, nothing more."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.documents.conftest import Citizen, id_card_claims, issue, presentation_proof

_LEVEL = "https://citizenwallet.vn/problems/identification-level"


@pytest.fixture
async def level_one(make_citizen: Any) -> Citizen:
    citizen: Citizen = await make_citizen(level=1)
    return citizen


def _is_level_problem(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == _LEVEL and body["required_level"] == 2
    assert body["ways"] == ["chip-and-face-in-app", "police-desk"]


async def test_a_level_one_account_sees_only_that_its_documents_exist(
    client: httpx.AsyncClient, issuer: Any, level_one: Citizen
) -> None:
    doc = await issue(client, issuer, doc_type="chip_id_card", holder_id=level_one.person_id)
    r = await client.get("/v1/me/documents", headers=level_one.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["level"] == 1
    assert body["locked_because"]["type"] == _LEVEL and body["locked_because"]["required_level"] == 2
    assert body["locked_because"]["ways"] == ["chip-and-face-in-app", "police-desk"]
    [listed] = body["documents"]
    assert listed["id"] == doc["id"] and listed["doc_type"] == "chip_id_card" and listed["locked"] is True
    assert "card" not in listed
    claims = id_card_claims()
    for value in (claims["full_name"], claims["id_number"], claims["date_of_birth"], claims["place_of_residence"]):
        assert value not in r.text


async def test_a_level_one_account_cannot_open_download_or_present_a_document(
    client: httpx.AsyncClient, db: asyncpg.Pool, issuer: Any, level_one: Citizen
) -> None:
    doc = await issue(client, issuer, doc_type="chip_id_card", holder_id=level_one.person_id)
    doc_id = doc["id"]
    _is_level_problem(await client.get(f"/v1/me/documents/{doc_id}", headers=level_one.headers))
    _is_level_problem(await client.get(f"/v1/me/documents/{doc_id}/credential", headers=level_one.headers))
    for mode, path in (("online", "presentations"), ("offline", "offline-presentations")):
        proof = presentation_proof(level_one, doc_id, ["full_name"], mode=mode)
        r = await client.post(f"/v1/me/documents/{doc_id}/{path}", headers=level_one.headers, json={"proof": proof})
        _is_level_problem(r)
    assert await db.fetchval("SELECT count(*) FROM credentials") == 0
    # Someone else's document is still simply not found, whatever the level.
    r = await client.get(f"/v1/me/documents/{uuid.uuid4()}", headers=level_one.headers)
    assert r.status_code == 404


async def test_documents_open_as_soon_as_the_police_raise_the_account(
    client: httpx.AsyncClient, issuer: Any, level_one: Citizen, mint: Any
) -> None:
    doc = await issue(client, issuer, doc_type="chip_id_card", holder_id=level_one.person_id)
    police = await mint(
        kind="officer", subject=str(uuid.uuid4()), org_id="police-hn", roles=frozenset({"police_officer"})
    )
    r = await client.post(
        "/v1/identity/level-2",
        headers=police,
        json={"person_id": level_one.person_id, "chip_card_checked": True, "biometrics_checked": True},
    )
    assert r.status_code == 200, r.text
    # The same access token (still saying level 1): the level is read from the account.
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=level_one.headers)
    assert r.status_code == 200, r.text
    listing = (await client.get("/v1/me/documents", headers=level_one.headers)).json()
    assert listing["level"] == 2 and "locked_because" not in listing
    assert listing["documents"][0]["locked"] is False and listing["documents"][0]["card"]["headline"]
    r = await client.post(
        f"/v1/me/documents/{doc['id']}/offline-presentations",
        headers=level_one.headers,
        json={"proof": presentation_proof(level_one, doc["id"], ["full_name"], mode="offline")},
    )
    assert r.status_code == 201, r.text
