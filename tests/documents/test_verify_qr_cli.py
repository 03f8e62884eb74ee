"""``wallet verify-qr``: the reference verifier, from a QR image, with only cached keys and lists."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from click.testing import CliRunner

from documents.cli import verify_qr
from documents.expiry import send_expiry_reminders
from tests.documents.conftest import Citizen, issue, licence_claims, presentation_proof
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
    ctx = WorkerContext(settings=app.state.settings, pool=db, redis=app.state.redis, http=app.state.http, worker_id="t")
    assert await send_expiry_reminders(ctx) == 1
    assert await send_expiry_reminders(ctx) == 0
    events = await db.fetch(
        "SELECT payload FROM outbox WHERE topic = 'document.expiring' AND consumer = 'test-documents-events'"
    )
    assert [e["payload"] for e in events] == [
        {"account_id": holder.account_id, "document_id": doc["id"], "doc_type": "driving_licence", "expires_on": soon}
    ]
