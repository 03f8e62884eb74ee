"""The authenticated caller, as read from a verified access token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Principal", "PrincipalKind"]

PrincipalKind = Literal["citizen", "officer", "client"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    #: Account id (citizen), officer id or OAuth2 client id. Never a personal ID number.
    subject: str
    #: The organisation an officer or client acts for.
    org_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: Identification level of a citizen account (1 or 2).
    level: int = 0
    device_id: str | None = None
    token_id: str | None = None
    #: Unix time of the last device signature (for step-up checks).
    auth_time: int = 0
    #: Unix times the access token was issued and expires (0 when not read from a token).
    issued_at: int = 0
    expires_at: int = 0

    @property
    def key(self) -> str:
        """A stable string naming the caller (idempotency scope, rate limits, audit actor)."""
        return f"{self.kind}:{self.subject}"
