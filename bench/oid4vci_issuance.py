"""Credentials issued per second through OpenID4VCI with batch issuance, against the app's own
credential endpoint in the same run.

Sets up an issuer, a level-2 citizen and a driving licence (bench/verify.py's arrangement),
has the citizen offer the licence from the app, and redeems the offer over HTTP as a wallet
would (transaction code, DPoP), then measures one after another with the same connections:

* ``GET /health/live``: the floor of the server;
* the app's own credential endpoint, ``GET /v1/me/documents/{id}/credential``, each request
  from a device that has no credential yet, so that each mints and stores one (device-bound
  SD-JWT VC, one status position);
* ``POST /openid4vci/credential`` with ``--batch`` key proofs (distinct holder keys over one
  fresh ``c_nonce``) and a fresh DPoP proof: ``--batch`` credentials per request, each with
  its own status position, salts and decoys, stored in one statement.

Requests are prepared before the clock starts: nonces put in Redis by the function the
nonce endpoint uses, an access token per request made by the function the token endpoint
uses (a token fetches at most one batch of a document), proofs signed here. So the load
generator's signing does not load the machine while issuance is measured, and the served
app gets longer proof and nonce lifetimes (``WALLET_OPENID4VCI_*``). Each line reports
credentials per second and the CPU the API, PostgreSQL and Redis spent per credential.

    .venv/bin/python -m bench.oid4vci_issuance [--duration 8] [--connections 16] [--batch 10]
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import ec

from bench.cpu import CpuMeter
from bench.loadgen import Request, run_load
from bench.system import RunningApi, api_server, services
from bench.verify import arguments, arrange, issue_licence, report
from openid4vci.access_tokens import issue_access_token
from openid4vci.nonces import issue_nonce
from tests.openid4vci.wallet import PRE_AUTHORIZED, Wallet, key_proof, ref_of, thumbprint
from wallet_api.auth.principal import Principal
from wallet_api.auth.tokens import TokenService
from wallet_api.db import create_pool
from wallet_api.keys import DatabaseKeyProvider
from wallet_api.keys.provider import public_jwk
from wallet_api.settings import Settings

_LIFETIMES = {
    "WALLET_OPENID4VCI_PROOF_MAX_AGE_SECONDS": "1800",
    "WALLET_OPENID4VCI_C_NONCE_TTL_SECONDS": "1800",
    "WALLET_OPENID4VCI_ACCESS_TOKEN_TTL_SECONDS": "1800",
}


async def _devices(settings: Settings, who: dict[str, Any], n: int) -> list[str]:
    """``n`` more devices of the citizen, each with its access token: each first fetch mints."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        key = public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
        ids = await pool.fetch(
            """INSERT INTO devices (account_id, name, public_jwk)
               SELECT $1::uuid, 'bench ' || g, $2 FROM generate_series(1, $3) g RETURNING id""",
            who["account"],
            key,
            n,
        )
        tokens = TokenService(
            DatabaseKeyProvider(pool, settings.kek_bytes()), issuer=settings.public_base_url, ttl_seconds=3600
        )
        now = int(time.time())
        return [
            (
                await tokens.issue(
                    Principal(kind="citizen", subject=who["account"], level=2, device_id=str(r["id"]), auth_time=now)
                )
            )[0]
            for r in ids
        ]
    finally:
        await pool.close()


