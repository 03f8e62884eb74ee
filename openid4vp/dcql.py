"""DCQL (OpenID4VP 1.0, section 6): the verifier's query, read strictly against our document types.

A verifier asks for credentials by type (SD-JWT VC ``vct``; mdoc ``doctype``) and for claims
by path; it may offer alternatives (``claim_sets`` within a credential, ``credential_sets``
across credentials). We refuse what we cannot honour rather than ignore it: an unknown
type, claim or property, a claim path deeper than one disclosure, value matching
(``values``), ``multiple``, presentations without holder binding, trusted authorities other
than by key identifier. A verifier may ask for part of a group our app shows together
(``full_name`` without ``photo_ref``): each field is its own disclosure, and asking for
less is what data minimisation wants; a group member a document may lack (``photo_ref`` is
optional) is asked for in a second claim set, since a wallet must not answer a claim set it
cannot fill.

The same reading then judges the wallet's answer: :meth:`DcqlQuery.returned_ids_satisfy`
for the set of credentials, :meth:`CredentialQuery.allows` for the claims of each one
(exactly one of its options: a disclosure that was not asked for is refused).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from documents.types import DocumentType, all_types, get_type
from openid4vp.mdoc import DOCTYPES, ELEMENTS, MDOC, element_key

__all__ = ["MDOC", "SD_JWT", "CredentialQuery", "DcqlInvalid", "DcqlQuery", "parse_dcql"]

SD_JWT = "dc+sd-jwt"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Bounds on a query's size: a person shows a few documents, not a register.
_MAX_CREDENTIALS = 10
_MAX_CLAIMS = 64
_MAX_SETS = 16
_CREDENTIAL_QUERY_MEMBERS = {"id", "format", "meta", "claims", "claim_sets", "multiple"} | {
    "require_cryptographic_holder_binding",
    "trusted_authorities",
}
_KEY_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{4,128}$")


class DcqlInvalid(ValueError):
    """The query cannot be honoured; ``errors`` as ``[{key, message}]`` for the ``dcql-invalid`` problem."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['key']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    id: str
    format: str
    doc_type: DocumentType
    #: The claims asked for, in query order: SD-JWT disclosure names, or mdoc ``namespace/element``.
    fields: tuple[str, ...]
    #: Each acceptable set of disclosed claims, the verifier's preferred first.
    options: tuple[frozenset[str], ...]

    def allows(self, disclosed: Iterable[str]) -> bool:
        """Whether exactly these claims answer the query (one of its options, nothing more)."""
        return frozenset(disclosed) in self.options


@dataclass(frozen=True, slots=True)
class DcqlQuery:
    credentials: tuple[CredentialQuery, ...]
    #: (options as sets of credential query ids, required) per credential set query.
    credential_sets: tuple[tuple[tuple[frozenset[str], ...], bool], ...]
    #: The query as the wallet will read it (the verifier's, checked; nothing added).
    document: dict[str, Any]

    def by_id(self, query_id: str) -> CredentialQuery | None:
        return next((q for q in self.credentials if q.id == query_id), None)

    def returned_ids_satisfy(self, returned: Iterable[str]) -> bool:
        """Whether a response presenting these credential queries answers the query (section 6.4.2)."""
        got = frozenset(returned)
        if not self.credential_sets:
            return got == {q.id for q in self.credentials}
        covered: set[str] = set()
        for options, required in self.credential_sets:
            met = [o for o in options if o <= got]
            if required and not met:
                return False
            for option in met:
                covered |= option
        return bool(got) and got <= covered


class _Reader:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def fail(self, key: str, message: str) -> None:
        self.errors.append({"key": key, "message": message})

    def only(self, obj: Mapping[str, Any], key: str, allowed: set[str]) -> None:
        for name in obj:
            if name not in allowed:
                self.fail(f"{key}.{name}", "not supported by this verifier service")

    def array(self, value: Any, key: str, limit: int) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.fail(key, "must be a non-empty array")
            return []
        if len(value) > limit:
            self.fail(key, f"at most {limit} entries")
            return []
        return value


