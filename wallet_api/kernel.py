"""The kernel's face: the one module domains import the kernel through.

Domains (documents, payments, notifications, proofing, consoles and the accounts domain in
``wallet_api/accounts``) import kernel names from here and from nowhere else in
``wallet_api``; ``tests/foundation/test_kernel_face.py`` scans their source to keep it so.
``__all__`` is the whole contract: what is not in it is the kernel's own business and may
change without a domain noticing. This module imports kernel modules only, never the app or
a domain, so any domain can import it first without a cycle.
"""

from __future__ import annotations

# How a request reaches the ASGI app below Litestar (raw routes, page sessions).
from wallet_api.asgi import ASGIApp, Receive, Scope, Send

# The audit trail: one hash-chained row per act.
from wallet_api.audit import record

# Who calls: principals, guards and access tokens.
from wallet_api.auth.guards import (
    PUBLIC,
    citizen,
    citizen_level,
    fresh_device_signature,
    level_too_low,
    officer_with_role,
    principal_of,
)
from wallet_api.auth.principal import Principal
from wallet_api.auth.tokens import InvalidToken, TokenService

# Batched reads and writes on the hot paths.
from wallet_api.batching import Batcher, Batchers, fetch_per_item

# Request bodies: size limits per route and strict JSON decoding.
from wallet_api.bodylimits import CALLBACK as CALLBACK_BODY_LIMIT
from wallet_api.bodylimits import FILE as FILE_BODY_LIMIT

# Command-line tools: settings, an event loop, and embedded services for local runs.
from wallet_api.cli.runtime import load_settings, run_async
from wallet_api.cli.runtime import services as cli_services
from wallet_api.client_address import caller_source

# Storage: the PostgreSQL pool and the Redis client (only what may be lost).
from wallet_api.db import create_pool

# Responses written straight to JSON, GET/HEAD routes, idempotent replays.
from wallet_api.direct_json import DIRECT_JSON, content_length, read_body

# What a domain declares: routes, loops, consumers, commands, seeders, service factories.
from wallet_api.domains import Domain, SeedOptions
from wallet_api.idempotency import NOT_REPLAYED
from wallet_api.jsonbody import JsonTooDeep
from wallet_api.jsonbody import decode as decode_json

# Keys and JOSE: signing keys kept in the database, compact JWS, ES256, base64url.
from wallet_api.keys.jose import (
    JoseError,
    b64url_decode,
    b64url_encode,
    decode_compact,
    decrypt_ecdh_es,
    ec_key_set,
    ec_public_key,
    embedded_key,
    es256_verify,
    json_bytes,
    sign_compact,
    sign_compact_with,
    strict_json,
)
from wallet_api.keys.provider import (
    DatabaseKeyProvider,
    KeyRequirement,
    KeyUnwrapError,
    SigningKey,
    jwk_thumbprint,
    key_set_cache_control,
    public_jwk,
)
from wallet_api.keys.x509 import key_usage
from wallet_api.observability.context import current_request_id

# Sending to people outside: SMS and the error tree every channel shares.
from wallet_api.outbound import SMS_SENDER, RecipientGone, SendFailed, SendRejected, SendUnavailable, SmsSender

# The outbox: events written in the same transaction, consumed by workers.
from wallet_api.outbox import Consumer, EventFailure, OutboxEvent, consumers_for, insert_events, publish, publish_many

# Folder plugins (document types, channels, provider adapters).
from wallet_api.plugins import folder_plugins

# Problems (RFC 9457) with stable types.
from wallet_api.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    exception_handlers,
    problem_response,
    problem_type,
)

# Rate limits.
from wallet_api.ratelimit import FixedWindow, LeasedWindowLimiter, enforce
from wallet_api.redis_client import LuaScript, create_redis
from wallet_api.responses import GET_AND_HEAD, body_or_head

# Services built once per process, and the worker's view of them.
from wallet_api.services import ServiceFactory, Services

# Sessions ending (sign-out, revoked devices) as realtime signals.
from wallet_api.session_signals import ended_device, publish_session_end, realtime_channel

# Settings.
from wallet_api.settings import Settings, SettingsError

# Route dependencies: the named resources a handler asks for.
from wallet_api.state import AppServices, AppSettings, Caller, Db, KeyProviderDep, RedisClient, Tokens
from wallet_api.worker_context import BackgroundLoop, WorkerContext

__all__ = [
    "CALLBACK_BODY_LIMIT",
    "DIRECT_JSON",
    "FILE_BODY_LIMIT",
    "GET_AND_HEAD",
    "NOT_REPLAYED",
    "PUBLIC",
    "SMS_SENDER",
    "ASGIApp",
    "AppServices",
    "AppSettings",
    "BackgroundLoop",
    "BadRequest",
    "Batcher",
    "Batchers",
    "Caller",
    "Conflict",
    "Consumer",
    "DatabaseKeyProvider",
    "Db",
    "Domain",
    "EventFailure",
    "FixedWindow",
    "Forbidden",
    "InvalidToken",
    "JoseError",
    "JsonTooDeep",
    "KeyProviderDep",
    "KeyRequirement",
    "KeyUnwrapError",
    "LeasedWindowLimiter",
    "LuaScript",
    "NotFound",
    "OutboxEvent",
    "Principal",
    "Problem",
    "Receive",
    "RecipientGone",
    "RedisClient",
    "Scope",
    "SeedOptions",
    "Send",
    "SendFailed",
    "SendRejected",
    "SendUnavailable",
    "ServiceFactory",
    "ServiceUnavailable",
    "Services",
    "Settings",
    "SettingsError",
    "SigningKey",
    "SmsSender",
    "TokenService",
    "Tokens",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "WorkerContext",
    "b64url_decode",
    "b64url_encode",
    "body_or_head",
    "caller_source",
    "citizen",
    "citizen_level",
    "cli_services",
    "consumers_for",
    "content_length",
    "create_pool",
    "create_redis",
    "current_request_id",
    "decode_compact",
    "decode_json",
    "decrypt_ecdh_es",
    "ec_key_set",
    "ec_public_key",
    "embedded_key",
    "ended_device",
    "enforce",
    "es256_verify",
    "exception_handlers",
    "fetch_per_item",
    "folder_plugins",
    "fresh_device_signature",
    "insert_events",
    "json_bytes",
    "jwk_thumbprint",
    "key_set_cache_control",
    "key_usage",
    "level_too_low",
    "load_settings",
    "officer_with_role",
    "principal_of",
    "problem_response",
    "problem_type",
    "public_jwk",
    "publish",
    "publish_many",
    "publish_session_end",
    "read_body",
    "realtime_channel",
    "record",
    "run_async",
    "sign_compact",
    "sign_compact_with",
    "strict_json",
]
