"""The verdict of a verification: decided here, whichever way the document was checked.

A document is checked online (a one-time code sent to ``POST /v1/verifications``), offline
by the API (a QR payload sent to the same route) and offline by the reference verifier
(``wallet verify-qr``, documents/verifier.py, with cached keys and status lists). Each way
has its own facts, the same rules decide:

- the presentation's validity window (the QR code's ``iat``/``exp``, an SD-JWT's
  ``nbf``/``exp``): :func:`window_verdict` — ``expired``, ``not-yet-valid``;
- the document: :func:`document_verdict` — ``document-revoked``, ``document-suspended``,
  ``document-expired`` or ``valid``, from the document's state (the API reads the database)
  or its status-list entry (offline), and the day its validity ends.

Unreadable or altered payloads (``tampered``) and keys we do not know (``unknown-issuer``)
are found by the cryptographic checks (documents/offline.py, documents/sdjwt.py).

The API decides the document verdict inside the one statement that reads the document and
logs the verification (documents/access_log.py), so the same rules are also rendered as a
SQL ``CASE`` here (:func:`document_verdict_sql`): one table of rules, two readings of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from documents.statuslist import INVALID, SUSPENDED

__all__ = ["DocumentVerdict", "document_verdict", "document_verdict_sql", "refusal_detail", "window_verdict"]

DocumentVerdict = Literal["valid", "document-revoked", "document-suspended", "document-expired"]


@dataclass(frozen=True, slots=True)
class _Rule:
    """The verdict when the document's state, or its status-list value, is one of these, or (``ended``) its validity
    ended before today."""

    verdict: DocumentVerdict
    states: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()
    ended: bool = False


# In order: the first rule that holds is the verdict (a revoked document that also expired is revoked).
_RULES = (
    _Rule("document-revoked", states=("revoked",), statuses=(INVALID,)),
    _Rule("document-suspended", states=("suspended",), statuses=(SUSPENDED,)),
    _Rule("document-expired", ended=True),
)


def document_verdict(
    *,
    state: str | None = None,
    status: int | None = None,
    valid_until: dt.date | None = None,
    today: dt.date | None = None,
) -> DocumentVerdict:
    """The document's verdict from what the checker knows: its state (documents.state) or its status-list value."""
    for rule in _RULES:
        ended = rule.ended and valid_until is not None and today is not None and valid_until < today
        if state in rule.states or status in rule.statuses or ended:
            return rule.verdict
    return "valid"


def document_verdict_sql(*, state: str, status: str, valid_until: str, today: str) -> str:
    """:func:`document_verdict` as a SQL expression over the given columns and parameter (``today``: a date)."""
    whens = []
    for rule in _RULES:
        holds = []
        if rule.states:
            holds.append(f"{state} IN ({', '.join(repr(s) for s in rule.states)})")
        if rule.statuses:
            holds.append(f"{status} IN ({', '.join(str(s) for s in rule.statuses)})")
        if rule.ended:
            holds.append(f"{valid_until} < {today}")
        whens.append(f"WHEN {' OR '.join(holds)} THEN '{rule.verdict}'")
    return f"CASE {' '.join(whens)} ELSE 'valid' END"


def window_verdict(
    now: int, *, not_before: int | None, expires: int | None, leeway: int
) -> Literal["expired", "not-yet-valid"] | None:
    """Whether a presentation is outside its validity window at ``now`` (seconds), ``leeway`` seconds either side."""
    if expires is not None and now > expires + leeway:
        return "expired"
    if not_before is not None and now + leeway < not_before:
        return "not-yet-valid"
    return None


def refusal_detail(verdict: DocumentVerdict, valid_until: dt.date | None = None) -> str:
    """What a verifier is told about a document that is not valid."""
    if verdict == "document-expired":
        return f"The document expired on {valid_until}." if valid_until else "The document has expired."
    return {
        "document-revoked": "The issuer revoked this document.",
        "document-suspended": "The issuer suspended this document.",
    }[verdict]
