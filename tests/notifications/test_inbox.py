"""The citizen's inbox over HTTP: pages, unread count, read marks, deletion, and only one's own."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from tests.notifications.conftest import create_account, publish_event


async def _fill(db: asyncpg.Pool, consume: Any, account: uuid.UUID, n: int) -> None:
    for i in range(n):
        await publish_event(
            db,
            "document.issued",
            {"account_id": str(account), "document_id": f"doc-{i}", "doc_type": "driving_licence"},
        )
    await consume()


async def test_pages_follow_the_cursor_newest_first_without_gaps_or_repeats(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    await _fill(db, consume, account, 7)
    headers = await citizen_headers(account)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/notifications", params=params, headers=headers)).json()
        seen += [item["seq"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)


async def test_a_bad_cursor_is_a_problem_not_a_crash(
    client: httpx.AsyncClient, db: asyncpg.Pool, citizen_headers: Any
) -> None:
    account = await create_account(db)
    r = await client.get("/v1/notifications", params={"cursor": "abc"}, headers=await citizen_headers(account))
    assert r.status_code == 400
    assert r.json()["type"].endswith("/invalid-cursor")


async def test_mark_read_mark_all_read_and_unread_count(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    await _fill(db, consume, account, 4)
    headers = await citizen_headers(account)
    items = (await client.get("/v1/notifications", headers=headers)).json()["items"]
    assert (await client.get("/v1/notifications/unread-count", headers=headers)).json() == {"unread": 4}

    assert (await client.post(f"/v1/notifications/{items[0]['id']}/read", headers=headers)).status_code == 204
    assert (await client.post(f"/v1/notifications/{items[0]['id']}/read", headers=headers)).status_code == 204
    assert (await client.get("/v1/notifications/unread-count", headers=headers)).json() == {"unread": 3}
    assert (await client.get(f"/v1/notifications/{items[0]['id']}", headers=headers)).json()["read"] is True

    # "Mark all read" up to what the app has shown leaves anything newer unread.
    r = await client.post("/v1/notifications/read-all", json={"up_to": items[2]["seq"]}, headers=headers)
    assert r.json() == {"marked": 2, "unread": 1}
    r = await client.post("/v1/notifications/read-all", headers=headers)
    assert r.json() == {"marked": 1, "unread": 0}
    unread = (await client.get("/v1/notifications", params={"unread_only": "true"}, headers=headers)).json()
    assert unread["items"] == []


async def test_delete_removes_the_entry(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db)
    await _fill(db, consume, account, 2)
    headers = await citizen_headers(account)
    first = (await client.get("/v1/notifications", headers=headers)).json()["items"][0]["id"]
    assert (await client.delete(f"/v1/notifications/{first}", headers=headers)).status_code == 204
    assert (await client.delete(f"/v1/notifications/{first}", headers=headers)).status_code == 404
    page = (await client.get("/v1/notifications", headers=headers)).json()
    assert [i["id"] for i in page["items"]] != [first]
    assert len(page["items"]) == 1 and page["unread"] == 1


async def test_a_citizen_never_sees_or_changes_another_citizens_inbox(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    owner = await create_account(db)
    other = await create_account(db)
    await _fill(db, consume, owner, 1)
    entry = (await client.get("/v1/notifications", headers=await citizen_headers(owner))).json()["items"][0]["id"]
    headers = await citizen_headers(other)
    assert (await client.get("/v1/notifications", headers=headers)).json()["items"] == []
    assert (await client.get(f"/v1/notifications/{entry}", headers=headers)).status_code == 404
    assert (await client.post(f"/v1/notifications/{entry}/read", headers=headers)).status_code == 404
    assert (await client.delete(f"/v1/notifications/{entry}", headers=headers)).status_code == 404
    assert (await client.post("/v1/notifications/read-all", headers=headers)).json()["marked"] == 0
    assert await db.fetchval("SELECT read_at IS NULL FROM notifications WHERE id = $1", entry)


async def test_only_citizens_have_an_inbox(client: httpx.AsyncClient, mint: Any) -> None:
    officer = await mint(kind="officer", subject=str(uuid.uuid4()), org_id="c06", roles=frozenset({"admin"}))
    assert (await client.get("/v1/notifications", headers=officer)).status_code == 403
    assert (await client.get("/v1/notifications")).status_code == 401


async def test_the_inbox_follows_a_change_of_language(
    client: httpx.AsyncClient, db: asyncpg.Pool, consume: Any, citizen_headers: Any
) -> None:
    account = await create_account(db, language="vi")
    await _fill(db, consume, account, 1)
    headers = await citizen_headers(account)
    assert (await client.get("/v1/notifications", headers=headers)).json()["items"][0]["title"] == "Giấy tờ mới"
    r = await client.put("/v1/notifications/preferences", json={"language": "en"}, headers=headers)
    assert r.status_code == 200 and r.json()["language"] == "en"
    assert (await client.get("/v1/notifications", headers=headers)).json()["items"][0]["title"] == "New document"
