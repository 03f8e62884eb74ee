"""Wallet responses: SD-JWT VC presentations with key binding, checked, logged for the holder, read once."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from tests.documents.conftest import Citizen
from tests.openid4vp.conftest import (
    Request,
    credential,
    credential_of,
    dcql,
    library_presentation,
    open_request,
    presentation,
    response_form,
)

_ASKED = ["full_name", "photo_ref", "date_of_birth"]


async def _post(client: httpx.AsyncClient, request: Request, form: dict[str, str]) -> httpx.Response:
    return await client.post(request.payload["response_uri"], data=form)


async def _status(client: httpx.AsyncClient, request: Request, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.parametrize("mode", ["direct_post.jwt", "direct_post"])
async def test_the_verifier_gets_exactly_the_requested_claims_and_the_holder_sees_the_view(
    client: httpx.AsyncClient,
    held: str,
    holder: Citizen,
    bank: dict[str, str],
    db: asyncpg.Pool,
    mode: str,
) -> None:
    sd_jwt = held
    request = await open_request(client, bank, dcql_query=dcql(*_ASKED), response_mode=mode)
    p = request.payload
    shown = library_presentation(sd_jwt, holder, _ASKED, nonce=p["nonce"], aud=p["client_id"])
    r = await _post(client, request, response_form(request, {"licence": [shown]}))
    assert (r.status_code, r.json()) == (200, {})
    result = await _status(client, request, bank)
    assert result["status"] == "presented"
    licence = result["credentials"]["licence"]
    assert licence["claims"] == {
        "full_name": "Nguyễn Văn Hùng",
        "photo_ref": "sha256:4f0c5e2b9a",
        "date_of_birth": "1990-05-17",
    }
    assert licence["status"] == "valid" and licence["holder_binding"] == "verified"
    assert licence["issuer"] == {"id": "csgt", "name": "Cục Cảnh sát giao thông"}
    assert licence["document_type"] == "driving_licence" and licence["holder_level"] == 2
    assert set(licence["labels"]) == set(_ASKED)
    # Once: the claims left with that answer.
    assert (await _status(client, request, bank))["status"] == "delivered"
    # The holder's access log and the real-time event, as for every verification.
    log = (await client.get("/v1/me/access-log", headers=holder.headers)).json()["entries"]
    assert [(e["channel"], e["verifier_org_id"], e["outcome"], sorted(e["fields"])) for e in log] == [
        ("openid4vp", "bank-acb", "valid", sorted(_ASKED))
    ]
    event = await db.fetchrow("SELECT payload FROM outbox WHERE topic = 'document.viewed'")
    assert event is not None
    assert event["payload"]["verifier_name"] == "Ngân hàng ACB" and event["payload"]["channel"] == "openid4vp"


async def test_same_device_the_result_goes_only_to_the_session_the_wallet_returned_to(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str]
) -> None:
    sd_jwt = held
    request = await open_request(
        client, bank, dcql_query=dcql("date_of_birth"), redirect_uri="https://bank.example/kyc?step=2"
    )
    assert request.created["redirect_uri"] == "https://bank.example/kyc?step=2"
    p = request.payload
    shown = library_presentation(sd_jwt, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])
    r = await _post(client, request, response_form(request, {"licence": [shown]}))
    redirect = r.json()["redirect_uri"]
    assert redirect.startswith("https://bank.example/kyc?step=2&response_code=")
    code = redirect.rsplit("=", 1)[1]
    path = f"/v1/presentation-requests/{request.created['transaction_id']}"
    for wrong in ("", "?response_code=guessed"):
        r = await client.get(path + wrong, headers=bank)
        assert (r.status_code, r.json()["type"].rsplit("/", 1)[1]) == (403, "response-code-mismatch")
    result = (await client.get(f"{path}?response_code={code}", headers=bank)).json()
    assert result["status"] == "presented" and result["response_code"] == code


async def _refused(
    client: httpx.AsyncClient, request: Request, form: dict[str, str], bank: dict[str, str], reason: str
) -> None:
    r = await _post(client, request, form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    status = await _status(client, request, bank)
    assert status["status"] == "refused" and status["error"]["reason"] == reason, status


@pytest.mark.parametrize(
    ("flaw", "reason"),
    [
        ("wrong-nonce", "holder-binding"),
        ("wrong-aud", "holder-binding"),
        ("stale", "holder-binding"),
        ("no-key-binding", "holder-binding"),
        ("not-requested", "disclosure-not-requested"),
        ("too-few", "disclosure-not-requested"),
        ("other-query-id", "credential-not-requested"),
        ("tampered", "tampered"),
    ],
)
async def test_a_flawed_presentation_is_refused_and_nothing_is_logged(
    client: httpx.AsyncClient,
    held: str,
    holder: Citizen,
    bank: dict[str, str],
    db: asyncpg.Pool,
    flaw: str,
    reason: str,
) -> None:
    sd_jwt = held
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"), response_mode="direct_post")
    nonce, aud = request.payload["nonce"], request.payload["client_id"]
    claims, key = ["date_of_birth"], "licence"
    iat = None
    if flaw == "wrong-nonce":
        nonce = "another-transaction-nonce"
    elif flaw == "wrong-aud":
        aud = "x509_san_dns:evil.example"
    elif flaw == "stale":
        iat = int(time.time()) - 3600
    elif flaw == "not-requested":
        claims = ["date_of_birth", "place_of_residence"]
    elif flaw == "too-few":
        claims = []
    elif flaw == "other-query-id":
        key = "passport"
    shown = presentation(sd_jwt, holder, claims, nonce=nonce, aud=aud, iat=iat)
    if flaw == "no-key-binding":
        shown = shown[: shown.rindex("~") + 1]
    elif flaw == "tampered":
        shown = shown.replace(shown.split("~")[1], shown.split("~")[1][:-2] + "AA", 1)
    await _refused(client, request, response_form(request, {key: [shown]}), bank, reason)
    assert await db.fetchval("SELECT count(*) FROM document_views") == 0


async def test_a_response_is_taken_once_and_a_replay_is_refused(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str], db: asyncpg.Pool
) -> None:
    sd_jwt = held
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"))
    p = request.payload
    shown = presentation(sd_jwt, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])
    form = response_form(request, {"licence": [shown]})
    assert (await _post(client, request, form)).status_code == 200
    replay = await _post(client, request, form)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_request"
    assert await db.fetchval("SELECT count(*) FROM document_views") == 1
    # The same presentation replayed to another request of the same verifier: another nonce.
    second = await open_request(client, bank, dcql_query=dcql("date_of_birth"))
    await _refused(client, second, response_form(second, {"licence": [shown]}), bank, "holder-binding")


async def test_a_wrong_state_or_an_unknown_request_is_a_protocol_error_and_spoils_nothing(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str]
) -> None:
    sd_jwt = held
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"), response_mode="direct_post")
    p = request.payload
    token = {"licence": [presentation(sd_jwt, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])]}
    wrong = await _post(client, request, response_form(request, token, state="guessed"))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
    unknown = await client.post("/openid4vp/responses/nope", data=response_form(request, token))
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request"
    junk = await client.post(p["response_uri"], content=b"\xff\xfe", headers={"content-type": "text/plain"})
    assert junk.status_code == 400 and junk.json()["error"] == "invalid_request"
    # The request is still open for its wallet.
    assert (await _post(client, request, response_form(request, token))).status_code == 200


async def test_an_unencrypted_answer_to_an_encrypted_request_is_refused(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"))
    r = await _post(client, request, {"vp_token": "{}", "state": request.payload["state"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await _post(client, request, {"response": "not.a.jwe.at.all"})
    assert r.status_code == 400


async def test_an_oversized_response_is_refused_before_it_is_read(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"))
    r = await _post(client, request, {"response": "x" * (300 * 1024)})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/json") and r.json()["error"] == "invalid_request"


async def test_the_wallet_declining_is_told_to_the_verifier(client: httpx.AsyncClient, bank: dict[str, str]) -> None:
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"), response_mode="direct_post")
    r = await _post(client, request, {"error": "access_denied", "state": request.payload["state"]})
    assert (r.status_code, r.json()) == (200, {})
    status = await _status(client, request, bank)
    assert status["status"] == "refused" and status["error"]["error"] == "access_denied"


@pytest.mark.parametrize(("action", "reason"), [("revoke", "document-revoked"), ("suspend", "document-suspended")])
async def test_a_revoked_or_suspended_document_is_refused_and_logged_without_fields(
    client: httpx.AsyncClient,
    issuer: dict[str, str],
    holder: Citizen,
    bank: dict[str, str],
    db: asyncpg.Pool,
    action: str,
    reason: str,
) -> None:
    sd_jwt = await credential(client, issuer, holder)
    doc_id = await db.fetchval("SELECT id FROM documents")
    r = await client.post(f"/v1/agency/documents/{doc_id}/{action}", headers=issuer, json={"reason": "test"})
    assert r.status_code == 200, r.text
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"))
    p = request.payload
    token = {"licence": [presentation(sd_jwt, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])]}
    await _refused(client, request, response_form(request, token), bank, reason)
    rows = await db.fetch("SELECT outcome, fields FROM document_views")
    assert [(r["outcome"], r["fields"]) for r in rows] == [(reason, [])]


async def test_any_changed_character_of_a_presentation_is_refused_never_a_500(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str], db: asyncpg.Pool
) -> None:
    """Each change is made to a presentation bound to its own request (so only the change is wrong)."""
    changes: list[tuple[float, str]] = []

    @hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.floats(0, 1, exclude_max=True), st.sampled_from("AQgw_-~.%z9"))
    def collect(where: float, replacement: str) -> None:
        changes.append((where, replacement))

    collect()
    for where, replacement in changes:
        request = await open_request(client, bank, dcql_query=dcql("date_of_birth"), response_mode="direct_post")
        p = request.payload
        shown = presentation(held, holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])
        position = int(where * len(shown))
        if shown[position] == replacement:
            continue
        mutated = shown[:position] + replacement + shown[position + 1 :]
        r = await _post(client, request, response_form(request, {"licence": [mutated]}))
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", (position, r.text)
    assert await db.fetchval("SELECT count(*) FROM document_views") == 0


async def test_a_document_without_an_optional_field_answers_the_claim_set_without_it(
    client: httpx.AsyncClient, issuer: dict[str, str], holder: Citizen, bank: dict[str, str]
) -> None:
    from tests.documents.conftest import licence_claims

    claims = licence_claims()
    del claims["photo_ref"]
    sd_jwt = await credential_of(client, issuer, holder, claims)
    query = dcql("full_name", "photo_ref")
    query["credentials"][0]["claims"] = [{"id": "name", "path": ["full_name"]}, {"id": "photo", "path": ["photo_ref"]}]
    query["credentials"][0]["claim_sets"] = [["name", "photo"], ["name"]]
    request = await open_request(client, bank, dcql_query=query, response_mode="direct_post")
    p = request.payload
    shown = library_presentation(sd_jwt, holder, ["full_name"], nonce=p["nonce"], aud=p["client_id"])
    r = await _post(client, request, response_form(request, {"licence": [shown]}))
    assert (r.status_code, r.json()) == (200, {}), r.text
    assert (await _status(client, request, bank))["credentials"]["licence"]["claims"] == {
        "full_name": "Nguyễn Văn Hùng"
    }