def _types_by_vct() -> dict[str, DocumentType]:
    return {t.vct: t for t in all_types()}


def _sd_jwt_claim(r: _Reader, path: Any, key: str, doc_type: DocumentType) -> str | None:
    if not (isinstance(path, list) and len(path) == 1 and isinstance(path[0], str)):
        # Every field of our credentials is one disclosure: a claim is named by one key.
        r.fail(key, 'must name one top-level claim, e.g. ["full_name"]')
        return None
    if path[0] not in doc_type.disclosable:
        r.fail(key, f"{doc_type.code} has no claim {path[0]!r}")
        return None
    return str(path[0])


def _mdoc_claim(r: _Reader, path: Any, key: str, doc_type: DocumentType) -> str | None:
    if not (isinstance(path, list) and len(path) == 2 and all(isinstance(p, str) for p in path)):
        r.fail(key, 'must be [namespace, element], e.g. ["org.iso.18013.5.1", "birth_date"]')
        return None
    if (path[0], path[1]) not in ELEMENTS:
        r.fail(key, f"the mDL has no element {path[1]!r} in {path[0]!r}")
        return None
    return element_key(path[0], path[1])


def _claims(r: _Reader, raw: Any, key: str, doc_type: DocumentType, fmt: str) -> tuple[list[str], dict[str, str]]:
    """The asked claim names in order, and claim id → name."""
    fields: list[str] = []
    ids: dict[str, str] = {}
    for i, claim in enumerate(r.array(raw, key, _MAX_CLAIMS)):
        here = f"{key}[{i}]"
        if not isinstance(claim, dict):
            r.fail(here, "must be an object")
            continue
        r.only(claim, here, {"id", "path"} if fmt == SD_JWT else {"id", "path", "intent_to_retain"})
        if not isinstance(claim.get("intent_to_retain", False), bool):
            r.fail(f"{here}.intent_to_retain", "must be true or false")
        read = _sd_jwt_claim if fmt == SD_JWT else _mdoc_claim
        name = read(r, claim.get("path"), f"{here}.path", doc_type)
        if name is None:
            continue
        if name in fields:
            r.fail(f"{here}.path", "asks for the same claim twice")
            continue
        fields.append(name)
        if "id" in claim:
            claim_id = claim["id"]
            if not isinstance(claim_id, str) or not _ID.match(claim_id) or claim_id in ids:
                r.fail(f"{here}.id", "must be a unique identifier of letters, digits, _ and -")
                continue
            ids[claim_id] = name
    return fields, ids


def _trusted_authorities(r: _Reader, raw: Any, key: str) -> None:
    """Authority Key Identifiers (HAIP 5): passed to the wallet to choose credentials; our own
    issuer trust is what decides (a wallet may ignore the hint)."""
    for i, entry in enumerate(r.array(raw, key, _MAX_SETS)):
        values = entry.get("values") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("type") != "aki" or set(entry) != {"type", "values"}:
            r.fail(f"{key}[{i}]", 'only {"type": "aki", "values": [...]} is supported')
        elif not (
            isinstance(values, list) and values and all(isinstance(v, str) and _KEY_IDENTIFIER.match(v) for v in values)
        ):
            r.fail(f"{key}[{i}].values", "must be base64url key identifiers")


