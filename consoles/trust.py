"""The verifier web app's trust bundle: what it needs to verify offline QR codes with no network.

One document holding every issuer's published keys (as in its SD-JWT VC issuer metadata),
every signed Token Status List (as served at ``/status-lists/{id}``) and the document
types' offline keys and labels, and the preset dictionary of the offline payloads' deflate
(``documents/offline_dictionary.py``). The page's service worker caches it; the page checks each
list's signature with the issuer's key before believing a bit of it, and refuses a verdict
once the bundle is older than the lists' ``ttl`` (``generated_at`` says when the lists were
current).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import asyncpg
import msgspec

from documents import public
from documents.offline_dictionary import OFFLINE_DICTIONARY
from documents.statuslist import signed_list
from documents.types import DocumentType, all_types
from wallet_api.kernel import DatabaseKeyProvider, Settings

__all__ = ["trust_bundle"]


def _records(doc_type: DocumentType) -> dict[str, list[str]]:
    """Field names of nested records (licence classes), which travel as arrays in schema order."""
    info = msgspec.inspect.type_info(doc_type.schema)
    records: dict[str, list[str]] = {}
    if isinstance(info, msgspec.inspect.StructType):
        for f in info.fields:
            tp = f.type
            if isinstance(tp, msgspec.inspect.UnionType):
                tp = next((t for t in tp.types if not isinstance(t, msgspec.inspect.NoneType)), tp)
            if isinstance(tp, msgspec.inspect.ListType) and isinstance(tp.item_type, msgspec.inspect.StructType):
                records[f.name] = [sub.name for sub in tp.item_type.fields]
    return records


def _type(doc_type: DocumentType) -> dict[str, Any]:
    return {
        "code": doc_type.code,
        "title": doc_type.title.as_dict(),
        "offline_keys": {str(key): name for name, key in doc_type.offline_keys.items()},
        "labels": {name: doc_type.label(name).as_dict() for name in doc_type.disclosable},
        "records": _records(doc_type),
        "photo": doc_type.card.photo,
        "portrait": doc_type.portrait,
    }


async def trust_bundle(db: asyncpg.Pool, key_provider: DatabaseKeyProvider, settings: Settings) -> dict[str, Any]:
    generated_at = int(time.time())
    issuers = []
    for org in await db.fetch("SELECT id FROM organisations WHERE kind = 'issuer' ORDER BY id"):
        # The issuer metadata route's own answer, so the app trusts exactly the published keys.
        metadata = await public.issuer_metadata.fn(
            db=db, settings=settings, key_provider=key_provider, org_id=org["id"]
        )
        body = metadata.content
        issuers.append({"id": org["id"], "name": body["name"], "keys": body["jwks"]["keys"]})
    lists = []
    for row in await db.fetch("SELECT id FROM status_lists ORDER BY created_at"):
        signed = await signed_list(
            db,
            key_provider,
            row["id"],
            base_url=settings.public_base_url,
            ttl_seconds=settings.documents.status_list_ttl_seconds,
        )
        if signed is not None:
            lists.append({"id": str(row["id"]), "token": signed.token})
    return {
        "generated_at": generated_at,
        "issuers": issuers,
        "status_lists": lists,
        "types": [_type(t) for t in all_types()],
        "offline_dictionary": base64.b64encode(OFFLINE_DICTIONARY).decode("ascii"),
    }
