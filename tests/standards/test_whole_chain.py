"""Issue #16 from end to end, with independent implementations on the outside of every step.

An issuing agency issues a driving licence through the agency API; the citizen (level 2, on
the bound device) offers it from the app; oid4vc-ts as another wallet redeems the offer with
the transaction code and DPoP and gets a batch of SD-JWT VCs and a batch of mdocs
(tests/interop/oid4vci-pre-authorized.mjs); two registered verifiers ask over OpenID4VP with
DCQL and the wallet answers with one credential of the batch each (oid4vp-wallet.mjs), then
with an mdoc (@auth0/mdl's mdoc-wallet.mjs); the verifiers get only what they asked; the
citizen's access log and event show each view as for today's verification; the agency
revokes the licence, every credential of both batches reads revoked in its status list and
the next presentation is refused. Real PostgreSQL and Redis, the app served for real.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import cbor2
import httpx

from documents.statuslist import decode_list, status_at
from tests.documents.conftest import Citizen, issue, licence_claims
from tests.documents.test_mdoc_interop import _container as mdoc_container
from tests.documents.test_presentation import online, verify
from tests.openid4vci.test_issuance import offer_from_app, statuses
from tests.openid4vci.wallet import ISSUER, Wallet
from tests.openid4vp.conftest import MDL_NS, dcql, mdl_query, open_request, response_form, transcript
from tests.support.node import Node
from tests.support.signing import b64url
from wallet_api.kernel import b64url_decode

_ASKED = ["date_of_birth", "classes"]
_ELEMENTS = ["family_name", "birth_date", "driving_privileges"]


def _jwt_payload(sd_jwt: str) -> dict[str, Any]:
    return dict(json.loads(b64url_decode(sd_jwt.split("~")[0].split(".")[1])))


def _sd_jwt_traits(sd_jwt: str) -> dict[str, set[Any]]:
    """What a verifier could link a presentation by: salts, the issuer's signature, status entry, holder key."""
    jws, *disclosures = sd_jwt.rstrip("~").split("~")
    payload = _jwt_payload(sd_jwt)
    return {
        "salts": {json.loads(b64url_decode(d))[0] for d in disclosures},
        "signature": {jws.rsplit(".", 1)[1]},
        "status": {payload["status"]["status_list"]["idx"]},
        "holder key": {json.dumps(payload["cnf"]["jwk"], sort_keys=True)},
        "digests": set(payload["_sd"]),
    }


def _mso(issuer_signed: bytes) -> tuple[dict[str, Any], list[Any]]:
    """The Mobile Security Object and the issuerAuth COSE_Sign1 of an IssuerSigned, read with cbor2."""
    auth = cbor2.loads(issuer_signed)["issuerAuth"]
    payload = cbor2.loads(auth[2])
    return dict(cbor2.loads(payload.value if isinstance(payload, cbor2.CBORTag) else payload)), list(auth)


def _mdoc_traits(issuer_signed: bytes) -> dict[str, set[Any]]:
    items = cbor2.loads(issuer_signed)["nameSpaces"]
    mso, auth = _mso(issuer_signed)
    return {
        "salts": {cbor2.loads(i.value)["random"] for ns in items.values() for i in ns},
        "signature": {auth[3]},
        "status": {mso["status"]["status_list"]["idx"]},
        "holder key": {cbor2.dumps(mso["deviceKeyInfo"]["deviceKey"], canonical=True)},
    }


def _shared(a: dict[str, set[Any]], b: dict[str, set[Any]]) -> dict[str, set[Any]]:
    return {name: a[name] & b[name] for name in a if a[name] & b[name]}


async def _mdoc_statuses(client: httpx.AsyncClient, mdocs: list[bytes]) -> list[int]:
    """Each mdoc's entry in the status list its MSO names, read as a verifier would (public URL)."""
    found = []
    for issuer_signed in mdocs:
        ref = _mso(issuer_signed)[0]["status"]["status_list"]
        token = (await client.get(ref["uri"].removeprefix(ISSUER))).text
        lst = json.loads(b64url_decode(token.split(".")[1]))["status_list"]["lst"]
        found.append(status_at(decode_list(lst), ref["idx"]))
    return found