def _credential(r: _Reader, raw: Any, key: str, seen: set[str]) -> CredentialQuery | None:
    if not isinstance(raw, dict):
        r.fail(key, "must be an object")
        return None
    r.only(raw, key, _CREDENTIAL_QUERY_MEMBERS)
    query_id = raw.get("id")
    if not isinstance(query_id, str) or not _ID.match(query_id) or query_id in seen:
        r.fail(f"{key}.id", "must be a unique identifier of letters, digits, _ and -")
        return None
    seen.add(query_id)
    if raw.get("multiple", False) is not False:
        r.fail(f"{key}.multiple", "one credential per query: multiple is not supported")
    if "trusted_authorities" in raw:
        _trusted_authorities(r, raw["trusted_authorities"], f"{key}.trusted_authorities")
    if raw.get("require_cryptographic_holder_binding", True) is not True:
        r.fail(f"{key}.require_cryptographic_holder_binding", "holder binding is always required")
    fmt = raw.get("format")
    if fmt not in (SD_JWT, MDOC):
        r.fail(f"{key}.format", f"must be {SD_JWT!r} or {MDOC!r}")
        return None
    doc_type = _doc_type(r, raw.get("meta"), f"{key}.meta", fmt)
    if doc_type is None:
        return None
    if "claims" not in raw:
        if "claim_sets" in raw:
            r.fail(f"{key}.claim_sets", "needs claims")
        return CredentialQuery(query_id, fmt, doc_type, (), (frozenset(),))
    fields, ids = _claims(r, raw["claims"], f"{key}.claims", doc_type, fmt)
    if "claim_sets" not in raw:
        options = [frozenset(fields)]
    else:
        options = []
        for i, claim_set in enumerate(r.array(raw["claim_sets"], f"{key}.claim_sets", _MAX_SETS)):
            here = f"{key}.claim_sets[{i}]"
            if not isinstance(claim_set, list) or not claim_set or not all(c in ids for c in claim_set):
                r.fail(here, "must be a non-empty array of claim ids")
                continue
            options.append(frozenset(ids[c] for c in claim_set))
    return CredentialQuery(query_id, fmt, doc_type, tuple(fields), tuple(dict.fromkeys(options)))


def _doc_type(r: _Reader, meta: Any, key: str, fmt: str) -> DocumentType | None:
    """The document type ``meta`` names: one of our SD-JWT VC types, or the mDL."""
    member = "vct_values" if fmt == SD_JWT else "doctype_value"
    if not isinstance(meta, dict):
        r.fail(key, f"must be an object with {member}")
        return None
    r.only(meta, key, {member})
    if fmt == MDOC:
        if meta.get(member) not in DOCTYPES:
            r.fail(f"{key}.{member}", f"must be one of {', '.join(DOCTYPES)}")
            return None
        return get_type("driving_licence")
    known = _types_by_vct()
    vcts = meta.get(member)
    if not (isinstance(vcts, list) and len(vcts) == 1 and vcts[0] in known):
        r.fail(f"{key}.{member}", "must hold one of our document types' vct (GET /v1/document-types)")
        return None
    return known[vcts[0]]


def _credential_sets(r: _Reader, raw: Any, ids: set[str]) -> list[tuple[tuple[frozenset[str], ...], bool]]:
    sets = []
    for i, entry in enumerate(r.array(raw, "dcql_query.credential_sets", _MAX_SETS)):
        here = f"dcql_query.credential_sets[{i}]"
        if not isinstance(entry, dict):
            r.fail(here, "must be an object")
            continue
        r.only(entry, here, {"options", "required"})
        required = entry.get("required", True)
        if not isinstance(required, bool):
            r.fail(f"{here}.required", "must be true or false")
        options = []
        for j, option in enumerate(r.array(entry.get("options"), f"{here}.options", _MAX_SETS)):
            if not isinstance(option, list) or not option or not all(isinstance(o, str) and o in ids for o in option):
                r.fail(f"{here}.options[{j}]", "must be a non-empty array of credential query ids")
                continue
            options.append(frozenset(option))
        sets.append((tuple(options), required is True))
    return sets


def parse_dcql(raw: Any) -> DcqlQuery:
    """The query, checked against our document types; :class:`DcqlInvalid` lists every flaw."""
    r = _Reader()
    if not isinstance(raw, dict):
        raise DcqlInvalid([{"key": "dcql_query", "message": "must be an object"}])
    r.only(raw, "dcql_query", {"credentials", "credential_sets"})
    seen: set[str] = set()
    queries = [
        _credential(r, c, f"dcql_query.credentials[{i}]", seen)
        for i, c in enumerate(r.array(raw.get("credentials"), "dcql_query.credentials", _MAX_CREDENTIALS))
    ]
    sets = _credential_sets(r, raw["credential_sets"], seen) if "credential_sets" in raw else []
    if r.errors:
        raise DcqlInvalid(r.errors)
    return DcqlQuery(tuple(q for q in queries if q is not None), tuple(sets), raw)
