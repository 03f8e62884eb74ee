"""SD-JWT VC type metadata: every ``vct`` resolves, over HTTP at its own path on our host, to a
Type Metadata document made from the type's plugin; an independent reader
(@sd-jwt/sd-jwt-vc, tests/interop) fetches and accepts it, for every type and from a credential."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from documents.types import all_types, get_type
from tests.documents.conftest import Citizen, id_card_claims, issue, licence_claims
from tests.support.node import Node

#: Claims of every SD-JWT VC that are not the document's (registered JWT and SD-JWT VC claims).
_ENVELOPE = {"iss", "iat", "nbf", "exp", "vct", "cnf", "status"}


async def test_every_vct_resolves_at_its_path_to_type_metadata_made_from_its_plugin(client: httpx.AsyncClient) -> None:
    for doc_type in all_types():
        path = urlsplit(doc_type.vct).path
        assert path == f"/credentials/{doc_type.code}/v{doc_type.schema_version}"
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert r.headers["cache-control"] == "public, max-age=3600"
        etag = r.headers["etag"]
        metadata = r.json()
        assert metadata["vct"] == doc_type.vct
        assert [(d["locale"], d["name"]) for d in metadata["display"]] == [
            ("vi", doc_type.title.vi),
            ("en", doc_type.title.en),
        ]
        assert {d["rendering"]["simple"]["background_color"] for d in metadata["display"]} == {doc_type.card.colour}
        claims = {tuple(c["path"]): c for c in metadata["claims"]}
        assert list(claims) == [(name,) for name in doc_type.disclosable]
        for name in doc_type.disclosable:
            claim = claims[(name,)]
            label = doc_type.label(name)
            assert claim["display"] == [{"locale": "vi", "label": label.vi}, {"locale": "en", "label": label.en}]
            assert claim["sd"] == "always"
        optional = {f.name for f in msgspec.structs.fields(doc_type.schema) if f.default is None}
        optional |= set(doc_type.derived)
        assert {name for (name,), c in claims.items() if not c["mandatory"]} == optional

        # Cached like the other public documents: the same ETag every time, 304, HEAD.
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        head = await client.head(path)
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
        assert int(head.headers["content-length"]) == len(r.content)


async def test_unknown_types_and_versions_are_not_found_problems(client: httpx.AsyncClient) -> None:
    for path in ("/credentials/passport/v1", "/credentials/driving_licence/v2", "/credentials/driving_licence/1"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/not-found")


async def test_sd_jwt_vc_library_reads_the_type_metadata_of_every_vct(node_served: Node) -> None:
    vcts = [t.vct for t in all_types()]
    read = await node_served.run("sd-jwt-vc-type-metadata.mjs", {"vcts": vcts})
    assert sorted(read) == sorted(vcts)
    for vct, got in read.items():
        assert got["metadata"]["vct"] == vct
        assert got["contentType"].startswith("application/json") and got["etag"]
        # The library's schema kept every claim with its locale-tagged labels.
        assert all(len(c["display"]) == 2 and c["sd"] == "always" for c in got["metadata"]["claims"])


async def test_sd_jwt_vc_library_resolves_the_vct_of_our_credentials_and_every_claim_is_described(
    node_served: Node, client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    licence = get_type("driving_licence")
    assert licence is not None
    required = {f.name for f in msgspec.structs.fields(licence.schema) if f.required}
    # The smallest licence the API accepts: only what the schema requires.
    minimal = {k: v for k, v in licence_claims().items() if k in required}
    documents = [
        await issue(client, issuer, claims=minimal),
        await issue(client, issuer, doc_type="chip_id_card", claims=id_card_claims()),
    ]
    for doc in documents:
        r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
        assert r.status_code == 200, r.text
        out = await node_served.run(
            "sd-jwt-vc-verify.mjs", {"credential": r.json()["credential"], "typeMetadata": True}
        )
        resolved = out["typeMetadata"]
        assert resolved["vctValues"] == [out["vct"]]
        described = {c["path"][0]: c for c in resolved["mergedTypeMetadata"]["claims"]}
        document_claims = set(out["claims"]) - _ENVELOPE
        # Every claim the credential carries is described; every mandatory one is carried.
        assert document_claims <= set(described), document_claims - set(described)
        assert {n for n, c in described.items() if c["mandatory"]} <= document_claims
