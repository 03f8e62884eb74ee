"""Lua scripts (wallet_api/redis_client.py): every caller gets its own reply, a flushed script
is sent again, a lost, restarted or silent Redis gives redis-py's errors, not a hang, and
TLS takes the same path."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from typing import Any

import pytest
import redis.asyncio as aioredis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wallet_api.redis_client import LuaScript, Redis, create_redis, pack_commands

_ECHO = LuaScript("return {ARGV[1], redis.call('INCR', KEYS[1])}")


async def test_the_app_client_runs_scripts_on_its_pipelined_connection(redis: Redis) -> None:
    assert isinstance(redis, Redis)
    assert redis.scripts is not None


async def test_concurrent_callers_each_get_their_own_reply(redis: aioredis.Redis) -> None:
    replies = await asyncio.gather(*(_ECHO(redis, ("test:count",), f"caller-{i}") for i in range(500)))
    assert [r[0] for r in replies] == [f"caller-{i}".encode() for i in range(500)]
    assert sorted(r[1] for r in replies) == list(range(1, 501))


async def test_a_failing_script_fails_only_its_own_caller(redis: aioredis.Redis) -> None:
    failing = LuaScript("return redis.error_reply('refused by the script')")
    results: tuple[Any, ...] = await asyncio.gather(
        _ECHO(redis, ("test:count",), "before"),
        failing(redis, ("test:count",)),
        _ECHO(redis, ("test:count",), "after"),
        return_exceptions=True,
    )
    before, refused, after = results
    assert (before[0], after[0]) == (b"before", b"after")
    assert isinstance(refused, ResponseError) and "refused by the script" in str(refused)


async def test_a_cancelled_caller_does_not_shift_the_replies_of_others(redis: aioredis.Redis) -> None:
    first = asyncio.create_task(_ECHO(redis, ("test:count",), "cancelled"))
    await asyncio.sleep(0)  # its command is written; cancel before the reply arrives
    first.cancel()
    assert (await _ECHO(redis, ("test:count",), "second"))[0] == b"second"


async def test_a_script_flushed_from_redis_is_sent_again(redis: aioredis.Redis) -> None:
    await _ECHO(redis, ("test:count",), "cached")
    await redis.script_flush()
    assert (await _ECHO(redis, ("test:count",), "again"))[0] == b"again"


_ARGUMENT = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8")), st.binary(), st.integers(), st.floats(), st.booleans()
)


@given(st.lists(st.tuples(st.sampled_from(["EVALSHA", "EVAL"]), st.lists(_ARGUMENT, max_size=6)), min_size=1))
def test_script_calls_are_packed_as_redis_py_packs_them(calls: list[tuple[str, list[Any]]]) -> None:
    """The fast packer sends exactly redis-py's bytes, and refuses what redis-py refuses."""
    conn = Connection()
    commands = [(name, *arguments) for name, arguments in calls]
    try:
        expected = b"".join(conn.pack_commands(commands))
    except Exception as refused:
        with pytest.raises(type(refused)):
            pack_commands(commands, conn)
        return
    assert b"".join(pack_commands(commands, conn)) == expected


def test_a_script_file_beside_its_module_is_loaded_like_a_string(tmp_path: Any) -> None:
    (tmp_path / "echo.lua").write_text(_ECHO.source, encoding="utf-8")
    loaded = LuaScript.beside(str(tmp_path / "module.py"), "echo.lua")
    assert (loaded.source, loaded.sha) == (_ECHO.source, _ECHO.sha)


async def test_a_stopped_redis_fails_calls_and_a_restarted_one_serves_them_again(
    redis: aioredis.Redis, servers: Any
) -> None:
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop it")
    await _ECHO(redis, ("test:count",), "before")
    servers.redis.stop()
    try:
        with pytest.raises(RedisConnectionError):
            await _ECHO(redis, ("test:count",), "while stopped")
    finally:
        servers.redis.start()
    assert (await _ECHO(redis, ("test:count",), "after"))[0] == b"after"


async def test_a_redis_restarted_between_calls_is_connected_again_without_a_failure(
    redis: aioredis.Redis, servers: Any
) -> None:
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to restart it")
    await _ECHO(redis, ("test:count",), "before")
    servers.redis.stop()
    servers.redis.start()
    assert (await _ECHO(redis, ("test:count",), "after"))[0] == b"after"


async def test_a_redis_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the command, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = create_redis(f"redis://127.0.0.1:{port}")  # as the app makes it
    try:
        with pytest.raises(RedisTimeoutError):
            await _ECHO(client, ("test:count",), "unanswered")
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_a_redis_that_falls_silent_on_a_live_connection_times_out_and_the_next_call_reconnects(
    servers: Any,
) -> None:
    """The watchdog of the script connection: no reply within the socket timeout fails the call."""
    if servers.redis is None:
        pytest.skip("needs the embedded Redis (its socket) behind the relay")
    silent = asyncio.Event()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(str(servers.redis.socket_path))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, towards_client: bool) -> None:
            while data := await src.read(65536):
                if towards_client and silent.is_set():
                    continue  # replies are swallowed: Redis seems to hang
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True), return_exceptions=True)

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = create_redis(f"redis://127.0.0.1:{port}")
    try:
        assert (await _ECHO(client, ("test:silent",), "answered"))[0] == b"answered"
        silent.set()
        results = await asyncio.gather(
            *(_ECHO(client, ("test:silent",), f"unanswered-{i}") for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, RedisTimeoutError) for r in results)
        silent.clear()
        assert (await _ECHO(client, ("test:silent",), "again"))[0] == b"again"
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_scripts_run_the_same_way_over_tls(servers: Any, tmp_path: Any) -> None:
    """Production speaks TLS to Redis (``rediss://``): scripts take the same path there.

    The embedded Redis has no TLS, so a TLS terminator in front of it stands in for a
    managed Redis; the client verifies the terminator's certificate.
    """
    if servers.redis is None:
        pytest.skip("needs the embedded Redis (its socket) behind the TLS terminator")
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def terminate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(str(servers.redis.socket_path))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    server = await asyncio.start_server(terminate, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    client = create_redis(f"rediss://127.0.0.1:{port}?ssl_ca_certs={cert}")
    try:
        assert issubclass(client.connection_pool.connection_class, aioredis.SSLConnection)
        replies = await asyncio.gather(*(_ECHO(client, ("test:tls",), f"caller-{i}") for i in range(50)))
        assert [r[0] for r in replies] == [f"caller-{i}".encode() for i in range(50)]
        await client.script_flush()
        assert (await _ECHO(client, ("test:tls",), "again"))[0] == b"again"
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


def _self_signed(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "redis.pem", folder / "redis.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)
