"""OpenID4VP responses validated per second, against online code verifications in the same run.

Sets up what bench/verify.py does (an issuer, a verifier, a citizen with a device key, a
driving licence) plus the holder's SD-JWT VC, then measures one after another, with the same
connections:

* ``GET /health/live``: the baseline of every benchmark;
* ``POST /v1/verifications`` with a fresh online code each time: today's verification, the
  baseline the issue names;
* ``POST /openid4vp/responses/{id}`` (``direct_post``): a wallet's response to a fresh
  presentation request each time — form parsing, the request taken from Redis (read, then
  claimed by a script), the SD-JWT VC's issuer signature, disclosures, KB-JWT (holder
  signature, ``sd_hash``, ``aud``, ``nonce``, freshness), the query's claims, the status and
  the access-log row with its ``document.viewed`` event (group-committed), the result back
  into Redis;
* the same with ``direct_post.jwt``: the response encrypted to the request's own key
  (ECDH-ES, A128GCM), decrypted first.

Presentation requests are put in Redis beforehand by the function the API uses, already
fetched by a wallet, and the presentations (with their key-binding JWTs, encrypted for the
``.jwt`` run) are built beforehand, so that making them does not load the machine while
responses are measured. Each HTTP line reports the CPU per request of the API, PostgreSQL
and Redis (``bench/cpu.py``).

    .venv/bin/python -m bench.oid4vp_validation [--duration 8] [--connections 32] [--processes 2] [--codes 24000]
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwe, jwk

from bench.loadgen import Request
from bench.system import api_server, services
from bench.verify import arguments, arrange, issue_and_show, make_codes, measure, report
from openid4vp import transactions
from openid4vp.identity import client_host
from openid4vp.request_object import encryption_jwk, new_encryption_key
from tests.support.signing import b64url, signed_jwt
from wallet_api.settings import Settings

_ASKED = ["date_of_birth", "classes", "expiry_date", "issuing_authority"]
_DCQL = {
    "credentials": [
        {
            "id": "licence",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://citizenwallet.vn/credentials/driving_licence/v1"]},
            "claims": [{"path": [name]} for name in _ASKED],
        }
    ]
}


def _presented(sd_jwt: str, claims: list[str]) -> str:
    """The credential with only ``claims`` disclosed, ready for a key-binding JWT."""
    jws, *disclosures = sd_jwt.rstrip("~").split("~")

    def name(d: str) -> str:
        return str(json.loads(base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)))[1])

    return jws + "~" + "".join(d + "~" for d in disclosures if name(d) in claims)


def _kb(key: ec.EllipticCurvePrivateKey, presented: str, aud: str, nonce: str) -> str:
    digest = b64url(hashlib.sha256(presented.encode()).digest())
    return signed_jwt(key, {"iat": int(time.time()), "aud": aud, "nonce": nonce, "sd_hash": digest}, "kb+jwt")


async def prepare(settings: Settings, who: dict[str, Any], sd_jwt: str, n: int, mode: str) -> list[tuple[str, bytes]]:
    """``n`` fetched presentation requests in Redis and, for each, the wallet's response body."""
    redis = aioredis.from_url(settings.redis_url)
    client_id = f"x509_san_dns:{client_host(settings)}"
    base = settings.public_base_url.rstrip("/")
    presented = _presented(sd_jwt, _ASKED)
    out: list[tuple[str, bytes]] = []
    try:
        for start in range(0, n, 50):
            batch = []
            for _ in range(min(50, n - start)):
                request_id = secrets.token_urlsafe(24)
                nonce, state = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
                enc_key, enc_kid = new_encryption_key() if mode == "direct_post.jwt" else ("", "")
                fields: dict[str, Any] = {
                    "org": "bench-verifier",
                    "verifier": "client:bench-verifier",
                    "verifier_name": "Bench verifier",
                    "client_id": client_id,
                    "nonce": nonce,
                    "state": state,
                    "dcql": _DCQL,
                    "mode": mode,
                    "enc_key": enc_key,
                    "enc_kid": enc_kid,
                    "redirect_uri": "",
                    "response_uri": f"{base}/openid4vp/responses/{request_id}",
                    "expires_at": int(time.time()) + 3600,
                }
                batch.append((request_id, fields))
            await asyncio.gather(*(transactions.create(redis, 3600, request_id=rid, **fields) for rid, fields in batch))
            async with redis.pipeline(transaction=False) as pipe:
                for rid, _ in batch:
                    pipe.hset(f"vp:tx:{{{rid}}}", "phase", "fetched")
                await pipe.execute()
            for rid, fields in batch:
                shown = presented + _kb(who["key"], presented, client_id, str(fields["nonce"]))
                params = {"vp_token": {"licence": [shown]}, "state": fields["state"]}
                if mode == "direct_post":
                    body = urlencode({"vp_token": json.dumps(params["vp_token"]), "state": params["state"]})
                else:
                    public = encryption_jwk(str(fields["enc_key"]), str(fields["enc_kid"]))
                    token = jwe.JWE(
                        json.dumps(params).encode(),
                        protected=json.dumps({"alg": "ECDH-ES", "enc": "A128GCM", "kid": public["kid"]}),
                    )
                    token.add_recipient(jwk.JWK(**public))
                    body = urlencode({"response": token.serialize(compact=True)})
                out.append((rid, body.encode()))
    finally:
        await redis.aclose()
    return out


def credential(base: str, who: dict[str, Any], doc_id: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as http:
        r = http.get(f"/v1/me/documents/{doc_id}/credential", headers={"Authorization": f"Bearer {who['citizen']}"})
        r.raise_for_status()
        return str(r.json()["credential"])


def main() -> None:
    parser = arguments(__doc__)
    parser.set_defaults(codes=24_000)
    args = parser.parse_args()
    with services() as settings:
        who = asyncio.run(arrange(settings))
        env = {"WALLET_DOCUMENTS_VERIFY_RATE_PER_MINUTE": "100000000"}
        with api_server(settings, processes=args.processes, server=args.server, extra_env=env) as api:
            doc_id, _, _ = issue_and_show(api.url, who)
            sd_jwt = credential(api.url, who, doc_id)
            codes = asyncio.run(make_codes(settings, who, doc_id, args.codes))
            plain = asyncio.run(prepare(settings, who, sd_jwt, args.codes, "direct_post"))
            encrypted = asyncio.run(prepare(settings, who, sd_jwt, args.codes, "direct_post.jwt"))
            auth = {"authorization": f"Bearer {who['verifier']}"}
            form = {"content-type": "application/x-www-form-urlencoded"}

            def online(i: int) -> Request:
                return Request.json("POST", "/v1/verifications", {"payload": codes[(i - 1) % len(codes)]}, auth)

            def responses(prepared: list[tuple[str, bytes]]) -> Any:
                def make(i: int) -> Request:
                    rid, body = prepared[(i - 1) % len(prepared)]
                    return Request("POST", f"/openid4vp/responses/{rid}", form, body)

                return make

            runs = [
                ("baseline GET /health/live", lambda _: Request("GET", "/health/live")),
                ("online code verification (POST /v1/verifications)", online),
                ("online OID4VP response direct_post (SD-JWT VC + KB-JWT)", responses(plain)),
                ("online OID4VP response direct_post.jwt (ECDH-ES A128GCM)", responses(encrypted)),
            ]
            results = measure(api, settings, runs, args.duration, args.connections, args.codes)
    report("oid4vp_validation", args, results)


if __name__ == "__main__":
    main()
