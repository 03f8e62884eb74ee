"""Holder checks at issuance: a document that says who its holder is must say the truth.

A document type declares which of its claims carry the holder's identity
(``DocumentType.holder_claims``: ``id_number`` → the person's number, ``full_name`` or
``owner_name`` → their name, ``date_of_birth`` → their birth date). Issuing or updating a
document is refused unless each such claim equals the holder's record in the population
registry (names compared as in wallet linking: case, spacing and diacritics aside), and a
holder the registry does not know is refused whatever the type. An agency client that
issued A a chip ID card carrying B's number, name and birth date is thus refused.

The refusals name the mismatched claims, never the registry's values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from documents.types import DocumentType
from wallet_api.accounts.names import names_match
from wallet_api.accounts.registry import Person, PopulationRegistry, RegistryUnavailable
from wallet_api.accounts.registry.problem import registry_down
from wallet_api.kernel import Problem

__all__ = ["HOLDER_MISMATCH", "HOLDER_UNKNOWN", "check_holder", "holder_refusal"]

#: Problem slugs (docs/documents.md); bulk rows carry them too.
HOLDER_UNKNOWN = "holder-not-in-registry"
HOLDER_MISMATCH = "holder-claims-mismatch"


def _agrees(fact: str, value: Any, person: Person) -> bool:
    if fact == "person_id":
        return bool(value == person.person_id)
    if fact == "full_name":
        return isinstance(value, str) and names_match(person.full_name, value)
    return bool(value == person.date_of_birth.isoformat())


def holder_refusal(doc_type: DocumentType, claims: Mapping[str, Any], person: Person | None) -> Problem | None:
    """Why these claims may not be issued to this registry record (None: they may)."""
    if person is None:
        return Problem(
            "The holder is not in the population registry.",
            slug=HOLDER_UNKNOWN,
            title="Holder not in the registry",
            status=422,
            errors=[{"key": "holder_id", "message": "no such person in the population registry"}],
        )
    wrong = [
        claim
        for claim, fact in doc_type.holder_claims.items()
        if claim in claims and not _agrees(fact, claims[claim], person)
    ]
    if not wrong:
        return None
    return Problem(
        "Claims that identify the holder do not match the holder's registry record.",
        slug=HOLDER_MISMATCH,
        title="Holder claims do not match the registry",
        status=422,
        errors=[{"key": f"claims.{c}", "message": "does not match the holder's registry record"} for c in wrong],
    )


async def check_holder(
    registry: PopulationRegistry, doc_type: DocumentType, holder_id: str, claims: Mapping[str, Any]
) -> None:
    """Raise the refusal if ``claims`` may not be issued to ``holder_id``."""
    try:
        person = await registry.lookup(holder_id)
    except RegistryUnavailable as exc:
        raise registry_down() from exc
    refusal = holder_refusal(doc_type, claims, person)
    if refusal is not None:
        raise refusal
