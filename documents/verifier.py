"""The reference offline verifier: what a verifier app embeds (``wallet verify-qr`` uses it).

It trusts nothing but issuer keys and status lists it fetched earlier, kept in a cache
directory so that a check at the roadside works without network::

    <cache>/issuers/<org id>.json      SD-JWT VC issuer metadata (the issuer's JWKS)
    <cache>/status/<list id>.jwt       the last Token Status List fetched

With network, stale entries are refreshed (issuer keys hourly, a status list after the
``ttl`` it declares); without it, the cache answers. A payload signed by a key the cached
set lacks (the issuer rotated since) makes the issuer's keys be fetched again at once,
within bounds: one refetch per unknown key every ``_REFETCH_SAME_KID_SECONDS``, at most
``_REFETCH_PER_MINUTE`` per issuer a minute, so a stream of forged codes neither floods the
server nor keeps a genuine new key out (an unknown kid is never remembered as "absent").
A status list is itself verified (signature by the same issuer, subject, expiry) before
its bits are believed.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from documents.issuer_keys import IssuerKey
from documents.offline import OfflineClaims, check_offline, kid_prefix, open_offline, peek_issuer
from documents.sdjwt import CredentialError
from documents.statuslist import INVALID, SUSPENDED, VALID, status_at
from documents.verdict import document_verdict, refusal_detail
from wallet_api.kernel import JoseError, b64url_decode, decode_compact, ec_public_key, es256_verify

__all__ = ["Fetch", "OfflineVerifier", "StatusUnknown", "VerifiedQr"]

#: GET a URL: returns the body, or None when the network cannot be reached.
Fetch = Callable[[str], bytes | None]
_ORG = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KEYS_MAX_AGE = 3600
_RECHECK_SECONDS = 1.0
_REFETCH_SAME_KID_SECONDS = 10.0
_REFETCH_PER_MINUTE = 6


class StatusUnknown(CredentialError):
    """Signature and validity are fine, but no usable status list is at hand."""

    def __init__(self, detail: str) -> None:
        super().__init__("status-unknown", detail)


@dataclass(frozen=True, slots=True)
class VerifiedQr:
    claims: OfflineClaims
    issuer_name: str | None
    status_checked_at: int
    notes: list[str] = field(default_factory=list)


class OfflineVerifier:
    def __init__(
        self, base_url: str, cache_dir: Path, fetch: Fetch | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache = cache_dir
        self.fetch = fetch
        self._clock = clock
        # Refetches of issuer keys for unknown kids: when each (issuer, kid) was last tried,
        # and the times of each issuer's refetches within the last minute.
        self._kid_tried: dict[tuple[str, str], float] = {}
        self._refetches: dict[str, deque[float]] = {}
        # Parsed forms of cached files, keyed by path and modification time: a verifier
        # checking a queue of cars parses a key set or a list once, not once per car.
        self._parsed: dict[tuple[Path, str], tuple[float, Any]] = {}
        self._mtimes: dict[Path, float] = {}
        self._seen: dict[Path, tuple[float, bytes]] = {}

    def _memo(self, path: Path, parse: Callable[[bytes], Any], raw: bytes, kind: str = "") -> Any:
        mtime = self._mtimes.get(path, -1.0)
        hit = self._parsed.get((path, kind))
        if hit is not None and hit[0] == mtime and mtime >= 0:
            return hit[1]
        value = parse(raw)
        self._parsed[(path, kind)] = (mtime, value)
        return value

    def _get(self, path: Path, url: str, max_age: float, *, refresh: bool = False) -> bytes | None:
        """The cached file, refreshed first when it is older than ``max_age`` (or ``refresh``) and we are online.

        Files are looked at on disk at most once a second: a verifier checking a queue
        of cars does not stat its cache for every car.
        """
        seen = self._seen.get(path)
        if not refresh and seen is not None and time.monotonic() - seen[0] < _RECHECK_SECONDS:
            return seen[1]
        body: bytes | None = None
        if not refresh and path.exists() and time.time() - path.stat().st_mtime < max_age:
            body = path.read_bytes()
        if body is None and self.fetch is not None:
            fetched = self.fetch(url)
            if fetched is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(fetched)
                tmp.replace(path)
                body = fetched
        if body is None and path.exists():
            body = path.read_bytes()
        if body is None:
            return None
        self._mtimes[path] = path.stat().st_mtime
        self._seen[path] = (time.monotonic(), body)
        return body

    def issuer(self, org_id: str, *, refresh: bool = False) -> tuple[dict[str, IssuerKey], str | None]:
        if not _ORG.match(org_id):
            raise CredentialError("unknown-issuer", "The QR code names an impossible issuer.")
        path = self.cache / "issuers" / f"{org_id}.json"
        url = f"{self.base_url}/.well-known/jwt-vc-issuer/issuers/{org_id}"
        if refresh:
            self._parsed.pop((path, ""), None)
        raw = self._get(path, url, _KEYS_MAX_AGE, refresh=refresh)
        if raw is None:
            raise CredentialError("unknown-issuer", f"No keys of issuer {org_id} are cached and the network is off.")

        def parse(data: bytes) -> tuple[dict[str, IssuerKey], str | None]:
            meta = json.loads(data)
            keys: dict[str, IssuerKey] = {}
            for jwk in meta.get("jwks", {}).get("keys", []):
                keys[jwk["kid"]] = IssuerKey(kid=jwk["kid"], org_id=org_id, jwk=jwk, public_key=ec_public_key(jwk))
            return keys, meta.get("name")

        result: tuple[dict[str, IssuerKey], str | None] = self._memo(path, parse, raw)
        return result

    def status(self, claims: OfflineClaims, keys: dict[str, IssuerKey]) -> tuple[int, int]:
        """(status, iat of the list) of the payload's entry, from a verified status list."""
        uri = f"{self.base_url}/status-lists/{claims.status_list_id}"
        path = self.cache / "status" / f"{UUID(str(claims.status_list_id))}.jwt"
        token = self._current_list(path, uri)
        if token is None:
            raise StatusUnknown("No status list for this document is cached and the network is off.")

        def parse(data: bytes) -> tuple[bytes, int, int, int]:
            header, payload, signing_input, signature = decode_compact(data.decode("ascii"))
            key = keys.get(header.get("kid", ""))
            if header.get("typ") != "statuslist+jwt" or key is None:
                raise JoseError("not a status list of this issuer")
            # The list must name itself: the same list id, whatever host served it.
            sub = payload.get("sub")
            if not isinstance(sub, str) or not sub.endswith(f"/status-lists/{claims.status_list_id}"):
                raise JoseError("status list for another list")
            if not es256_verify(key.public_key, signature, signing_input):
                raise JoseError("status list signature")
            lst = payload["status_list"]
            return (
                zlib.decompress(b64url_decode(lst["lst"])),
                int(lst["bits"]),
                int(payload["exp"]),
                int(payload["iat"]),
            )

        try:
            raw, bits, exp, iat = self._memo(path, parse, token)
            value = status_at(raw, claims.status_idx, bits)
        except (JoseError, KeyError, TypeError, ValueError, IndexError, zlib.error, UnicodeDecodeError) as exc:
            self._parsed.pop((path, ""), None)
            raise StatusUnknown(f"The status list cannot be trusted ({exc}).") from exc
        if exp < time.time():
            raise StatusUnknown("The cached status list has expired; connect once to refresh it.")
        return value, iat

    def _current_list(self, path: Path, uri: str) -> bytes | None:
        def ttl(data: bytes) -> float:
            try:
                return float(decode_compact(data.decode("ascii"))[1].get("ttl", 300))
            except (JoseError, ValueError, UnicodeDecodeError):
                return 0.0

        seen = self._seen.get(path)
        if seen is not None and time.monotonic() - seen[0] < _RECHECK_SECONDS:
            return seen[1]
        max_age = 300.0
        if path.exists():
            self._mtimes[path] = path.stat().st_mtime
            max_age = self._memo(path, ttl, path.read_bytes(), "ttl")
        return self._get(path, uri, max_age)

    def _may_refetch(self, org_id: str, prefix: str) -> bool:
        """Whether an unknown kid may trigger a refetch of the issuer's keys now (and count it)."""
        if self.fetch is None:
            return False
        now = self._clock()
        last = self._kid_tried.get((org_id, prefix))
        if last is not None and now - last < _REFETCH_SAME_KID_SECONDS:
            return False
        recent = self._refetches.setdefault(org_id, deque())
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= _REFETCH_PER_MINUTE:
            return False
        recent.append(now)
        if len(self._kid_tried) > 10_000:
            self._kid_tried.clear()
        self._kid_tried[(org_id, prefix)] = now
        return True

    def verify(self, text: str, *, now: int | None = None) -> VerifiedQr:
        now = int(time.time()) if now is None else now
        envelope = open_offline(text)
        org_id = peek_issuer(envelope)
        if org_id is None:
            raise CredentialError("tampered", "The QR code's claims cannot be read.")
        keys, name = self.issuer(org_id)
        prefix = kid_prefix(envelope)
        key = next((k for kid, k in keys.items() if kid.startswith(prefix)), None)
        if key is None and self._may_refetch(org_id, prefix):
            keys, name = self.issuer(org_id, refresh=True)
            key = next((k for kid, k in keys.items() if kid.startswith(prefix)), None)
        claims = check_offline(envelope, key, now=now)
        value, checked_at = self.status(claims, keys)
        if value not in (VALID, INVALID, SUSPENDED):
            raise StatusUnknown(f"The status list holds an unknown value {value}.")
        verdict = document_verdict(status=value)
        if verdict != "valid":
            raise CredentialError(verdict, refusal_detail(verdict))
        return VerifiedQr(claims=claims, issuer_name=name, status_checked_at=checked_at)


def describe(result: VerifiedQr, language: str = "vi") -> dict[str, Any]:
    """A printable summary: what the verifier shows its user."""
    doc_type = result.claims.doc_type
    return {
        "status": "valid",
        "document_type": doc_type.code,
        "title": doc_type.title.vi if language == "vi" else doc_type.title.en,
        "issuer": {"id": result.claims.org_id, "name": result.issuer_name},
        "holder_level": result.claims.level,
        "valid_until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.claims.exp)),
        "status_list_as_of": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.status_checked_at)),
        "fields": {
            name: {"label": getattr(doc_type.label(name), language), "value": value}
            for name, value in result.claims.fields.items()
        },
    }
