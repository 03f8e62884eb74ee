"""Client addresses through trusted proxies only, and Redis key names nobody can reverse (issue 14, item 6)."""

from __future__ import annotations

import hashlib
from datetime import date

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.accounts.conftest import Person, add_person, start_registration
from tests.support.asgi import client_of, lifespan
from tests.support.settings import replaced
from wallet_api.accounts.orgs import create_officer, upsert_org
from wallet_api.accounts.ratelimit import key_names_secret, subject_key, use_key_names_secret
from wallet_api.app import create_app
from wallet_api.client_address import client_address, source_of, trusted_proxies
from wallet_api.settings import Settings, SettingsError

PROXIES = trusted_proxies("10.0.0.0/8, 2001:db8:ffff::1")


def _scope(peer: str, *headers: tuple[str, str]) -> dict[str, object]:
    return {"client": (peer, 40000), "headers": [(k.encode(), v.encode()) for k, v in headers]}


def test_without_trusted_proxies_forwarding_headers_are_ignored() -> None:
    scope = _scope("203.0.113.7", ("x-forwarded-for", "198.51.100.1"), ("forwarded", "for=198.51.100.2"))
    assert client_address(scope, trusted_proxies("")) == "203.0.113.7"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client() -> None:
    assert client_address(_scope("203.0.113.7", ("x-forwarded-for", "198.51.100.1")), PROXIES) == "203.0.113.7"


def test_the_chain_is_read_from_the_right_up_to_the_first_untrusted_address() -> None:
    scope = _scope("10.0.0.5", ("x-forwarded-for", "9.9.9.9, 198.51.100.1, 10.1.2.3"))
    assert client_address(scope, PROXIES) == "198.51.100.1"


def test_forwarded_is_read_with_quotes_brackets_and_ports() -> None:
    scope = _scope("10.0.0.5", ("forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.9'))
    assert client_address(scope, PROXIES) == "2001:db8:cafe::17"
    scope = _scope("10.0.0.5", ("forwarded", "for=192.0.2.60:8080;by=10.0.0.5"))
    assert client_address(scope, PROXIES) == "192.0.2.60"


def test_an_unreadable_entry_stops_at_the_last_proxy() -> None:
    assert client_address(_scope("10.0.0.5", ("x-forwarded-for", "unknown")), PROXIES) == "10.0.0.5"


def test_ipv6_clients_count_by_their_64_network() -> None:
    assert source_of("2001:db8:cafe:1:aaaa::1") == source_of("2001:db8:cafe:1:ffff::2") == "2001:db8:cafe:1::/64"
    assert source_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_of("192.0.2.1") == "192.0.2.1"


@hypothesis_settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    written=st.lists(
        st.ip_addresses().map(str)
        | st.text(alphabet=st.characters(codec="utf-8", blacklist_characters=","), max_size=20),
        max_size=5,
    ),
    real=st.tuples(st.integers(11, 99), st.integers(0, 255), st.integers(0, 255), st.integers(1, 254)).map(
        lambda t: ".".join(map(str, t))
    ),
)
def test_whatever_a_client_writes_it_cannot_choose_its_address(written: list[str], real: str) -> None:
    # Our proxy (10.0.0.5) appends the address it saw; everything left of it is the client's.
    # (Lone surrogates are left out of the text: they cannot be encoded, so no client can send one.)
    scope = _scope("10.0.0.5", ("x-forwarded-for", ", ".join([*written, real])))
    assert client_address(scope, PROXIES) == real


def test_a_malformed_setting_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="WALLET_TRUSTED_PROXIES"):
        Settings.from_env({"WALLET_TRUSTED_PROXIES": "10.0.0.0/8, not-an-address"})


async def test_lockouts_count_the_forwarded_client_behind_a_trusted_balancer(
    settings: Settings, db: asyncpg.Pool
) -> None:
    async with db.acquire() as conn:
        await upsert_org(conn, "ca-hanoi", "police", "Công an Hà Nội")
        await create_officer(conn, "ca-hanoi", "police.hanoi", "Lê Văn Minh", ["police_officer"], password="right-pw")
    app = create_app(replaced(settings, trusted_proxies="10.0.0.0/8"))
    async with lifespan(app), client_of(app, ("10.0.0.5", 40000)) as balancer:  # the load balancer

        async def attempt(client_ip: str, password: str) -> int:
            r = await balancer.post(
                "/v1/officers/sign-in",
                json={"username": "police.hanoi", "password": password},
                headers={"X-Forwarded-For": client_ip},
            )
            return r.status_code

        assert [await attempt("203.0.113.7", "guess") for _ in range(5)] == [401] * 5
        assert await attempt("203.0.113.7", "right-pw") == 429
        # Every client arrives from the balancer's address; only the guesser is locked.
        assert await attempt("198.51.100.20", "right-pw") == 200


async def test_redis_key_names_are_keyed_by_a_server_secret(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis, settings: Settings
) -> None:
    person = await add_person(db, Person("001090012345", "Nguyễn Văn Hùng", date(1990, 5, 17)))
    assert (await start_registration(client, person)).status_code == 202
    names = " ".join([k.decode() async for k in redis.scan_iter("*")])
    unsalted = hashlib.sha256(person.person_id.encode()).hexdigest()[:32]
    assert "rl:" in names
    assert unsalted not in names and person.person_id not in names
    assert subject_key(person.person_id, "127.0.0.1") in names  # per person and source
    # Another deployment (another key-encryption key) names the same person differently.
    mine = subject_key(person.person_id)
    use_key_names_secret(b"another deployment")
    try:
        assert subject_key(person.person_id) != mine
    finally:
        use_key_names_secret(key_names_secret(settings.kek_bytes()))
