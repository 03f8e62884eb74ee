"""The face matcher's adapters, and the trust list read from its directory."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from proofing.chip import TrustStore
from proofing.chip.trust import SignerCertificate
from proofing.devchip import make_crl, make_csca, make_signer, portrait, selfie
from proofing.face import (
    FaceImageInvalid,
    FaceMatcherUnavailable,
    HttpFaceMatcher,
    LocalFaceMatcher,
    choose_face_matcher,
)
from tests.support.settings import replaced
from wallet_api.settings import Settings


def _matcher(handler: httpx.MockTransport) -> HttpFaceMatcher:
    # The service is someone else's: its answers are played by a transport, never our storage.
    return HttpFaceMatcher(httpx.AsyncClient(transport=handler), "https://faces.example/", "secret")


async def test_http_face_matcher_sends_both_images_and_reads_the_verdict() -> None:
    seen: dict[str, object] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["auth"] = str(request.url), request.headers["Authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"score": 0.91, "live": True})

    verdict = await _matcher(httpx.MockTransport(answer)).compare(b"selfie", b"photo")
    assert (verdict.score, verdict.live) == (0.91, True)
    assert seen["url"] == "https://faces.example/v1/compare" and seen["auth"] == "Bearer secret"
    assert seen["body"] == {"selfie": "c2VsZmll", "reference": "cGhvdG8="}


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(422, json={}), FaceImageInvalid),
        (httpx.Response(500), FaceMatcherUnavailable),
        (httpx.Response(200, content=b"not json"), FaceMatcherUnavailable),
        (httpx.Response(200, json={"score": 7, "live": True}), FaceMatcherUnavailable),
        (httpx.Response(200, json={"score": 0.5, "live": "yes"}), FaceMatcherUnavailable),
    ],
)
async def test_http_face_matcher_refuses_what_it_cannot_trust(response: httpx.Response, error: type) -> None:
    with pytest.raises(error):
        await _matcher(httpx.MockTransport(lambda _: response)).compare(b"a", b"b")


async def test_http_face_matcher_unreachable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(FaceMatcherUnavailable):
        await _matcher(httpx.MockTransport(down)).compare(b"a", b"b")


async def test_local_matcher_tells_people_apart_and_a_copy_of_the_photo_is_not_live() -> None:
    local = LocalFaceMatcher()
    same = await local.compare(selfie("001195004211"), portrait("001195004211"))
    other = await local.compare(selfie("001088012345"), portrait("001195004211"))
    copy = await local.compare(portrait("001195004211"), portrait("001195004211"))
    assert same.live and same.score >= 0.75 > other.score
    assert not copy.live
    with pytest.raises(FaceImageInvalid):
        await local.compare(b"\x89PNG\r\n\x1a\n broken", portrait("001195004211"))


async def test_production_without_a_face_service_refuses(settings: Settings) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(FaceMatcherUnavailable):
            choose_face_matcher(replaced(settings, env="production"), http)
        chosen = choose_face_matcher(replaced(settings, face_match_url="https://faces.example"), http)
        assert isinstance(chosen, HttpFaceMatcher)


def test_the_trust_list_follows_its_directory(tmp_path: Path) -> None:
    csca = make_csca()
    signer = make_signer(csca)
    der = signer.cert.public_bytes(serialization.Encoding.DER)
    store = TrustStore(tmp_path / "trust")
    assert store.current().cscas == []  # no directory: nothing is trusted
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "csca.pem").write_bytes(csca.cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "trust" / "notes.txt").write_text("not a certificate")
    trust = store.current()
    ds = trust.signer_certificate(der)
    assert isinstance(ds, SignerCertificate)
    assert trust.issuer_of(ds) == csca.cert and not trust.is_revoked(csca.cert, signer.cert)
    # A CRL signed by someone else is ignored; the CSCA's own takes effect without a restart.
    stranger = make_csca("Someone else")
    forged = make_crl(replace(stranger, cert=csca.cert), [signer.cert])
    (tmp_path / "trust" / "forged.crl").write_bytes(forged.public_bytes(serialization.Encoding.DER))
    assert not store.current().is_revoked(csca.cert, signer.cert)
    (tmp_path / "trust" / "csca.crl").write_bytes(
        make_crl(csca, [signer.cert]).public_bytes(serialization.Encoding.DER)
    )
    os.utime(tmp_path / "trust")
    assert store.current().is_revoked(csca.cert, signer.cert)
