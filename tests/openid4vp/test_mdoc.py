"""mdoc presentations: a DeviceResponse signed over OpenID4VP 1.0's SessionTranscript.

The holder here is tests/support/mdoc_holder.py (cbor2 and cryptography, written from ISO
18013-5, none of documents/mdoc); the transcript is built from the specification's text.
The mdoc shares the status-list entry of the holder's SD-JWT credential, so revoking the
document refuses both.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import cbor2
import httpx
import pytest

from tests.documents.conftest import Citizen
from tests.openid4vp.conftest import MDL_NS, Request, mdl_query, open_request, response_form, transcript
from tests.support import mdoc_holder
from tests.support.signing import b64url


def _present(request: Request, mdoc: bytes, holder: Citizen, *elements: str, **over: Any) -> dict[str, str]:
    response = mdoc_holder.device_response(
        mdoc, holder.key, over.pop("session_transcript", transcript(request)), disclose={MDL_NS: set(elements)}
    )
    return response_form(request, {"mdl": [b64url(response)]})


@pytest.mark.parametrize("mode", ["direct_post.jwt", "direct_post"])
async def test_an_mdoc_presentation_gives_the_requested_elements_and_is_logged(
    client: httpx.AsyncClient, bank: dict[str, str], mdoc: bytes, holder: Citizen, mode: str
) -> None:
    request = await open_request(
        client, bank, dcql_query=mdl_query("family_name", "birth_date", "driving_privileges"), response_mode=mode
    )
    assert request.payload["client_metadata"]["vp_formats_supported"]["mso_mdoc"]["deviceauth_alg_values"] == [-7]
    r = await client.post(
        request.payload["response_uri"],
        data=_present(request, mdoc, holder, "family_name", "birth_date", "driving_privileges"),
    )
    assert (r.status_code, r.json()) == (200, {}), r.text
    status = await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=bank)
    mdl = status.json()["credentials"]["mdl"]
    assert mdl["format"] == "mso_mdoc" and mdl["holder_binding"] == "verified" and mdl["status"] == "valid"
    assert mdl["issuer"]["id"] == "csgt"
    assert mdl["claims"] == {
        MDL_NS: {
            "family_name": "Nguyen",
            "birth_date": "1990-05-17",
            "driving_privileges": [
                {"vehicle_category_code": "A1", "issue_date": "2012-03-01"},
                {"vehicle_category_code": "B", "issue_date": "2015-06-10", "expiry_date": "2035-06-10"},
                {"vehicle_category_code": "C1", "issue_date": "2020-09-21", "expiry_date": "2030-09-21"},
            ],
        }
    }
    log = (await client.get("/v1/me/access-log", headers=holder.headers)).json()["entries"]
    assert [(e["channel"], sorted(e["fields"])) for e in log] == [
        ("openid4vp", ["classes", "date_of_birth", "full_name"])
    ]


@pytest.mark.parametrize("flaw", ["other-transcript", "unrequested-element", "tampered-digest", "mac"])
async def test_a_flawed_device_response_is_refused(
    client: httpx.AsyncClient, bank: dict[str, str], mdoc: bytes, holder: Citizen, db: asyncpg.Pool, flaw: str
) -> None:
    request = await open_request(client, bank, dcql_query=mdl_query("birth_date"), response_mode="direct_post")
    elements = ["birth_date"]
    presented = mdoc
    session = transcript(request)
    if flaw == "other-transcript":  # signed for another request (its nonce)
        session = mdoc_holder.openid4vp_transcript(
            request.payload["client_id"], "other", request.payload["response_uri"]
        )
    elif flaw == "unrequested-element":
        elements = ["birth_date", "resident_address"]
    elif flaw == "tampered-digest":
        issuer_signed = cbor2.loads(mdoc)
        tagged = issuer_signed["nameSpaces"][MDL_NS]
        for i, t in enumerate(tagged):
            item = cbor2.loads(t.value)
            if item["elementIdentifier"] == "birth_date":
                item["elementValue"] = cbor2.CBORTag(1004, "1970-01-01")
                tagged[i] = cbor2.CBORTag(24, cbor2.dumps(item))
        presented = cbor2.dumps(issuer_signed)
    if flaw == "mac":
        response = mdoc_holder.device_response(
            presented, holder.key, session, disclose={MDL_NS: set(elements)}, mac=True
        )
        form = response_form(request, {"mdl": [b64url(response)]})
    else:
        form = _present(request, presented, holder, *elements, session_transcript=session)
    r = await client.post(request.payload["response_uri"], data=form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    status = (await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=bank)).json()
    expected = {
        "other-transcript": "holder-binding",
        "unrequested-element": "disclosure-not-requested",
        "tampered-digest": "tampered",
        "mac": "malformed-response",
    }[flaw]
    assert status["status"] == "refused" and status["error"]["reason"] == expected, status
    assert await db.fetchval("SELECT count(*) FROM document_views") == 0


async def test_an_mdoc_element_we_do_not_mint_cannot_be_asked_for(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    for query, key in [
        (mdl_query("height"), "dcql_query.credentials[0].claims[0].path"),
        (mdl_query("birth_date", namespace="org.iso.23220.1"), "dcql_query.credentials[0].claims[0].path"),
    ]:
        r = await client.post("/v1/presentation-requests", headers=bank, json={"dcql_query": query})
        assert r.status_code == 422 and key in [e["key"] for e in r.json()["errors"]]
    wrong_doctype = mdl_query("birth_date")
    wrong_doctype["credentials"][0]["meta"] = {"doctype_value": "eu.europa.ec.eudi.pid.1"}
    r = await client.post("/v1/presentation-requests", headers=bank, json={"dcql_query": wrong_doctype})
    assert r.status_code == 422
