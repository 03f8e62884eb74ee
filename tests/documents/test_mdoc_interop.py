"""An independent mdoc library (@auth0/mdl on Node.js, tests/interop) holds and reads our mdocs.

As a wallet it presents one of our driving licences (a DeviceResponse it builds and signs
with the holder's device key); as a verifier it checks that response trusting only the
IACA root it downloads from our public URL; and our verifier accepts what that wallet
built. The session transcript is OID4VP 1.0's, made by the test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from litestar import Litestar

from documents.mdoc import (
    MDL_NAMESPACE,
    VN_NAMESPACE,
    DeviceSignatureInvalid,
    DigestMismatch,
    document_signer,
    mint_mdoc,
    verify_device_response,
)
from documents.mdoc.certificates import iaca_certificate
from tests.documents.conftest import licence_claims, portrait_uri
from tests.support import mdoc_holder as holder
from tests.support.node import Node, NodeScriptError
from wallet_api.kernel import b64url_decode, b64url_encode
from wallet_api.settings import Settings

TRANSCRIPT = holder.openid4vp_transcript("x509_san_dns:bank.example", "Sw4nXm9PqY", "https://bank.example/cb")
TRANSCRIPT_BYTES = b64url_encode(cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(TRANSCRIPT))))
ASKED = {MDL_NAMESPACE: ["family_name", "birth_date", "driving_privileges", "portrait", "issuing_country"]}


def _private_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    d = key.private_numbers().private_value.to_bytes(32, "big")
    return {**holder.public_jwk(key), "d": b64url_encode(d)}


def _container(issuer_signed: bytes) -> str:
    """What a wallet keeps: an MDoc (DeviceResponse-shaped) holding our IssuerSigned as is."""
    document = {"docType": holder.MDL, "issuerSigned": cbor2.loads(issuer_signed)}
    return b64url_encode(cbor2.dumps({"version": "1.0", "documents": [document], "status": 0}))


async def _mint(app: Litestar, db: asyncpg.Pool, settings: Settings, device: ec.EllipticCurvePrivateKey) -> bytes:
    signer = await document_signer(db, app.state.services.keys, "csgt", base_url=settings.public_base_url)
    return mint_mdoc(
        signer,
        claims={**licence_claims(portrait=portrait_uri()), "age_over_18": True},
        holder_jwk=holder.public_jwk(device),
        status_uri=f"{settings.public_base_url}/status-lists/6f1c2a8e-0d4b-4c57-9a55-2f1e7e0c3b11",
        status_idx=77,
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
    )


async def _present(node: Node, issuer_signed: bytes, device: ec.EllipticCurvePrivateKey) -> bytes:
    out = await node.run(
        "mdoc-wallet.mjs",
        {
            "mdoc": _container(issuer_signed),
            "deviceJwk": _private_jwk(device),
            "sessionTranscriptBytes": TRANSCRIPT_BYTES,
            "disclose": ASKED,
        },
    )
    return b64url_decode(out["deviceResponse"])


def _foreign_root_pem() -> str:
    """An IACA root with our profile and our agency's name that we never published."""
    key = ec.generate_private_key(ec.SECP256R1())
    root = iaca_certificate(
        key,
        org_name="Cục Cảnh sát giao thông",
        issuer_url="https://x.example",
        crl_url="https://x.example/c.crl",
        now=dt.datetime.now(dt.UTC),
    )
    return root.public_bytes(Encoding.PEM).decode()


@pytest.fixture
async def presented(app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, node_served: Node) -> bytes:
    """A DeviceResponse the independent wallet built from one of our mdocs."""
    device = ec.generate_private_key(ec.SECP256R1())
    return await _present(node_served, await _mint(app, db, settings, device), device)


async def test_an_independent_wallet_and_verifier_accept_our_mdoc_and_we_accept_its_response(
    db: asyncpg.Pool, settings: Settings, node_served: Node, presented: bytes
) -> None:
    response = presented
    out = await node_served.run(
        "mdoc-verify.mjs",
        {
            "deviceResponse": b64url_encode(response),
            "sessionTranscriptBytes": TRANSCRIPT_BYTES,
            "iacaUrl": f"{settings.public_base_url}/issuers/csgt/iaca.pem",
        },
    )
    assert out["docType"] == "org.iso.18013.5.1.mDL"
    mdl = out["namespaces"][MDL_NAMESPACE]
    assert set(mdl) == set(ASKED[MDL_NAMESPACE])
    assert mdl["family_name"] == "Nguyen" and mdl["birth_date"] == "1990-05-17" and mdl["issuing_country"] == "VN"
    assert [p["vehicle_category_code"] for p in mdl["driving_privileges"]] == ["A1", "B", "C1"]
    assert VN_NAMESPACE not in out["namespaces"]
    assert out["status"]["status_list"]["idx"] == 77
    # What that wallet built, our verifier accepts, with the same transcript.
    (doc,) = await verify_device_response(db, response, TRANSCRIPT)
    assert doc.issuer_org_id == "csgt" and set(doc.namespaces[MDL_NAMESPACE]) == set(ASKED[MDL_NAMESPACE])
    assert doc.namespaces[MDL_NAMESPACE]["portrait"][:3] == b"\xff\xd8\xff"


