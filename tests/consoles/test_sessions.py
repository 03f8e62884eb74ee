"""Console sessions and pages, in-process: cookie flags, CSRF, roles, headers, error pages."""

from __future__ import annotations

import re

import asyncpg
import httpx

from wallet_api.accounts.orgs import create_officer

PASSWORD = "correct horse battery staple"


async def _officer(db: asyncpg.Pool, role: str, username: str = "an.officer") -> str:
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO organisations (id, kind, name) VALUES ('org-a', 'verifier', 'Org A') ON CONFLICT DO NOTHING"
        )
        await create_officer(conn, "org-a", username, "An", [role], password=PASSWORD)
    return username


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/verify/sign-in")
    return await client.post(
        "/verify/sign-in",
        data={"username": username, "password": password, "csrf_token": _csrf(form.text)},
    )


async def test_sign_in_sets_a_strict_http_only_session_cookie(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    username = await _officer(db, "verifier_agent")
    r = await _sign_in(client, username)
    assert r.status_code == 303 and r.headers["location"] == "/verify"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("cw_session="))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/verify" in cookie
    assert "Secure" not in cookie  # tests run over plain HTTP; every other environment sets it
    page = await client.get("/verify")
    assert page.status_code == 200 and "Quét mã QR" in page.text


async def test_every_console_page_carries_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    r = await client.get("/verify/sign-in")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in r.text and " style=" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_a_form_without_its_csrf_token_is_refused(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    username = await _officer(db, "verifier_agent")
    await client.get("/verify/sign-in")
    r = await client.post("/verify/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": "0" * 64})
    assert r.status_code == 403 and "Form token" in r.text
    assert "cw_session=" not in (r.headers.get("set-cookie") or "")
    assert (await _sign_in(client, username)).status_code == 303
    r = await client.post("/verify/check", json={"payload": "VN2:xx"})
    assert r.status_code == 403 and r.json()["type"].endswith("/csrf-token")


async def test_wrong_password_is_a_message_on_the_page(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    username = await _officer(db, "verifier_agent")
    r = await _sign_in(client, username, "not it")
    assert r.status_code == 401 and "Wrong username or password" in r.text
    assert "Traceback" not in r.text


async def test_an_officer_without_the_role_gets_no_session(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    username = await _officer(db, "welfare_maker", "maker")
    r = await _sign_in(client, username)
    assert r.status_code == 403 and "verifier_agent" in r.text
    assert "cw_session=" not in (r.headers.get("set-cookie") or "")


async def test_an_expired_session_asks_to_sign_in_again(client: httpx.AsyncClient) -> None:
    client.cookies.set("cw_session", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
    r = await client.get("/verify")
    assert r.status_code == 401 and "Your session has expired" in r.text


async def test_trust_bundle_holds_issuer_keys_and_status_lists(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    username = await _officer(db, "verifier_agent")
    await db.execute("INSERT INTO organisations (id, kind, name) VALUES ('csgt', 'issuer', 'CSGT')")
    await _sign_in(client, username)
    bundle = (await client.get("/verify/trust.json")).json()
    csgt = next(i for i in bundle["issuers"] if i["id"] == "csgt")
    assert csgt["keys"] and all("d" not in k for k in csgt["keys"])
    licence = next(t for t in bundle["types"] if t["code"] == "driving_licence")
    assert licence["records"]["classes"][0] == "code" and licence["photo"] == "photo_ref"


async def test_what_the_address_carries_is_escaped_on_the_page(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO organisations (id, kind, name) VALUES ('csgt', 'issuer', 'CSGT')")
        await create_officer(conn, "csgt", "op", "Op", ["issuer_operator"], password=PASSWORD)
    form = await client.get("/agency/sign-in")
    r = await client.post(
        "/agency/sign-in", data={"username": "op", "password": PASSWORD, "csrf_token": _csrf(form.text)}
    )
    assert r.status_code == 303
    page = await client.get("/agency", params={"agency_ref": '<script>alert("x")</script>'})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
