"""What every console page and form must do, checked in-process across the three consoles:
the strict Content-Security-Policy, a CSRF token on every form (and nothing done without
it), the Secure cookie outside development, the installable verifier app, and the API's own
authorisation (another agency's document is not found)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import asyncpg
import httpx
import pytest

from consoles.session import SESSION_COOKIE, session_cookies
from tests.consoles.test_sessions import PASSWORD, _csrf
from tests.documents.conftest import ISSUER_TYPES, licence_claims
from tests.support.settings import replaced
from wallet_api.accounts.orgs import create_officer
from wallet_api.settings import Settings

TEMPLATES = Path(__file__).parents[2] / "consoles" / "templates"
CONSOLES = {"verify": "verifier_agent", "agency": "issuer_operator", "welfare": "welfare_maker"}


async def _organisations(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO organisations (id, kind, name) VALUES ('hotel', 'verifier', 'Khách sạn')")
        for org in ("csgt", "other-police"):
            await conn.execute(
                "INSERT INTO organisations (id, kind, name, document_types) VALUES ($1, 'issuer', $1, $2)",
                org,
                ISSUER_TYPES,
            )
        await conn.execute(
            "INSERT INTO organisations (id, kind, name, provinces) VALUES ('welfare-hn', 'welfare', 'Sở', '{001}')"
        )
        await create_officer(conn, "hotel", "verify.officer", "V", ["verifier_agent"], password=PASSWORD)
        await create_officer(conn, "csgt", "agency.officer", "A", ["issuer_operator"], password=PASSWORD)
        await create_officer(conn, "other-police", "other.officer", "O", ["issuer_operator"], password=PASSWORD)
        await create_officer(conn, "welfare-hn", "welfare.officer", "W", ["welfare_maker"], password=PASSWORD)


async def _signed_in(client: httpx.AsyncClient, console: str, username: str) -> str:
    """Signs in at the console's own form; returns the CSRF token of its home page."""
    form = await client.get(f"/{console}/sign-in")
    r = await client.post(
        f"/{console}/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": _csrf(form.text)}
    )
    assert r.status_code == 303, r.text
    home = await client.get(f"/{console}")
    assert home.status_code == 200, home.text
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', home.text)
    assert found
    return found.group(1)


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    forms = 0
    for template in sorted(TEMPLATES.glob("*.html")):
        for form in re.findall(r"<form[^>]*>.*?</form>", template.read_text(), flags=re.S):
            if 'method="post"' in form:
                forms += 1
                assert 'name="{{ csrf_field }}" value="{{ csrf }}"' in form, f"{template.name}: {form[:120]}"
    assert forms >= 10


@pytest.mark.parametrize("console", sorted(CONSOLES))
async def test_every_console_page_carries_the_policy_and_no_inline_code(
    client: httpx.AsyncClient, db: asyncpg.Pool, console: str
) -> None:
    await _organisations(db)
    # The sign-in form, an address that names no page, the sign-in page a 401 gives, the home page.
    pages = [await client.get(f"/{console}/{path}") for path in ("sign-in", "no-such-page", "")]
    await _signed_in(client, console, f"{console}.officer")
    pages.append(await client.get(f"/{console}"))
    assert [p.status_code for p in pages] == [200, 404, 401, 200]
    for page in pages:
        assert len(page.headers.get_list("content-security-policy")) == 1, page.url
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp, page.url
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text and " style=" not in page.text and " on" + "click=" not in page.text
        assert "Traceback" not in page.text and page.headers["content-type"].startswith("text/html")


async def test_a_state_change_without_the_csrf_token_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    await _organisations(db)
    await _signed_in(client, "agency", "agency.officer")
    issue = {
        "doc_type": "driving_licence",
        "agency_ref": "GPLX-1",
        "holder_id": "001090012345",
        "claims": str(licence_claims()),
    }
    r = await client.post("/agency/documents", data=issue)
    assert r.status_code == 403 and "Form token" in r.text
    r = await client.post("/agency/sign-out", data={})
    assert r.status_code == 403
    assert (await client.get("/agency")).status_code == 200  # still signed in
    await _signed_in(client, "welfare", "welfare.officer")
    r = await client.post("/welfare/programmes", data={"name": "Trợ cấp", "budget": "1000"})
    assert r.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM documents") == 0
    assert await db.fetchval("SELECT count(*) FROM programmes") == 0


def test_the_session_cookie_is_secure_outside_development_and_tests(settings: Settings) -> None:
    for env, secure in [("production", True), ("staging", True), ("development", False), ("test", False)]:
        cookie = session_cookies("token", replaced(settings, env=env), "agency")[0]
        assert cookie.key == SESSION_COOKIE and cookie.httponly and cookie.samesite == "strict"
        assert (cookie.secure, cookie.path) == (secure, "/agency"), env


async def test_another_agency_finds_and_touches_none_of_my_documents(
    client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    await _organisations(db)
    await db.execute(
        "INSERT INTO population (person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,"
        " residence_province, status) VALUES ('001090012345', 'Nguyễn Văn Hùng', '1990-05-17', 'male',"
        " 'Hà Nội', 'Hà Nội', '001', 'alive') ON CONFLICT DO NOTHING"
    )
    token = await _signed_in(client, "agency", "agency.officer")
    r = await client.post(
        "/agency/documents",
        data={
            "csrf_token": token,
            "doc_type": "driving_licence",
            "agency_ref": "GPLX-1",
            "holder_id": "001090012345",
            "claims": json.dumps(licence_claims()),
        },
    )
    assert r.status_code == 303, r.text
    mine = r.headers["location"]
    client.cookies.clear()
    token = await _signed_in(client, "agency", "other.officer")
    found = await client.get("/agency", params={"agency_ref": "GPLX-1"})
    assert 'id="not-found"' in found.text and mine not in found.text
    assert (await client.get(mine)).status_code == 404
    r = await client.post(f"{mine}/state", data={"csrf_token": token, "action": "revoke", "reason": "not mine"})
    assert r.status_code == 404
    assert await db.fetchval("SELECT state FROM documents") == "active"


async def test_the_verifier_app_is_installable(client: httpx.AsyncClient) -> None:
    manifest = (await client.get("/verify/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/verify/" and manifest["scope"] == "/verify/"
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).headers["content-type"] == "image/png"
    worker = await client.get("/verify/sw.js")
    assert worker.status_code == 200 and worker.headers["service-worker-allowed"] == "/verify"
    assert "verify-offline.js" in worker.text


async def test_a_bulk_file_that_is_not_ndjson_is_one_clear_message(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    await _organisations(db)
    token = await _signed_in(client, "agency", "agency.officer")
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    r = await client.post(
        "/agency/bulk", data={"csrf_token": token}, files={"file": ("register.ndjson", picture, "image/png")}
    )
    assert r.status_code == 422 and "not an NDJSON register export" in r.text and 'id="problem"' in r.text
    assert await db.fetchval("SELECT count(*) FROM documents") == 0
