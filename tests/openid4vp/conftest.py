"""A test wallet for the verifier service, made of independent parts, and the documents fixtures.

The wallet checks the request object as a wallet must (``typ``, the ``x5c`` leaf signed by
the root we publish, its SAN dNSName equal to the ``x509_san_dns`` client identifier, the
signature by the leaf's key) with ``cryptography``'s X.509 and ECDSA, not our JOSE module;
it builds presentations with the OpenWallet Foundation's ``sd-jwt`` library and encrypts
``direct_post.jwt`` responses with ``jwcrypto``. Negative tests build flawed key-binding
JWTs by hand (:func:`presentation`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import cbor2
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwe, jwk
from litestar import Litestar
from sd_jwt.holder import SDJWTHolder

from documents.mdoc import document_signer, mint_mdoc
from tests.documents.conftest import (  # noqa: F401  (fixtures)
    Citizen,
    MakeOrg,
    holder,
    issue,
    issuer,
    licence_claims,
    make_citizen,
    make_org,
)
from tests.support import mdoc_holder
from tests.support.signing import b64url, signed_jwt
from wallet_api.settings import Settings

LICENCE_VCT = "https://citizenwallet.vn/credentials/driving_licence/v1"
MDL_NS = "org.iso.18013.5.1"


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Request:
    """A presentation request as the verifier made it and the wallet read it."""

    created: dict[str, Any]
    payload: dict[str, Any]
    #: The request object's x5c leaf certificate (DER).
    leaf: bytes = b""


def dcql(*claims: str, query_id: str = "licence", vct: str = LICENCE_VCT) -> dict[str, Any]:
    query: dict[str, Any] = {"id": query_id, "format": "dc+sd-jwt", "meta": {"vct_values": [vct]}}
    if claims:
        query["claims"] = [{"path": [c]} for c in claims]
    return {"credentials": [query]}


async def verifier_headers(make: MakeOrg, org_id: str = "bank-acb") -> dict[str, str]:
    return await make(org_id, "verifier", scopes={"documents:verify"}, name="Ngân hàng ACB")


async def credential(client: httpx.AsyncClient, issuer_headers: dict[str, str], citizen: Citizen) -> str:
    return await credential_of(client, issuer_headers, citizen, None)


async def credential_of(
    client: httpx.AsyncClient, issuer_headers: dict[str, str], citizen: Citizen, claims: dict[str, Any] | None
) -> str:
    """The citizen's credential for a driving licence with these claims (None: the sample ones)."""
    doc = await issue(client, issuer_headers, claims=claims)
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=citizen.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["credential"])


