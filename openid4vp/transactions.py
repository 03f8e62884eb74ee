"""Presentation requests in Redis: what may be lost (the verifier then asks again), and expires.

One hash per request, ``vp:tx:{<id>}``, kept for ``WALLET_OPENID4VP_REQUEST_TTL_SECONDS`` and,
once the wallet answered, for ``…_RESULT_TTL_SECONDS``. Its ``phase`` moves one way only,
each step taken by a script so that two callers racing cannot both take it:

    created --(wallet fetches the request object: once)--> fetched
    fetched --(first response to reach the response URI)--> checking --> answered | refused
    answered --(the verifier reads the result: once)--> delivered

So a request object is served once, a response is checked once (a replay finds ``checking``
or later), and the claims leave Redis with the verifier's first read. The record holds ids,
the nonce and state, the query, and for ``direct_post.jwt`` the request's ephemeral
decryption key; the claims only between the answer and that read.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from typing import Any

import msgspec
import redis.asyncio as aioredis

from wallet_api.kernel import LuaScript

__all__ = ["Found", "Transaction", "claim", "create", "find", "finish", "peek", "take_result"]


# KEYS[1] the record; ARGV: phase, result, response code, seconds it stays. The outcome of the check.
_FINISH = LuaScript("""
redis.call('HSET', KEYS[1], 'phase', ARGV[1], 'result', ARGV[2], 'response_code', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
""")

# KEYS[1] the record. The result once: answered -> delivered, the claims gone.
_TAKE = LuaScript("""
if redis.call('HGET', KEYS[1], 'phase') ~= 'answered' then return false end
local result = redis.call('HGET', KEYS[1], 'result')
redis.call('HSET', KEYS[1], 'phase', 'delivered')
redis.call('HDEL', KEYS[1], 'result')
return result
""")


def _key(request_id: str) -> str:
    return f"vp:tx:{{{request_id}}}"


def _txn_key(transaction_id: str) -> str:
    return f"vp:txn:{{{transaction_id}}}"


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    txn: str
    org: str
    verifier: str
    verifier_name: str
    client_id: str
    nonce: str
    state: str
    #: The DCQL query as JSON text (parsed once per process and text: openid4vp/wallet.py).
    dcql: str
    mode: str
    enc_key: str
    enc_kid: str
    redirect_uri: str
    response_uri: str
    expires_at: int


#: The fields of a request's record, in :class:`Transaction`'s order (its id names the record).
_FIELDS = tuple(field.name for field in dataclasses.fields(Transaction) if field.name != "id")
_EXPIRES_AT = _FIELDS.index("expires_at")  # the one number among them

# KEYS[1] the record; ARGV[1] the phase required, ARGV[2] the phase to move to, ARGV[3] the
# state the caller must show ('' : none to check). Returns {'ok', <the values of _FIELDS>},
# or {phase} ({'unknown'} when there is no such request, {'state-mismatch'}: nothing moved).
_STEP = LuaScript(
    """
local phase = redis.call('HGET', KEYS[1], 'phase')
if not phase then return {'unknown'} end
if phase ~= ARGV[1] then return {phase} end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'state') ~= ARGV[3] then return {'state-mismatch'} end
redis.call('HSET', KEYS[1], 'phase', ARGV[2])
local out = redis.call('HMGET', KEYS[1], FIELDS)
table.insert(out, 1, 'ok')
return out
""".replace("FIELDS", ", ".join(f"'{name}'" for name in _FIELDS))
)


@dataclass(frozen=True, slots=True)
class Found:
    """A request as its verifier sees it: its phase, and the refusal when it was refused."""

    request_id: str
    phase: str
    org: str
    result: dict[str, Any] | None
    #: Same-device: the code the wallet's redirect carried, which a read of the result must show.
    response_code: str


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _transaction(request_id: str, values: list[Any]) -> Transaction:
    """The request from the values of :data:`_FIELDS`, in that order (None: a field it lacks)."""
    # The replies are bytes (the app's client does not decode), strings under other clients.
    texts: list[Any] = ["" if value is None else _text(value) for value in values]
    texts[_EXPIRES_AT] = int(texts[_EXPIRES_AT])
    return Transaction(request_id, *texts)


async def create(redis: aioredis.Redis, ttl: int, *, request_id: str, result_ttl: int = 3600, **fields: Any) -> str:
    """Store a new request (``fields``: every field of :class:`Transaction` but the ids); its transaction id.

    The transaction id lasts as long as the request may (``ttl``, then ``result_ttl`` for the
    result), so that finishing touches the request's own key only.

    The transaction id, which only the verifier gets, is another secret than the request
    id, which the QR code shows: seeing the code does not give the result.
    """
    transaction_id = secrets.token_urlsafe(24)
    record: dict[Any, Any] = {k: json.dumps(v) if k == "dcql" else str(v) for k, v in fields.items()}
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(_key(request_id), mapping={**record, "txn": transaction_id, "phase": "created"})
        pipe.expire(_key(request_id), ttl)
        pipe.set(_txn_key(transaction_id), request_id, ex=ttl + result_ttl)
        await pipe.execute()
    return transaction_id


async def claim(redis: aioredis.Redis, request_id: str, *, phase: str, to: str, state: str = "") -> Transaction | str:
    """Move the request from ``phase`` to ``to`` (if it has this ``state``, when given): the request,
    or the phase it was in instead (``state-mismatch``)."""
    reply = list(await _STEP(redis, (_key(request_id),), phase, to, state))
    if _text(reply[0]) != "ok":
        return _text(reply[0])
    return _transaction(request_id, reply[1:])


async def peek(redis: aioredis.Redis, request_id: str) -> Transaction | str:
    """The request if a wallet fetched it and has not answered yet; else the phase it is in."""
    record = await redis.hgetall(_key(request_id))
    phase = _text(record.get(b"phase", record.get("phase", "unknown")))
    if phase != "fetched":
        return phase
    named = {_text(name): value for name, value in record.items()}
    return _transaction(request_id, [named.get(name) for name in _FIELDS])


async def finish(
    redis: aioredis.Redis, tx: Transaction, *, phase: str, result: dict[str, Any], ttl: int, response_code: str = ""
) -> None:
    """Record the outcome of the check (``answered`` with the result, or ``refused`` with the error)."""
    await _FINISH(redis, (_key(tx.id),), phase, msgspec.json.encode(result), response_code, ttl)


async def find(redis: aioredis.Redis, transaction_id: str) -> Found | None:
    """The request of a transaction id, without taking anything (None: unknown or expired)."""
    request_id = await redis.get(_txn_key(transaction_id))
    if request_id is None:
        return None
    request_id = _text(request_id)
    phase, org, result, code = await redis.hmget(_key(request_id), ["phase", "org", "result", "response_code"])
    if phase is None:
        return None
    refusal = json.loads(result) if _text(phase) == "refused" and result is not None else None
    return Found(request_id, _text(phase), _text(org), refusal, _text(code) if code is not None else "")


async def take_result(redis: aioredis.Redis, found: Found) -> dict[str, Any] | None:
    """The result of an answered request, once (None: another read took it)."""
    result = await _TAKE(redis, (_key(found.request_id),))
    return json.loads(result) if result is not None else None
