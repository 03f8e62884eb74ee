"""Reading a pushed authorization request (RFC 9126, RFC 7636, OpenID4VCI 1.0 §5.1).

Pure checks of the form's parameters, before anything is stored or any client is
authenticated: an unusable request is refused as a whole with the OAuth error that names
what is wrong, and nothing of it is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from openid4vci.configurations import configuration
from openid4vci.errors import ProtocolError

__all__ = ["PushedRequest", "Requested", "read_pushed_request"]

#: A wallet may ask for this many credential configurations in one authorization.
MAX_REQUESTED = 10
#: S256 challenges are the base64url of a SHA-256 digest: 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
#: A private-use URI scheme for native apps is a reversed domain name (RFC 8252 §7.1).
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class Requested:
    """One credential configuration asked for, and the document type it issues."""

    credential_configuration_id: str
    doc_type: str


@dataclass(frozen=True, slots=True)
class PushedRequest:
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    issuer_state: str | None
    #: ``dpop_jkt`` as sent (RFC 9449 §10); the DPoP header's key is checked against it.
    dpop_jkt: str | None
    requested: tuple[Requested, ...]


def _text(form: Mapping[str, str], name: str, *, required: bool = False) -> str | None:
    value = form.get(name) or None
    if value is None and required:
        raise ProtocolError("invalid_request", f"The parameter {name} is required.")
    return value


def _doc_type(configuration_id: str) -> str | None:
    found = configuration(configuration_id)
    return found.doc_type.code if found is not None else None


def _redirect_uri(value: str) -> str:
    """A redirect URI a public wallet may name without registering it (docs/standards.md, clients)."""
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ProtocolError("invalid_request", "redirect_uri is not a URI.") from exc
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in value:
        raise ProtocolError("invalid_request", "redirect_uri must not have a fragment.")
    usable = (
        (scheme == "https" and bool(parts.hostname))
        or (scheme == "http" and parts.hostname in _LOOPBACK)
        or (scheme not in ("http", "https") and bool(_PRIVATE_SCHEME.fullmatch(scheme)))
    )
    if not usable:
        raise ProtocolError(
            "invalid_request",
            "redirect_uri must be https, http on a loopback address, or a private-use scheme (a reversed domain name).",
        )
    return value


def _authorization_details(value: str, issuer: str) -> list[Requested]:
    try:
        details = json.loads(value)
    except ValueError as exc:
        raise ProtocolError("invalid_authorization_details", "authorization_details is not JSON.") from exc
    if not isinstance(details, list) or not details:
        raise ProtocolError("invalid_authorization_details", "authorization_details must be a non-empty JSON array.")
    requested = []
    for detail in details:
        if not isinstance(detail, dict) or detail.get("type") != "openid_credential":
            raise ProtocolError(
                "invalid_authorization_details", "Only authorization details of type openid_credential."
            )
        config_id = detail.get("credential_configuration_id")
        doc_type = _doc_type(config_id) if isinstance(config_id, str) else None
        if doc_type is None or not isinstance(config_id, str):
            raise ProtocolError("invalid_authorization_details", "Unknown or missing credential_configuration_id.")
        locations = detail.get("locations")
        if locations is not None and (not isinstance(locations, list) or issuer not in locations):
            raise ProtocolError("invalid_authorization_details", "locations must name this credential issuer.")
        requested.append(Requested(config_id, doc_type))
    return requested


def _scope(value: str) -> list[Requested]:
    # A configuration's scope is its id (the issuer metadata says so for each configuration).
    requested = []
    for config_id in value.split():
        doc_type = _doc_type(config_id)
        if doc_type is None:
            raise ProtocolError("invalid_scope", f"Unknown scope {config_id[:80]!r}.")
        requested.append(Requested(config_id, doc_type))
    return requested


def read_pushed_request(form: Mapping[str, str], *, issuer: str) -> PushedRequest:
    """The authorization request a wallet pushed, checked; ``issuer`` is our credential issuer's identifier."""
    if "request_uri" in form:
        raise ProtocolError("invalid_request", "A pushed request must not carry request_uri (RFC 9126 §2.1).")
    if "request" in form:
        raise ProtocolError("request_not_supported", "Signed request objects are not supported; push the parameters.")
    client_id = _text(form, "client_id", required=True)
    assert client_id is not None
    if len(client_id) > 255:
        raise ProtocolError("invalid_request", "client_id is longer than 255 characters.")
    if form.get("response_type") != "code":
        raise ProtocolError("unsupported_response_type", "Only response_type=code is supported.")
    redirect_uri = _redirect_uri(_text(form, "redirect_uri", required=True) or "")
    challenge = _text(form, "code_challenge", required=True) or ""
    if form.get("code_challenge_method") != "S256":
        raise ProtocolError("invalid_request", "PKCE with code_challenge_method=S256 is required; plain is refused.")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise ProtocolError("invalid_request", "code_challenge is not the base64url of a SHA-256 digest.")
    resource = form.get("resource")
    if resource is not None and resource.rstrip("/") != issuer.rstrip("/"):
        raise ProtocolError("invalid_target", "resource must be this credential issuer.")
    requested = []
    if form.get("authorization_details"):
        requested += _authorization_details(form["authorization_details"], issuer)
    if form.get("scope"):
        requested += _scope(form["scope"])
    if not requested:
        raise ProtocolError("invalid_request", "Ask for credentials with authorization_details or scope.")
    unique = tuple(dict.fromkeys(requested))
    if len(unique) > MAX_REQUESTED:
        raise ProtocolError("invalid_request", f"At most {MAX_REQUESTED} credential configurations at once.")
    return PushedRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        state=_text(form, "state"),
        issuer_state=_text(form, "issuer_state"),
        dpop_jkt=_text(form, "dpop_jkt"),
        requested=unique,
    )
