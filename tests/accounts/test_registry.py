"""The population registry interface: local table and HTTP adapter speak the same language."""

from __future__ import annotations

import json
from datetime import date

import asyncpg
import httpx
import pytest

from tests.accounts.conftest import Person, add_person
from wallet_api.accounts.registry import HttpRegistry, LocalRegistry, RegistryUnavailable


async def test_local_registry_finds_people_and_children(db: asyncpg.Pool) -> None:
    mum = await add_person(db, Person("001195004211", "Nguyễn Thị Hồng Nhung", date(1995, 4, 21)))
    await add_person(db, Person("001317002468", "Trần Ngọc Bảo Anh", date(2017, 6, 15), mother_id=mum.person_id))
    registry = LocalRegistry(db)
    found = await registry.lookup(mum.person_id)
    assert found is not None and found.full_name == mum.full_name and found.residence_province == "001"
    assert await registry.lookup("001195999999") is None
    children = await registry.children_of(mum.person_id)
    assert [c.person_id for c in children] == ["001317002468"]
    found_many = await registry.lookup_many([mum.person_id, "001195999999", mum.person_id, "001317002468"])
    assert sorted(found_many) == ["001195004211", "001317002468"]


def _registry_app(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer t0ken"
    person = {
        "person_id": "001195004211",
        "full_name": "Nguyễn Thị Hồng Nhung",
        "date_of_birth": "1995-04-21",
        "sex": "female",
        "place_of_origin": "Hà Nội",
        "residence_address": "Số 1 Tràng Tiền, Hà Nội",
        "residence_province": "001",
        "status": "alive",
        "died_on": None,
        "father_id": None,
        "mother_id": None,
    }
    if request.url.path == "/persons/001195004211":
        return httpx.Response(200, json=person)
    if request.url.path == "/persons/001195004211/children":
        return httpx.Response(200, json={"children": []})
    if request.url.path.startswith("/persons/500"):
        return httpx.Response(502)
    if request.url.path == "/persons/lookup" and request.method == "POST":
        asked = json.loads(request.read())["person_ids"]
        assert len(asked) <= 1000
        if "500195004211" in asked:
            return httpx.Response(200, json={"people": []})
        return httpx.Response(200, json={"persons": [person] if "001195004211" in asked else []})
    return httpx.Response(404)


async def test_http_registry_adapter_reads_the_protocol() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_registry_app)) as http:
        registry = HttpRegistry(http, "https://registry.example", "t0ken")
        person = await registry.lookup("001195004211")
        assert person is not None and person.date_of_birth == date(1995, 4, 21) and not person.deceased
        assert await registry.lookup("001195999999") is None
        assert await registry.children_of("001195004211") == []
        with pytest.raises(RegistryUnavailable):
            await registry.lookup("500195004211")
        many = [f"001195{i:06d}" for i in range(4500)]  # five requests
        assert list(await registry.lookup_many(many)) == ["001195004211"]
        assert await registry.lookup_many(["001088012345"]) == {}
        with pytest.raises(RegistryUnavailable):
            await registry.lookup_many(["500195004211"])
