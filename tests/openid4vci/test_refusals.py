"""Every refusal of the issuer, over HTTP against the real PostgreSQL and Redis: in OAuth's
error format, never a 500, and nothing stored (no credential row, the offer still usable
where the refusal was the wallet's mistake)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.documents.conftest import Citizen, issue
from tests.openid4vci.test_issuance import offer_from_app, payload_of
from tests.openid4vci.wallet import ISSUER, PRE_AUTHORIZED, Wallet, key_proof, public_jwk

CREDENTIAL_URL = f"{ISSUER}/openid4vci/credential"
TOKEN_URL = f"{ISSUER}/openid4vci/token"


def error_of(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    return str(r.json()["error"])


async def stored(db: asyncpg.Pool, document_id: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM credentials WHERE document_id = $1", document_id))


@pytest.fixture
async def offered(client: httpx.AsyncClient, issuer: Any, holder: Citizen) -> dict[str, Any]:
    """A licence offered from the app: the document, the offer answer and its pre-authorized code."""
    doc = await issue(client, issuer)
    made = await offer_from_app(client, holder, doc["id"])
    offer = await Wallet(client).offer(made["offer"])
    return {"doc": doc, "made": made, "code": offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]}


@pytest.fixture
async def token(client: httpx.AsyncClient, offered: dict[str, Any]) -> tuple[Wallet, str, str]:
    """A wallet holding a DPoP-bound access token for the offered licence, and its id."""
    wallet = Wallet(client)
    r = await wallet.token(offered["code"], offered["made"]["tx_code"])
    assert r.status_code == 200, r.text
    return wallet, r.json()["access_token"], offered["doc"]["id"]


# --- token endpoint ------------------------------------------------------------------------


async def test_a_wrong_tx_code_is_invalid_grant_and_the_right_one_still_works(
    client: httpx.AsyncClient, offered: dict[str, Any]
) -> None:
    wallet = Wallet(client)
    wrong = "000000" if offered["made"]["tx_code"] != "000000" else "111111"
    assert error_of(await wallet.token(offered["code"], wrong)) == "invalid_grant"
    assert error_of(await wallet.token(offered["code"], None)) == "invalid_request"
    assert (await wallet.token(offered["code"], offered["made"]["tx_code"])).status_code == 200


async def test_an_offer_dies_after_too_many_wrong_tx_codes(
    client: httpx.AsyncClient, offered: dict[str, Any], db: asyncpg.Pool
) -> None:
    wallet = Wallet(client)
    right = offered["made"]["tx_code"]
    wrong = [f"{n:06d}" for n in range(10) if f"{n:06d}" != right][:5]
    for guess in wrong:
        assert error_of(await wallet.token(offered["code"], guess)) == "invalid_grant"
    r = await wallet.token(offered["code"], right)
    assert error_of(r) == "invalid_grant" and "void" in r.json()["error_description"]
    assert (
        await db.fetchval("SELECT tx_failures FROM credential_offers WHERE id = $1", offered["made"]["offer_id"]) == 5
    )
    # The offer URI answers no more either.
    assert (await client.get(offered["made"]["credential_offer_uri"].removeprefix(ISSUER))).status_code == 404


async def test_a_pre_authorized_code_is_single_use(client: httpx.AsyncClient, offered: dict[str, Any]) -> None:
    wallet = Wallet(client)
    assert (await wallet.token(offered["code"], offered["made"]["tx_code"])).status_code == 200
    r = await wallet.token(offered["code"], offered["made"]["tx_code"])
    assert error_of(r) == "invalid_grant" and "already used" in r.json()["error_description"]


async def test_an_expired_pre_authorized_code_is_invalid_grant(
    client: httpx.AsyncClient, offered: dict[str, Any], db: asyncpg.Pool
) -> None:
    await db.execute(
        "UPDATE credential_offers SET expires_at = now() - interval '1 second' WHERE id = $1",
        offered["made"]["offer_id"],
    )
    r = await Wallet(client).token(offered["code"], offered["made"]["tx_code"])
    assert error_of(r) == "invalid_grant" and "expired" in r.json()["error_description"]


async def test_an_unknown_code_and_grant_type_are_refused(client: httpx.AsyncClient) -> None:
    wallet = Wallet(client)
    assert error_of(await wallet.token("not-a-code", "123456")) == "invalid_grant"
    r = await client.post(
        "/openid4vci/token",
        data={"grant_type": "password"},
        headers={"DPoP": wallet.dpop("POST", TOKEN_URL)},
    )
    assert error_of(r) == "unsupported_grant_type"
    r = await client.post("/openid4vci/token", json={"grant_type": PRE_AUTHORIZED})
    assert error_of(r) == "invalid_request"


async def test_the_token_endpoint_requires_a_fresh_unused_dpop_proof_for_itself(
    client: httpx.AsyncClient, offered: dict[str, Any]
) -> None:
    wallet = Wallet(client)
    code, tx = offered["code"], offered["made"]["tx_code"]
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code, "tx_code": tx}
    r = await client.post("/openid4vci/token", data=form)
    assert error_of(r) == "invalid_dpop_proof"
    for bad in (
        wallet.dpop("POST", CREDENTIAL_URL),  # another URL
        wallet.dpop("GET", TOKEN_URL),  # another method
        wallet.dpop("POST", TOKEN_URL, iat=int(dt.datetime.now().timestamp()) - 3600),  # stale
        wallet.dpop("POST", TOKEN_URL)[:-4] + "AAAA",  # tampered signature
    ):
        assert error_of(await wallet.token(code, tx, dpop=bad)) == "invalid_dpop_proof"
    proof = wallet.dpop("POST", TOKEN_URL)
    assert (await wallet.token(code, tx, dpop=proof)).status_code == 200
    # The same proof again: refused by its jti before the grant is even looked at.
    assert error_of(await wallet.token(code, tx, dpop=proof)) == "invalid_dpop_proof"


# --- credential endpoint -------------------------------------------------------------------


async def test_a_nonce_is_spent_by_one_request(token: tuple[Wallet, str, str], db: asyncpg.Pool) -> None:
    wallet, access, document_id = token
    nonce = await wallet.nonce()
    body = {
        "credential_identifier": document_id,
        "proofs": {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), nonce)]},
    }
    assert (await wallet.credential(access, body)).status_code == 200
    body["proofs"] = {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), nonce)]}
    assert error_of(await wallet.credential(access, body)) == "invalid_nonce"
    body["proofs"] = {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), "never-issued")]}
    assert error_of(await wallet.credential(access, body)) == "invalid_nonce"
    assert await stored(db, document_id) == 1


async def test_key_proof_refusals_store_nothing(token: tuple[Wallet, str, str], db: asyncpg.Pool) -> None:
    wallet, access, document_id = token
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    nonce = await wallet.nonce()
    cases = {
        "signed by another key than the jwk it claims": key_proof(key, nonce, jwk=public_jwk(other)),
        "another audience": key_proof(key, nonce, aud="https://elsewhere.example"),
        "stale": key_proof(key, nonce, iat=int(dt.datetime.now().timestamp()) - 3600),
        "not a key proof": key_proof(key, nonce, typ="JWT"),
        "no nonce": key_proof(key, None),
    }
    for why, proof in cases.items():
        r = await wallet.credential(access, {"credential_identifier": document_id, "proofs": {"jwt": [proof]}})
        assert error_of(r) == "invalid_proof", why
    same_key = [key_proof(key, nonce), key_proof(key, nonce)]
    r = await wallet.credential(access, {"credential_identifier": document_id, "proofs": {"jwt": same_key}})
    assert error_of(r) == "invalid_proof"
    malformed: list[Any] = [{}, {"jwt": []}, {"di_vp": [{}]}, None]
    for proofs in malformed:
        r = await wallet.credential(access, {"credential_identifier": document_id, "proofs": proofs})
        assert error_of(r) == "invalid_proof"
    assert await stored(db, document_id) == 0
    # The nonce was never spent by a refused request: it still works.
    r = await wallet.credential(
        access, {"credential_identifier": document_id, "proofs": {"jwt": [key_proof(key, nonce)]}}
    )
    assert r.status_code == 200, r.text


async def test_a_token_fetches_at_most_a_batch_of_each_identifier(
    token: tuple[Wallet, str, str], db: asyncpg.Pool
) -> None:
    wallet, access, document_id = token
    _, r = await wallet.batch(access, document_id, 7)
    assert r.status_code == 200
    _, r = await wallet.batch(access, document_id, 4)
    assert error_of(r) == "credential_request_denied"
    _, r = await wallet.batch(access, document_id, 3)
    assert r.status_code == 200
    # The mdoc of the same licence is another identifier, with its own batch.
    _, r = await wallet.batch(access, f"{document_id}:mdoc", 10)
    assert r.status_code == 200, r.text
    assert await stored(db, document_id) == 20


async def test_a_refused_issuance_leaves_the_tokens_allowance_whole(
    token: tuple[Wallet, str, str], db: asyncpg.Pool
) -> None:
    wallet, access, document_id = token
    await db.execute("UPDATE documents SET state = 'suspended' WHERE id = $1", document_id)
    _, r = await wallet.batch(access, document_id, 10)
    assert error_of(r) == "credential_request_denied"
    await db.execute("UPDATE documents SET state = 'active' WHERE id = $1", document_id)
    _, r = await wallet.batch(access, document_id, 10)
    assert r.status_code == 200, r.text


async def test_a_batch_larger_than_the_batch_size_is_refused(token: tuple[Wallet, str, str], db: asyncpg.Pool) -> None:
    wallet, access, document_id = token
    _keys, r = await wallet.batch(access, document_id, 11)
    assert error_of(r) == "invalid_credential_request"
    assert await stored(db, document_id) == 0


async def test_the_credential_endpoint_refuses_tokens_and_dpop_proofs_that_do_not_match(
    client: httpx.AsyncClient, token: tuple[Wallet, str, str]
) -> None:
    wallet, access, document_id = token
    body = {
        "credential_identifier": document_id,
        "proofs": {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), await wallet.nonce())]},
    }
    r = await client.post("/openid4vci/credential", json=body)
    assert error_of(r, 401) == "invalid_token" and r.headers["www-authenticate"].startswith("DPoP ")
    r = await client.post("/openid4vci/credential", json=body, headers={"Authorization": f"DPoP {access[:-3]}abc"})
    assert error_of(r, 401) == "invalid_token"
    thief = Wallet(client)  # the token without its DPoP key
    r = await thief.credential(access, body)
    assert error_of(r, 401) == "invalid_dpop_proof" and 'error="invalid_dpop_proof"' in r.headers["www-authenticate"]
    r = await wallet.credential(access, body, dpop=wallet.dpop("POST", CREDENTIAL_URL))  # no ath
    assert error_of(r, 401) == "invalid_dpop_proof"
    proof = wallet.dpop("POST", CREDENTIAL_URL, access_token=access)
    assert (await wallet.credential(access, body, dpop=proof)).status_code == 200
    body["proofs"] = {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), await wallet.nonce())]}
    assert error_of(await wallet.credential(access, body, dpop=proof), 401) == "invalid_dpop_proof"  # replayed


async def test_unknown_identifiers_configurations_and_denied_documents(
    client: httpx.AsyncClient, issuer: Any, token: tuple[Wallet, str, str], db: asyncpg.Pool
) -> None:
    wallet, access, document_id = token
    other = await issue(client, issuer)
    proofs = {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), await wallet.nonce())]}
    cases = [
        ({"credential_identifier": other["id"], "proofs": proofs}, "unknown_credential_identifier"),
        ({"credential_identifier": "x", "proofs": proofs}, "unknown_credential_identifier"),
        ({"credential_configuration_id": "passport_sd_jwt", "proofs": proofs}, "unknown_credential_configuration"),
        ({"credential_configuration_id": "chip_id_card_sd_jwt", "proofs": proofs}, "unknown_credential_configuration"),
        ({"proofs": proofs}, "invalid_credential_request"),
        (
            {"credential_identifier": document_id, "credential_configuration_id": "x", "proofs": proofs},
            "invalid_credential_request",
        ),
        (
            {"credential_identifier": document_id, "proofs": proofs, "credential_response_encryption": {}},
            "invalid_encryption_parameters",
        ),
    ]
    for body, expected in cases:
        assert error_of(await wallet.credential(access, body)) == expected, body
    r = await client.post(
        "/openid4vci/credential",
        content=b"[1, 2",
        headers={
            "Authorization": f"DPoP {access}",
            "DPoP": wallet.dpop("POST", CREDENTIAL_URL, access_token=access),
            "Content-Type": "application/json",
        },
    )
    assert error_of(r) == "invalid_credential_request"
    account = await db.fetchval(
        "SELECT a.id FROM accounts a JOIN documents d ON d.holder_id = a.person_id WHERE d.id = $1", document_id
    )
    await db.execute("UPDATE accounts SET state = 'frozen' WHERE id = $1", account)
    r = await wallet.credential(access, {"credential_identifier": document_id, "proofs": proofs})
    assert error_of(r) == "credential_request_denied" and "not active" in r.json()["error_description"]
    await db.execute("UPDATE accounts SET state = 'active' WHERE id = $1", account)
    await db.execute("UPDATE documents SET state = 'revoked' WHERE id = $1", document_id)
    proofs = {"jwt": [key_proof(ec.generate_private_key(ec.SECP256R1()), await wallet.nonce())]}
    r = await wallet.credential(access, {"credential_identifier": document_id, "proofs": proofs})
    assert error_of(r) == "credential_request_denied"
    assert await stored(db, document_id) == 0


async def test_an_oversized_credential_request_is_refused_unread(token: tuple[Wallet, str, str]) -> None:
    wallet, access, document_id = token
    huge = {"credential_identifier": document_id, "proofs": {"jwt": ["x" * (300 * 1024)]}}
    r = await wallet.credential(access, huge)
    assert error_of(r, 413) == "invalid_request"


@pytest.mark.parametrize("path", ["/openid4vci/token", "/openid4vci/par"])
async def test_an_oversized_form_is_refused_in_oauths_format(client: httpx.AsyncClient, path: str) -> None:
    form = {"grant_type": "authorization_code", "client_id": "https://wallet.example", "padding": "x" * (300 * 1024)}
    assert error_of(await client.post(path, data=form), 413) == "invalid_request"


# --- offers --------------------------------------------------------------------------------


async def test_an_agency_offer_sends_no_tx_code_to_the_agency_and_the_holder_reveals_it(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    r = await client.post("/v1/agency/credential-offers", headers=issuer, json={"document_ids": [doc["id"]]})
    assert r.status_code == 201, r.text
    made = r.json()
    assert "tx_code" not in made
    event = await db.fetchrow(
        "SELECT payload FROM outbox WHERE topic = 'credential_offer.made' AND key = $1", made["offer_id"]
    )
    assert event is not None and event["payload"]["account_id"] == holder.account_id
    assert not set(event["payload"]) & {"tx_code", "pre-authorized_code", "offer"}
    audit = await db.fetchrow(
        "SELECT actor, details FROM audit_log WHERE action = 'credential_offer.make' AND subject = $1",
        f"credential_offer:{made['offer_id']}",
    )
    assert audit is not None and audit["actor"] == "client:csgt-client"
    wallet = Wallet(client)
    offer = await wallet.offer(made["offer"])
    code = offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
    r = await wallet.token(code, "123456")
    assert error_of(r) == "invalid_grant" and "not yet opened" in r.json()["error_description"]
    first = await client.post(f"/v1/me/credential-offers/{made['offer_id']}/tx-code", headers=holder.headers)
    second = await client.post(f"/v1/me/credential-offers/{made['offer_id']}/tx-code", headers=holder.headers)
    assert first.status_code == second.status_code == 201
    assert error_of(await wallet.token(code, first.json()["tx_code"])) == "invalid_grant" or (
        first.json()["tx_code"] == second.json()["tx_code"]
    )
    token = await wallet.token(code, second.json()["tx_code"])
    assert token.status_code == 200, token.text


async def test_the_holder_is_told_of_an_agencys_offer_in_the_inbox_without_any_code(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, consume: Any
) -> None:
    doc = await issue(client, issuer)
    made = (
        await client.post("/v1/agency/credential-offers", headers=issuer, json={"document_ids": [doc["id"]]})
    ).json()
    assert await consume() >= 1
    inbox = (await client.get("/v1/notifications", headers=holder.headers)).json()["items"]
    (notice,) = [n for n in inbox if n["kind"] == "credential_offer.made"]
    assert notice["ref"] == {"type": "credential_offer", "id": made["offer_id"]}
    assert "giấy phép lái xe" in notice["body"].lower()
    # The app opens the offer by its reference for the code; nothing of it is in the notice.
    r = await client.post(f"/v1/me/credential-offers/{notice['ref']['id']}/tx-code", headers=holder.headers)
    assert r.status_code == 201 and r.json()["tx_code"] not in json.dumps(notice, ensure_ascii=False)


async def test_agency_offers_are_for_its_own_documents_and_a_reachable_holder(
    client: httpx.AsyncClient, issuer: Any, make_org: Any, make_citizen: Any, db: asyncpg.Pool
) -> None:
    other_agency = await make_org("bhxh", "issuer", types=["health_insurance_card"], scopes={"documents:issue"})
    doc = await issue(client, issuer)  # the holder has no account yet
    r = await client.post("/v1/agency/credential-offers", headers=issuer, json={"document_ids": [doc["id"]]})
    assert r.status_code == 409 and r.json()["type"].endswith("/holder-unreachable")
    await make_citizen(level=1)
    r = await client.post("/v1/agency/credential-offers", headers=issuer, json={"document_ids": [doc["id"]]})
    assert r.status_code == 409
    r = await client.post("/v1/agency/credential-offers", headers=other_agency, json={"document_ids": [doc["id"]]})
    assert r.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM credential_offers") == 0


async def test_a_citizen_offers_only_their_own_active_documents(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, make_citizen: Any
) -> None:
    doc = await issue(client, issuer)
    stranger = await make_citizen("001090099999")
    r = await client.post("/v1/me/credential-offers", headers=stranger.headers, json={"document_ids": [doc["id"]]})
    assert r.status_code == 404
    r = await client.post(
        "/v1/me/credential-offers", headers=holder.headers, json={"document_ids": [doc["id"], doc["id"]]}
    )
    assert r.status_code == 422
    await client.post(f"/v1/agency/documents/{doc['id']}/suspend", headers=issuer, json={"reason": "check"})
    r = await client.post("/v1/me/credential-offers", headers=holder.headers, json={"document_ids": [doc["id"]]})
    assert r.status_code == 409 and r.json()["type"].endswith("/document-state")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(min_value=1, max_value=10))
async def test_any_batch_has_one_credential_per_key_with_distinct_positions_and_salts(
    client: httpx.AsyncClient, holder: Citizen, offered: dict[str, Any], count: int
) -> None:
    # A token per example: one token fetches at most a batch of each identifier.
    document_id = offered["doc"]["id"]
    made = await offer_from_app(client, holder, document_id)
    wallet = Wallet(client)
    access = (await wallet.redeem(made["offer"], made["tx_code"]))["access_token"]
    keys, r = await wallet.batch(access, document_id, count)
    assert r.status_code == 200, r.text
    credentials = [c["credential"] for c in r.json()["credentials"]]
    payloads = [payload_of(c) for c in credentials]
    assert [p["cnf"]["jwk"] for p in payloads] == [public_jwk(k) for k in keys]
    positions = {(p["status"]["status_list"]["uri"], p["status"]["status_list"]["idx"]) for p in payloads}
    assert len(positions) == count
    disclosures = [d for c in credentials for d in c.split("~")[1:-1]]
    assert len(set(disclosures)) == len(disclosures)


async def test_dead_offers_are_swept_a_day_after_they_expire(
    offered: dict[str, Any], db: asyncpg.Pool, settings: Any
) -> None:
    from openid4vci.sweep import OFFERS_SWEEP
    from tests.support.workers import worker_context

    ctx = worker_context(settings, db, None, None, worker_id="t")  # type: ignore[arg-type]
    assert await OFFERS_SWEEP.run_once(ctx) == 0
    await db.execute(
        "UPDATE credential_offers SET expires_at = now() - interval '25 hours' WHERE id = $1",
        offered["made"]["offer_id"],
    )
    assert await OFFERS_SWEEP.run_once(ctx) == 1
    assert await db.fetchval("SELECT count(*) FROM credential_offers") == 0


async def test_nonce_and_token_requests_are_limited_per_address(app: Any, redis: Any) -> None:
    from litestar import Litestar

    from openid4vci.public import _NONCES
    from openid4vci.token import _TOKEN_REQUESTS
    from tests.support.asgi import client_of

    assert isinstance(app, Litestar)
    source = "198.51.100.7"
    now = time.time()
    for limiter in (_NONCES, _TOKEN_REQUESTS):
        for moment in (now, now + 60):  # the minute may turn during the test
            await redis.set(limiter.key(source, moment), limiter.limit, ex=120)
    async with client_of(app, (source, 40000)) as busy:
        r = await busy.post("/openid4vci/nonce")
        assert error_of(r, 429) == "temporarily_unavailable" and int(r.headers["retry-after"]) >= 1
        r = await busy.post("/openid4vci/token", data={"grant_type": PRE_AUTHORIZED})
        assert error_of(r, 429) == "temporarily_unavailable"
