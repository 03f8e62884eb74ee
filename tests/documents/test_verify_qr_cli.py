"""``wallet verify-qr``: the reference verifier, from a QR image, with only cached keys and lists."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import asyncpg
import cbor2
import httpx
import pytest
from click.testing import CliRunner

from documents.cli import verify_qr
from documents.expiry import send_expiry_reminders
from documents.offline import kid_prefix, open_offline
from documents.offline_dictionary import OFFLINE_DICTIONARY
from documents.sdjwt import CredentialError
from documents.verifier import OfflineVerifier
from tests.documents.conftest import Citizen, issue, licence_claims, presentation_proof
from tests.support.cli import run_wallet
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext


async def _show_offline(client: httpx.AsyncClient, holder: Citizen, doc_id: str, fields: list[str]) -> dict[str, Any]:
    r = await client.post(
        f"/v1/me/documents/{doc_id}/offline-presentations",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, doc_id, fields, mode="offline")},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _fill_cache(client: httpx.AsyncClient, cache: Path, db: asyncpg.Pool) -> None:
    """What a verifier app does while it has network: fetch issuer keys and status lists."""
    (cache / "issuers").mkdir(parents=True, exist_ok=True)
    (cache / "status").mkdir(parents=True, exist_ok=True)
    meta = await client.get("/.well-known/jwt-vc-issuer/issuers/csgt")
    (cache / "issuers" / "csgt.json").write_bytes(meta.content)
    for list_id in await db.fetch("SELECT id FROM status_lists"):
        token = await client.get(f"/status-lists/{list_id['id']}")
        (cache / "status" / f"{list_id['id']}.jwt").write_bytes(token.content)


def _run(*args: str) -> Any:
    return CliRunner().invoke(verify_qr, [*args, "--offline", "--server", "http://testserver", "--json"])


async def test_verify_qr_reads_the_image_and_prints_the_fields(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, tmp_path: Path, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    shown = await _show_offline(client, holder, doc["id"], ["classes", "expiry_date"])
    image = tmp_path / "qr.png"
    image.write_bytes(base64.b64decode(shown["qr_png"]))
    await _fill_cache(client, tmp_path / "cache", db)
    result = _run(str(image), "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["status"] == "valid" and out["issuer"]["id"] == "csgt"
    assert out["fields"]["classes"]["value"] == licence_claims()["classes"]
    assert out["fields"]["expiry_date"] == {"label": "Có giá trị đến", "value": "2035-06-10"}
    # The text itself works as well as the picture of it.
    assert _run(shown["payload"], "--cache-dir", str(tmp_path / "cache")).exit_code == 0


async def test_verify_qr_refuses_a_revoked_document_from_the_cached_list(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, tmp_path: Path, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    shown = await _show_offline(client, holder, doc["id"], ["points"])
    await client.post(f"/v1/agency/documents/{doc['id']}/revoke", headers=issuer, json={"reason": "withdrawn"})
    await _fill_cache(client, tmp_path / "cache", db)
    result = _run(shown["payload"], "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 1
    assert json.loads(result.output)["reason"] == "document-revoked"


async def test_verify_qr_without_keys_or_list(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, tmp_path: Path, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    shown = await _show_offline(client, holder, doc["id"], ["points"])
    result = _run(shown["payload"], "--cache-dir", str(tmp_path / "empty"))
    assert result.exit_code == 1 and json.loads(result.output)["reason"] == "unknown-issuer"
    await _fill_cache(client, tmp_path / "cache", db)
    for listed in (tmp_path / "cache" / "status").iterdir():
        listed.unlink()
    result = _run(shown["payload"], "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 3 and json.loads(result.output)["reason"] == "status-unknown"


async def test_verify_qr_refuses_a_tampered_payload(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, tmp_path: Path, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    payload = (await _show_offline(client, holder, doc["id"], ["points"]))["payload"]
    await _fill_cache(client, tmp_path / "cache", db)
    i = len(payload) - 10
    tampered = payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1 :]
    result = _run(tampered, "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 1 and json.loads(result.output)["reason"] == "tampered"


async def test_expiry_reminder_is_sent_once_per_expiry_date(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool, app: Any
) -> None:
    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    doc = await issue(
        client,
        issuer,
        claims=licence_claims(
            expiry_date=soon, classes=[{"code": "B", "issue_date": "2015-06-10", "expiry_date": soon}]
        ),
    )
    await issue(client, issuer)  # expires in 2035: no reminder
    ctx = WorkerContext(app.state.services, worker_id="t")
    assert await send_expiry_reminders(ctx) == 1
    assert await send_expiry_reminders(ctx) == 0
    events = await db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'document.expiring' AND consumer = 'notifications.inbox'"
    )
    assert [e["payload"] for e in events] == [
        {"account_id": holder.account_id, "document_id": doc["id"], "doc_type": "driving_licence", "expires_on": soon}
    ]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _forged(org_id: str, genuine: str) -> str:
    """An offline payload naming ``org_id`` with the genuine one's status entry, signed by a stranger's key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from documents.offline import encode_offline
    from documents.types import get_type
    from wallet_api.keys.provider import SigningKey, jwk_thumbprint, public_jwk

    private = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(private.public_key())
    key = SigningKey(jwk_thumbprint(jwk), "issuer", org_id, jwk, private, dt.datetime.now(dt.UTC))
    real = open_offline(genuine)
    body = cbor2.loads(zlib.decompressobj(-15, zdict=OFFLINE_DICTIONARY).decompress(real.payload))
    doc_type = get_type(body[-1])
    assert doc_type is not None
    now = int(time.time())
    return encode_offline(
        key,
        org_id=org_id,
        doc_type=doc_type,
        claims=licence_claims(),
        revealed={"points": 12},
        status_list_id=uuid.UUID(bytes=body[-2][0]),
        status_idx=body[-2][1],
        level=2,
        iat=now,
        exp=now + 3600,
    )