def check_request_object(token: str, root_pem: bytes) -> dict[str, Any]:
    """Verify a request object as a wallet does for ``x509_san_dns``; its payload."""
    head, body, sig = token.split(".")
    header, payload = json.loads(_unb64url(head)), json.loads(_unb64url(body))
    assert header["typ"] == "oauth-authz-req+jwt" and header["alg"] == "ES256"
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    root = x509.load_pem_x509_certificate(root_pem)
    leaf.verify_directly_issued_by(root)
    public = leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    raw = _unb64url(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    if payload["client_id"].startswith("x509_san_dns:"):
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert payload["client_id"].removeprefix("x509_san_dns:") in names.get_values_for_type(x509.DNSName)
    return dict(payload)


async def open_request(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Request:
    r = await client.post("/v1/presentation-requests", headers=headers, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    fetched = await client.get(created["request_uri"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    root = (await client.get("/openid4vp/verifier-ca.pem")).content
    header = json.loads(_unb64url(fetched.text.split(".")[0]))
    return Request(created, check_request_object(fetched.text, root), base64.b64decode(header["x5c"][0]))


def library_presentation(sd_jwt: str, citizen: Citizen, claims: list[str], *, nonce: str, aud: str) -> str:
    """The holder's presentation with a key-binding JWT, by the independent ``sd-jwt`` library."""
    wallet = SDJWTHolder(sd_jwt)
    wallet.create_presentation(
        {name: True for name in claims}, nonce=nonce, aud=aud, holder_key=jwk.JWK.from_pyca(citizen.key)
    )
    return str(wallet.sd_jwt_presentation)


def presentation(
    sd_jwt: str, citizen: Citizen, claims: list[str], *, nonce: str, aud: str, iat: int | None = None
) -> str:
    """A presentation built by hand (for flawed ones): the chosen disclosures and a key-binding JWT."""
    jws, *disclosures = sd_jwt.rstrip("~").split("~")
    chosen = [d for d in disclosures if json.loads(_unb64url(d))[1] in claims]
    presented = jws + "~" + "".join(d + "~" for d in chosen)
    kb = {
        "iat": int(time.time()) if iat is None else iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": b64url(hashlib.sha256(presented.encode()).digest()),
    }
    return presented + signed_jwt(citizen.key, kb, "kb+jwt")


def response_form(request: Request, vp_token: dict[str, list[str]], *, state: str | None = None) -> dict[str, str]:
    """The form a wallet posts: plain for ``direct_post``, one JWE for ``direct_post.jwt``."""
    params = {"vp_token": vp_token, "state": request.payload["state"] if state is None else state}
    if request.payload["response_mode"] == "direct_post":
        return {"vp_token": json.dumps(vp_token), "state": str(params["state"])}
    key = request.payload["client_metadata"]["jwks"]["keys"][0]
    token = jwe.JWE(
        json.dumps(params).encode(), protected=json.dumps({"alg": "ECDH-ES", "enc": "A128GCM", "kid": key["kid"]})
    )
    token.add_recipient(jwk.JWK(**key))
    return {"response": token.serialize(compact=True)}


@pytest.fixture
async def bank(make_org: MakeOrg) -> dict[str, str]:  # noqa: F811
    """Headers of a registered verifier's backend (a bank doing KYC)."""
    return await verifier_headers(make_org)


@pytest.fixture
async def held(client: httpx.AsyncClient, issuer: dict[str, str], holder: Citizen) -> str:  # noqa: F811
    """The holder's driving-licence credential (SD-JWT VC), issued by the traffic police."""
    return await credential(client, issuer, holder)


@pytest.fixture
async def mdoc(
    app: Litestar,
    db: asyncpg.Pool,
    settings: Settings,
    held: str,
    holder: Citizen,  # noqa: F811
) -> bytes:
    """The holder's licence as an mdoc, bound to the device key, on its SD-JWT credential's status entry."""
    status = json.loads(_unb64url(held.split("~")[0].split(".")[1]))["status"]["status_list"]
    signer = await document_signer(db, app.state.services.keys, "csgt", base_url=settings.public_base_url)
    return mint_mdoc(
        signer,
        claims=licence_claims(),
        holder_jwk=mdoc_holder.public_jwk(holder.key),
        status_uri=status["uri"],
        status_idx=status["idx"],
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
    )


def mdl_query(*elements: str, namespace: str = MDL_NS) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "mdl",
                "format": "mso_mdoc",
                "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                "claims": [{"path": [namespace, e], "intent_to_retain": False} for e in elements],
            }
        ]
    }


def transcript(request: Request) -> list[Any]:
    """OID4VP 1.0 appendix B.2.6.1, from the request object the wallet read."""
    p = request.payload
    thumbprint = None
    if p["response_mode"] == "direct_post.jwt":
        key = p["client_metadata"]["jwks"]["keys"][0]
        canonical = json.dumps({k: key[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
        thumbprint = hashlib.sha256(canonical.encode()).digest()
    info = cbor2.dumps([p["client_id"], p["nonce"], thumbprint, p["response_uri"]])
    return [None, None, ["OpenID4VPHandover", hashlib.sha256(info).digest()]]
