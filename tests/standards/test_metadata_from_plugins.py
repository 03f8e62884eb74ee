"""Issue #16 item 1: ``credential_configurations_supported`` generated from the document-type
plugins — one SD-JWT VC configuration per type the app lists, its ``vct`` resolving to that
type's metadata, display names in Vietnamese and English, and the mdoc for the licence only;
read from the public routes a wallet uses."""

from __future__ import annotations

import httpx

from tests.openid4vci.wallet import ISSUER


async def test_every_document_type_is_a_credential_configuration_named_in_vi_and_en(client: httpx.AsyncClient) -> None:
    types = [t["code"] for t in (await client.get("/v1/document-types")).json()["types"]]
    meta = (await client.get("/.well-known/openid-credential-issuer")).json()
    configurations = meta["credential_configurations_supported"]
    assert set(configurations) == {f"{t}_sd_jwt" for t in types} | {"driving_licence_mdoc"}
    assert {d["locale"] for d in meta["display"]} == {"vi", "en"}
    for code in types:
        sd_jwt = configurations[f"{code}_sd_jwt"]
        assert sd_jwt["format"] == "dc+sd-jwt"
        assert {d["locale"] for d in sd_jwt["credential_metadata"]["display"]} == {"vi", "en"}, code
        type_metadata = await client.get(sd_jwt["vct"].replace("https://citizenwallet.vn", ISSUER))
        assert type_metadata.status_code == 200 and type_metadata.json()["vct"] == sd_jwt["vct"], code
    mdoc = configurations["driving_licence_mdoc"]
    assert (mdoc["format"], mdoc["doctype"]) == ("mso_mdoc", "org.iso.18013.5.1.mDL")
    assert {d["locale"] for d in mdoc["credential_metadata"]["display"]} == {"vi", "en"}