async def test_verify_qr_refetches_keys_on_an_unknown_kid_within_bounds(
    client: httpx.AsyncClient,
    issuer: Any,
    holder: Citizen,
    tmp_path: Path,
    settings: Settings,
    app: Any,
) -> None:
    """After `wallet documents rotate-key`, a verifier online accepts the new key's codes at once;
    forged codes naming the issuer cost at most a bounded number of fetches and poison nothing."""
    loop = asyncio.get_running_loop()
    fetched: list[str] = []

    def fetch(url: str) -> bytes | None:
        fetched.append(url)
        path = url.removeprefix("http://testserver")
        r = asyncio.run_coroutine_threadsafe(client.get(path), loop).result(30)
        return r.content if r.status_code == 200 else None

    clock = _Clock()
    verifier = OfflineVerifier("http://testserver", tmp_path / "cache", fetch, clock=clock)
    doc = await issue(client, issuer)
    before = (await _show_offline(client, holder, doc["id"], ["points"]))["payload"]
    assert (await asyncio.to_thread(verifier.verify, before)).claims.org_id == "csgt"

    rotated = await asyncio.to_thread(
        run_wallet, settings, tmp_path / "cli", "documents", "rotate-key", "csgt", kek=settings.kek
    )
    assert rotated.returncode == 0, rotated.stderr
    after = (await _show_offline(client, holder, doc["id"], ["points"]))["payload"]
    assert kid_prefix(open_offline(after)) != kid_prefix(open_offline(before))
    clock.now += 2  # the issuer's keys were fetched two seconds ago: well within the hour's cache
    keys_url = "http://testserver/.well-known/jwt-vc-issuer/issuers/csgt"
    fetched.clear()
    assert (await asyncio.to_thread(verifier.verify, after)).claims.fields == {"points": 12}
    assert fetched.count(keys_url) == 1

    # A forged code naming the issuer: one refetch, refused, and the same forgery again costs nothing.
    forged = _forged("csgt", after)
    fetched.clear()
    for _ in range(3):
        with pytest.raises(CredentialError) as exc:
            await asyncio.to_thread(verifier.verify, forged)
        assert exc.value.slug == "unknown-issuer"
    assert fetched.count(keys_url) == 1
    # Genuine codes of both keys still verify: the forgery left no negative entry behind.
    for payload in (before, after):
        assert (await asyncio.to_thread(verifier.verify, payload)).claims.org_id == "csgt"
    # Many different forged kids: bounded refetches per minute, then none until the minute has passed.
    fetched.clear()
    for _ in range(20):
        with pytest.raises(CredentialError):
            await asyncio.to_thread(verifier.verify, _forged("csgt", after))
    assert fetched.count(keys_url) <= 6
    clock.now += 61
    fetched.clear()
    with pytest.raises(CredentialError):
        await asyncio.to_thread(verifier.verify, _forged("csgt", after))
    assert fetched.count(keys_url) == 1