async def _present_sd_jwt(
    node: Node, client: httpx.AsyncClient, verifier: dict[str, str], credential: str, key: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verifier's DCQL request answered by the independent wallet: its outcome, the verifier's result."""
    r = await client.post(
        "/v1/presentation-requests",
        headers=verifier,
        json={"dcql_query": dcql(*_ASKED), "response_mode": "direct_post.jwt", "client_id_prefix": "x509_san_dns"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    out = await node.run(
        "oid4vp-wallet.mjs",
        {"authorizationRequest": created["authorization_request"], "credential": credential, "holderJwk": key},
    )
    result = await client.get(f"/v1/presentation-requests/{created['transaction_id']}", headers=verifier)
    assert result.status_code == 200, result.text
    return out, dict(result.json())


async def _present_mdoc(
    node: Node, client: httpx.AsyncClient, verifier: dict[str, str], issuer_signed: bytes, key: dict[str, Any]
) -> tuple[httpx.Response, dict[str, Any]]:
    """An mso_mdoc DCQL request answered by @auth0/mdl over the OID4VP 1.0 session transcript."""
    request = await open_request(client, verifier, dcql_query=mdl_query(*_ELEMENTS), response_mode="direct_post.jwt")
    out = await node.run(
        "mdoc-wallet.mjs",
        {
            "mdoc": mdoc_container(issuer_signed),
            "deviceJwk": key,
            "sessionTranscriptBytes": b64url(cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(transcript(request))))),
            "disclose": {MDL_NS: _ELEMENTS},
        },
    )
    answer = await client.post(
        request.payload["response_uri"], data=response_form(request, {"mdl": [out["deviceResponse"]]})
    )
    result = await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=verifier)
    assert result.status_code == 200, result.text
    return answer, dict(result.json())


async def test_a_licence_goes_from_the_agency_through_another_wallet_to_two_verifiers_until_revoked(
    node_served: Node,
    client: httpx.AsyncClient,
    db: asyncpg.Pool,
    issuer: dict[str, str],
    holder: Citizen,
    bank: dict[str, str],
    verifier: dict[str, str],
    consume: Callable[[], Awaitable[int]],
) -> None:
    # The agency issues; the holder shows it once the way of today (online code), for comparison.
    doc = await issue(client, issuer)
    code = await online(client, holder, doc["id"], ["date_of_birth"])
    assert (await verify(client, verifier, code.json()["url"])).status_code == 200

    # The holder offers it from the app; the other wallet redeems it: SD-JWT VCs and mdocs, batched.
    made = await offer_from_app(client, holder, doc["id"])
    wallet = await node_served.run(
        "oid4vci-pre-authorized.mjs",
        {
            "offer": made["offer"],
            "txCode": made["tx_code"],
            "batch": 3,
            "credentialConfigurationId": "driving_licence_sd_jwt",
            "mdocBatch": 2,
            "exportKeys": True,
        },
    )
    assert wallet["tokenType"] == "DPoP"
    sd_jwts = [c["credential"] for c in wallet["credentials"]]
    keys = wallet["holderPrivateJwks"]
    mdocs = [b64url_decode(m["credential"]) for m in wallet["mdocs"]]
    assert len(sd_jwts) == 3 and all(c["cnfMatches"] for c in wallet["credentials"]) and len(mdocs) == 2

    # Two verifiers, two credentials of the batch: each verifier gets exactly what it asked.
    for n, asking in enumerate((bank, verifier)):
        out, result = await _present_sd_jwt(node_served, client, asking, sd_jwts[n], keys[n])
        assert (out["status"], out["body"]) == (200, {}), out
        assert result["status"] == "presented", result
        licence = result["credentials"]["licence"]
        assert set(licence["claims"]) == set(_ASKED) and licence["status"] == "valid"
        assert licence["holder_binding"] == "verified"
    # Nothing the two verifiers saw links the two presentations.
    assert _shared(_sd_jwt_traits(sd_jwts[0]), _sd_jwt_traits(sd_jwts[1])) == {}
    assert _shared(_mdoc_traits(mdocs[0]), _mdoc_traits(mdocs[1])) == {}

    # The mdoc of the batch, to the bank.
    answer, result = await _present_mdoc(node_served, client, bank, mdocs[0], wallet["mdocs"][0]["holderPrivateJwk"])
    assert (answer.status_code, answer.json()) == (200, {}), answer.text
    claims = result["credentials"]["mdl"]["claims"]
    assert list(claims) == [MDL_NS] and set(claims[MDL_NS]) == set(_ELEMENTS)

    # The holder sees every view in the access log and as an event, as for today's verification.
    log = (await client.get("/v1/me/access-log", headers=holder.headers)).json()["entries"]
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for entry in log:
        by_channel.setdefault(entry["channel"], []).append(entry)
    assert sorted((e["verifier_org_id"], e["outcome"]) for e in by_channel["openid4vp"]) == [
        ("bank-acb", "valid"),
        ("bank-acb", "valid"),
        ("hotel-sen", "valid"),
    ]
    assert {frozenset(e) for e in log} == {frozenset(by_channel["online"][0])}
    events = await db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'document.viewed' AND consumer = 'notifications.inbox'"
    )
    assert sorted(e["payload"]["channel"] for e in events) == ["online", "openid4vp", "openid4vp", "openid4vp"]
    assert len({frozenset(e["payload"]) for e in events}) == 1
    assert {e["payload"]["document_id"] for e in events} == {doc["id"]}
    # The worker turns each into the holder's inbox entry (and the app's real-time message): alike.
    assert await consume() >= 4
    inbox = (await client.get("/v1/notifications", headers=holder.headers)).json()["items"]
    viewed = [(n["title"], n["body"]) for n in reversed(inbox) if n["kind"] == "document.viewed"]
    seen = "Giấy tờ vừa được kiểm tra"
    assert viewed == [
        (seen, "Khách sạn Sen đã kiểm tra Giấy phép lái xe của bạn và xem: Ngày sinh."),  # today's online code
        (seen, "Ngân hàng ACB đã kiểm tra Giấy phép lái xe của bạn và xem: Hạng, Ngày sinh."),
        (seen, "Khách sạn Sen đã kiểm tra Giấy phép lái xe của bạn và xem: Hạng, Ngày sinh."),
        (seen, "Ngân hàng ACB đã kiểm tra Giấy phép lái xe của bạn và xem: Hạng, Ngày sinh, Họ và tên."),  # the mdoc
    ]

    # The agency revokes: every credential of both batches reads revoked; the next presentation is refused.
    r = await client.post(f"/v1/agency/documents/{doc['id']}/revoke", headers=issuer, json={"reason": "lost"})
    assert r.status_code == 200, r.text
    assert await statuses(client, sd_jwts) == [1, 1, 1]
    assert await _mdoc_statuses(client, mdocs) == [1, 1]
    out, result = await _present_sd_jwt(node_served, client, bank, sd_jwts[2], keys[2])
    assert out["status"] == 400 and out["body"]["error"] == "invalid_request", out
    assert (result["status"], result["error"]["reason"]) == ("refused", "document-revoked"), result
    answer, result = await _present_mdoc(node_served, client, bank, mdocs[1], wallet["mdocs"][1]["holderPrivateJwk"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    assert (result["status"], result["error"]["reason"]) == ("refused", "document-revoked"), result


async def test_suspension_reinstatement_and_update_act_on_both_batches(
    client: httpx.AsyncClient, issuer: dict[str, str], holder: Citizen
) -> None:
    """Item 1: "revocation and updates act on the whole batch", for the SD-JWT VCs and the mdocs alike."""
    doc = await issue(client, issuer)
    made = await offer_from_app(client, holder, doc["id"])
    wallet = Wallet(client)
    token = (await wallet.redeem(made["offer"], made["tx_code"]))["access_token"]
    _, sd = await wallet.batch(token, doc["id"], 2)
    _, md = await wallet.batch(token, f"{doc['id']}:mdoc", 2)
    assert sd.status_code == md.status_code == 200, (sd.text, md.text)
    sd_jwts = [c["credential"] for c in sd.json()["credentials"]]
    mdocs = [b64url_decode(c["credential"]) for c in md.json()["credentials"]]

    async def both() -> tuple[list[int], list[int]]:
        return await statuses(client, sd_jwts), await _mdoc_statuses(client, mdocs)

    assert await both() == ([0, 0], [0, 0])
    path = f"/v1/agency/documents/{doc['id']}"
    assert (await client.post(f"{path}/suspend", headers=issuer, json={"reason": "check"})).status_code == 200
    assert await both() == ([2, 2], [2, 2])
    assert (await client.post(f"{path}/reinstate", headers=issuer, json={})).status_code == 200
    assert await both() == ([0, 0], [0, 0])
    r = await client.put(path, headers=issuer, json={"claims": licence_claims(points=10)})
    assert r.status_code == 200, r.text
    assert await both() == ([1, 1], [1, 1])