async def test_tampering_and_a_root_we_did_not_publish_are_refused_on_both_sides(
    db: asyncpg.Pool, settings: Settings, node_served: Node, presented: bytes
) -> None:
    response = cbor2.loads(presented)
    iaca_url = f"{settings.public_base_url}/issuers/csgt/iaca.pem"

    def verify_with_node(value: Any, **extra: Any) -> Any:
        payload = {"deviceResponse": b64url_encode(cbor2.dumps(value)), "sessionTranscriptBytes": TRANSCRIPT_BYTES}
        return node_served.run("mdoc-verify.mjs", {**payload, "iacaUrl": iaca_url, **extra})

    # An element's value changed after issuance: its digest is not the MSO's.
    forged = cbor2.loads(cbor2.dumps(response))
    items = forged["documents"][0]["issuerSigned"]["nameSpaces"][MDL_NAMESPACE]
    item = cbor2.loads(items[0].value)
    item["elementValue"] = "Tran" if item["elementIdentifier"] == "family_name" else "XX"
    items[0] = cbor2.CBORTag(24, cbor2.dumps(item))
    with pytest.raises(NodeScriptError, match=r"(?i)digest"):
        await verify_with_node(forged)
    with pytest.raises(DigestMismatch):
        await verify_device_response(db, cbor2.dumps(forged), TRANSCRIPT)

    # The device signature altered.
    forged = cbor2.loads(cbor2.dumps(response))
    signature = forged["documents"][0]["deviceSigned"]["deviceAuth"]["deviceSignature"]
    signature[3] = bytes([signature[3][0] ^ 1]) + signature[3][1:]
    with pytest.raises(NodeScriptError, match=r"(?i)device signature"):
        await verify_with_node(forged)
    with pytest.raises(DeviceSignatureInvalid):
        await verify_device_response(db, cbor2.dumps(forged), TRANSCRIPT)

    # A verifier trusting another IACA root refuses the chain.
    with pytest.raises(NodeScriptError, match=r"(?i)certificate"):
        await verify_with_node(response, iacaPem=_foreign_root_pem())


async def test_a_second_library_reads_our_issuer_signed_against_the_published_root(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, node_served: Node
) -> None:
    """@animo-id/mdoc (its platform half on Node's OpenSSL, tests/interop/lib/animo-context.mjs)."""
    device = ec.generate_private_key(ec.SECP256R1())
    issuer_signed = await _mint(app, db, settings, device)
    iaca_url = f"{settings.public_base_url}/issuers/csgt/iaca.pem"
    out = await node_served.run(
        "mdoc-issuer-signed.mjs", {"issuerSigned": b64url_encode(issuer_signed), "iacaUrl": iaca_url}
    )
    assert out["docType"] == "org.iso.18013.5.1.mDL"
    mdl, vn = out["namespaces"][MDL_NAMESPACE], out["namespaces"][VN_NAMESPACE]
    assert (mdl["family_name"], mdl["given_name"], mdl["document_number"]) == ("Nguyen", "Van Hung", "001090012345")
    assert mdl["given_name_national_character"] == "Văn Hùng" and mdl["age_over_18"] is True
    assert vn["full_name"] == "Nguyễn Văn Hùng" and vn["points"] == 12
    assert out["status"]["status_list"]["idx"] == 77
    assert {k: out["deviceKey"][k] for k in ("x", "y")} == {k: holder.public_jwk(device)[k] for k in ("x", "y")}

    # One item changed: its digest no longer matches.
    value = cbor2.loads(issuer_signed)
    items = value["nameSpaces"][VN_NAMESPACE]
    item = cbor2.loads(items[0].value)
    item["elementValue"] = 0 if isinstance(item["elementValue"], int) else "Trần Văn Hùng"
    items[0] = cbor2.CBORTag(24, cbor2.dumps(item))
    with pytest.raises(NodeScriptError, match=r"(?i)digest"):
        await node_served.run(
            "mdoc-issuer-signed.mjs", {"issuerSigned": b64url_encode(cbor2.dumps(value)), "iacaUrl": iaca_url}
        )
    # A root we did not publish.
    with pytest.raises(NodeScriptError, match=r"(?i)trusted IACA"):
        await node_served.run(
            "mdoc-issuer-signed.mjs", {"issuerSigned": b64url_encode(issuer_signed), "iacaPem": _foreign_root_pem()}
        )