async def _access_token(base: str, who: dict[str, Any], doc_id: str) -> tuple[Wallet, str]:
    """The citizen offers the licence in the app; a wallet redeems it (tx_code, DPoP) over HTTP."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.post(
            "/v1/me/credential-offers",
            headers={"Authorization": f"Bearer {who['citizen']}"},
            json={"document_ids": [doc_id]},
        )
        r.raise_for_status()
        made = r.json()
        wallet = Wallet(http, issuer=Settings.from_env().public_base_url.rstrip("/"))
        offer = (await http.get(ref_of(made["offer"]))).json()
        token = await wallet.token(offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"], made["tx_code"])
        token.raise_for_status()
        return wallet, str(token.json()["access_token"])


async def _credential_requests(
    settings: Settings, wallet: Wallet, first: str, who: dict[str, Any], doc_id: str, n: int, batch: int
) -> list[Request]:
    """``n`` credential requests, each with its own c_nonce and access token.

    A token fetches at most one batch of a document, so each request after the first (whose
    token came from the token endpoint) gets a token made by the function that endpoint uses,
    bound to the same DPoP key.
    """
    issuer = settings.public_base_url.rstrip("/")
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(batch)]
    redis = aioredis.from_url(settings.redis_url)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        nonces = [await issue_nonce(redis, 1800) for _ in range(n)]
        provider = DatabaseKeyProvider(pool, settings.kek_bytes())
        tokens = [first] + [
            await issue_access_token(
                provider,
                issuer=issuer,
                account_id=uuid.UUID(who["account"]),
                document_ids=[uuid.UUID(doc_id)],
                jkt=thumbprint(public_jwk(wallet.dpop_key.public_key())),
                ttl=1800,
            )
            for _ in range(n - 1)
        ]
    finally:
        await redis.aclose()
        await pool.close()
    requests = []
    for nonce, access in zip(nonces, tokens, strict=True):
        body = {"credential_identifier": doc_id, "proofs": {"jwt": [key_proof(k, nonce, aud=issuer) for k in keys]}}
        headers = {
            "authorization": f"DPoP {access}",
            "dpop": wallet.dpop("POST", f"{issuer}/openid4vci/credential", access_token=access),
        }
        requests.append(Request.json("POST", "/openid4vci/credential", body, headers))
    return requests


def _measure(
    api: RunningApi,
    settings: Settings,
    runs: list[tuple[str, Callable[[int], Request], int, int]],
    duration: float,
    connections: int,
) -> list[dict[str, Any]]:
    """Each run in turn: (name, request of the i-th call, credentials per call, most calls)."""
    results: list[dict[str, Any]] = []
    meter = CpuMeter(api.process.pid, settings.data_dir)
    for name, factory, per_call, most in runs:
        before = meter.sample()
        # A run on prepared requests has no warm-up, so that every request made is counted and
        # none is used twice (a DPoP proof or c_nonce again would be refused).
        bounded = most < 10**9
        result = asyncio.run(
            run_load(
                api.host,
                api.port,
                factory,
                connections=connections,
                duration=duration,
                name=name,
                max_requests=most - connections if bounded else None,
                warmup=0.0 if bounded else 1.0,
            )
        )
        ok = result.statuses.get(200, 0)
        summary = result.summary()
        # CPU per credential; per request for the floor (no credential).
        used = meter.per_request_ms(before, meter.sample(), ok * per_call or ok)
        results.append(
            {
                **summary,
                "credentials_per_request": per_call,
                # Counted from 200 answers only (a refused request issues nothing).
                "credentials_per_s": round(ok * per_call / result.seconds) if per_call else None,
                **{k.replace("_ms", "_ms_per_credential" if per_call else "_ms"): v for k, v in used.items()},
            }
        )
    return results


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--batch", type=int, default=10, help="key proofs (credentials) per OID4VCI request")
    parser.add_argument("--prepared", type=int, default=6000, help="requests prepared per issuing run")
    parser.set_defaults(connections=16)
    args = parser.parse_args()
    with services() as settings:
        who = asyncio.run(arrange(settings))
        env = {**_LIFETIMES, "WALLET_OPENID4VCI_BATCH_SIZE": str(max(args.batch, 2))}
        with api_server(settings, processes=args.processes, server=args.server, extra_env=env) as api:
            with httpx.Client(base_url=api.url, timeout=30) as http:
                doc_id = issue_licence(http, who)
            device_tokens = asyncio.run(_devices(settings, who, args.prepared))
            wallet, access = asyncio.run(_access_token(api.url, who, doc_id))
            prepared = asyncio.run(
                _credential_requests(settings, wallet, access, who, doc_id, args.prepared, args.batch)
            )

            def app_credential(i: int) -> Request:
                auth = {"authorization": f"Bearer {device_tokens[(i - 1) % len(device_tokens)]}"}
                return Request("GET", f"/v1/me/documents/{doc_id}/credential", auth)

            runs = [
                ("baseline GET /health/live", lambda _: Request("GET", "/health/live"), 0, 10**9),
                ("app credential endpoint (mints one per device)", app_credential, 1, args.prepared),
                (
                    f"OID4VCI credential endpoint, batch of {args.batch}",
                    lambda i: prepared[(i - 1) % len(prepared)],
                    args.batch,
                    args.prepared,
                ),
            ]
            results = _measure(api, settings, runs, args.duration, args.connections)
    report("oid4vci_issuance", args, results)


if __name__ == "__main__":
    main()
