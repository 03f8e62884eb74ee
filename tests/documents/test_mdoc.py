"""The driving licence as an ISO 18013-5 mdoc: published IACA roots, minting, verifying.

Structures are read back with cbor2 and cryptography (tests/support/mdoc_holder.py, which
uses nothing of documents/mdoc), and DeviceResponses are built by that test holder;
tests/interop/ has independent mdoc libraries do the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import asyncpg
import cbor2
import httpx
import hypothesis
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import strategies as st
from litestar import Litestar

from documents.mdoc import (
    MDL_NAMESPACE,
    VN_NAMESPACE,
    DeviceSignatureInvalid,
    DigestMismatch,
    DocTypeMismatch,
    DocumentSigner,
    MalformedMdoc,
    MdocError,
    MdocNotValid,
    UnsupportedMdoc,
    UntrustedIssuer,
    check_device_response,
    check_issuer_signed,
    document_signer,
    mint_mdoc,
    trusted_roots,
    verify_device_response,
)
from documents.mdoc.certificates import MDOC_DS_EKU
from documents.mdoc.trust import forget_cached
from tests.documents.conftest import licence_claims, portrait_uri
from tests.support import mdoc_holder as holder
from tests.support.cli import run_wallet
from wallet_api.settings import Settings

STATUS_URI = "https://wallet.example/status-lists/6f1c2a8e-0d4b-4c57-9a55-2f1e7e0c3b11"
TRANSCRIPT = holder.openid4vp_transcript("x509_san_dns:bank.example", "n-0S6_WzA2Mj", "https://bank.example/cb")


async def _signer(app: Litestar, db: asyncpg.Pool, settings: Settings, org: str = "csgt") -> DocumentSigner:
    return await document_signer(db, app.state.services.keys, org, base_url=settings.public_base_url)


async def _mint(
    app: Litestar, db: asyncpg.Pool, settings: Settings, device: ec.EllipticCurvePrivateKey, **claims: Any
) -> bytes:
    signer = await _signer(app, db, settings)
    return mint_mdoc(
        signer,
        claims={**licence_claims(**claims), "age_over_18": True},
        holder_jwk=holder.public_jwk(device),
        status_uri=STATUS_URI,
        status_idx=4711,
        valid_until=dt.datetime(2035, 6, 10, 17, tzinfo=dt.UTC),
    )


@pytest.fixture
def device() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


async def test_every_licence_issuers_iaca_root_is_published(client: httpx.AsyncClient, issuer: Any) -> None:
    listed = await client.get("/mdoc/iaca-certificates")
    assert listed.status_code == 200, listed.text
    (entry,) = [e for e in listed.json()["iaca_certificates"] if e["issuer"] == "csgt"]
    pem = await client.get("/issuers/csgt/iaca.pem")
    assert pem.status_code == 200 and pem.text == entry["certificate"]
    root = x509.load_pem_x509_certificate(pem.content)
    assert root.subject == root.issuer
    assert root.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)[0].value == "VN"
    root.verify_directly_issued_by(root)
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and not usage.value.digital_signature
    alt = root.extensions.get_extension_for_class(x509.IssuerAlternativeName).value
    assert alt.get_values_for_type(x509.UniformResourceIdentifier) == [entry["issuer_url"]]
    assert hashlib.sha256(root.public_bytes(Encoding.DER)).hexdigest() == entry["sha256"]
    # Asking again serves the same root: it is made once and kept in PostgreSQL.
    assert (await client.get("/issuers/csgt/iaca.pem")).text == pem.text
    assert (await client.get("/issuers/no-such-agency/iaca.pem")).status_code == 404


async def test_the_document_signer_certificate_has_the_annex_b_profile(
    app: Litestar, db: asyncpg.Pool, settings: Settings, client: httpx.AsyncClient, issuer: Any
) -> None:
    signer = await _signer(app, db, settings)
    ds = x509.load_der_x509_certificate(signer.certificate)
    root = x509.load_pem_x509_certificate((await client.get("/issuers/csgt/iaca.pem")).content)
    ds.verify_directly_issued_by(root)
    eku = ds.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [MDOC_DS_EKU]
    usage = ds.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert ds.not_valid_after_utc - ds.not_valid_before_utc <= dt.timedelta(days=457)
    assert ds.extensions.get_extension_for_class(x509.IssuerAlternativeName)
    assert ds.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    # A dedicated key, not the agency's SD-JWT issuer key.
    issuer_jwks = await client.get("/.well-known/jwt-vc-issuer/issuers/csgt")
    assert signer.key.kid not in {k["kid"] for k in issuer_jwks.json()["jwks"]["keys"]}


async def test_a_minted_mdoc_carries_the_licence_as_mdl_elements(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    raw = await _mint(app, db, settings, device, portrait=portrait_uri())
    issuer_signed = cbor2.loads(raw)
    mso = holder.mso(issuer_signed)
    assert mso["version"] == "1.0" and mso["digestAlgorithm"] == "SHA-256"
    assert mso["docType"] == "org.iso.18013.5.1.mDL"
    assert mso["status"] == {"status_list": {"idx": 4711, "uri": STATUS_URI}}
    key = mso["deviceKeyInfo"]["deviceKey"]
    jwk = holder.public_jwk(device)
    assert key[1] == 2 and key[-1] == 1 and holder.public_jwk(device) == jwk
    validity = mso["validityInfo"]
    assert validity["signed"] <= validity["validFrom"] < validity["validUntil"]
    assert validity["validUntil"] - validity["signed"] <= dt.timedelta(days=90)
    protected, unprotected, _, signature = issuer_signed["issuerAuth"]
    assert cbor2.loads(protected) == {1: -7} and len(signature) == 64
    assert isinstance(unprotected[33], bytes)  # x5chain: the DS certificate
    for namespace in (MDL_NAMESPACE, VN_NAMESPACE):
        tagged = issuer_signed["nameSpaces"][namespace]
        ids = [cbor2.loads(t.value)["digestID"] for t in tagged]
        assert len(set(ids)) == len(ids)
        assert len(mso["valueDigests"][namespace]) % 8 == 0  # padded with decoys
        for t in tagged:
            item = cbor2.loads(t.value)
            assert len(item["random"]) >= 16
            digest = hashlib.sha256(cbor2.dumps(t)).digest()
            assert mso["valueDigests"][namespace][item["digestID"]] == digest
    mdl = {i["elementIdentifier"]: i["elementValue"] for i in holder.items(issuer_signed, MDL_NAMESPACE)}
    assert mdl["family_name"] == "Nguyen" and mdl["given_name"] == "Van Hung"
    assert mdl["family_name_national_character"] == "Nguyễn"
    assert mdl["given_name_national_character"] == "Văn Hùng"
    assert mdl["birth_date"] == dt.date(1990, 5, 17) and mdl["expiry_date"] == dt.date(2035, 6, 10)
    assert mdl["issuing_country"] == mdl["un_distinguishing_sign"] == "VN" and mdl["nationality"] == "VN"
    assert mdl["issuing_authority"] == "Cuc Canh sat giao thong" and mdl["document_number"] == "001090012345"
    assert mdl["age_over_18"] is True and mdl["portrait"][:3] == b"\xff\xd8\xff"
    assert mdl["driving_privileges"][1] == {
        "vehicle_category_code": "B",
        "issue_date": dt.date(2015, 6, 10),
        "expiry_date": dt.date(2035, 6, 10),
    }
    assert "expiry_date" not in mdl["driving_privileges"][0]  # A1 never expires
    vn = {i["elementIdentifier"]: i["elementValue"] for i in holder.items(issuer_signed, VN_NAMESPACE)}
    assert vn == {
        "full_name": "Nguyễn Văn Hùng",
        "nationality": "Việt Nam",
        "issuing_authority": "Cục Cảnh sát giao thông",
        "points": 12,
    }


async def test_a_device_response_reveals_only_what_the_holder_chose(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    raw = await _mint(app, db, settings, device)
    response = holder.device_response(
        raw, device, TRANSCRIPT, disclose={MDL_NAMESPACE: {"age_over_18", "driving_privileges"}}
    )
    (doc,) = await verify_device_response(db, response, cbor2.dumps(TRANSCRIPT))
    assert doc.doc_type == "org.iso.18013.5.1.mDL" and doc.issuer_org_id == "csgt"
    assert set(doc.namespaces) == {MDL_NAMESPACE}
    assert set(doc.namespaces[MDL_NAMESPACE]) == {"age_over_18", "driving_privileges"}
    assert doc.json_namespaces()[MDL_NAMESPACE]["driving_privileges"][2] == {
        "vehicle_category_code": "C1",
        "issue_date": "2020-09-21",
        "expiry_date": "2030-09-21",
    }
    assert doc.status is not None and (doc.status.uri, doc.status.idx) == (STATUS_URI, 4711)
    assert doc.device_jwk == holder.public_jwk(device)
    # The transcript may also be given as the CBOR value rather than its bytes.
    assert (await verify_device_response(db, response, TRANSCRIPT))[0].namespaces == doc.namespaces


def _tamper_item(response: bytes) -> bytes:
    """The first disclosed item's value changed (its digest no longer matches the MSO's)."""
    value = cbor2.loads(response)
    tagged = value["documents"][0]["issuerSigned"]["nameSpaces"][MDL_NAMESPACE]
    item = cbor2.loads(tagged[0].value)
    item["elementValue"] = False if item["elementValue"] is True else "forged"
    tagged[0] = cbor2.CBORTag(24, cbor2.dumps(item))
    return cbor2.dumps(value)


async def test_refusals_name_their_reason(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    raw = await _mint(app, db, settings, device)
    good = holder.device_response(raw, device, TRANSCRIPT)
    other = ec.generate_private_key(ec.SECP256R1())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=91)
    backdated = mint_mdoc(
        await _signer(app, db, settings),
        claims=licence_claims(),
        holder_jwk=holder.public_jwk(device),
        status_uri=STATUS_URI,
        status_idx=1,
        valid_until=None,
        signed_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
    )
    cases: list[tuple[bytes, Any, dict[str, Any], type[MdocError], str]] = [
        (_tamper_item(good), TRANSCRIPT, {}, DigestMismatch, "digest-mismatch"),
        (
            good,
            holder.openid4vp_transcript("x509_san_dns:evil.example", "n-0S6_WzA2Mj", "https://evil.example/cb"),
            {},
            DeviceSignatureInvalid,
            "device-signature-invalid",
        ),
        (
            holder.device_response(raw, other, TRANSCRIPT),
            TRANSCRIPT,
            {},
            DeviceSignatureInvalid,
            "device-signature-invalid",
        ),
        (holder.device_response(raw, device, TRANSCRIPT, mac=True), TRANSCRIPT, {}, UnsupportedMdoc, "unsupported"),
        (
            holder.device_response(raw, device, TRANSCRIPT, doc_type="org.iso.23220.photoid.1"),
            TRANSCRIPT,
            {},
            DocTypeMismatch,
            "doctype-mismatch",
        ),
        (good, TRANSCRIPT, {"now": later}, MdocNotValid, "expired"),
        # Signed (so it says) before its Document Signer certificate existed.
        (holder.device_response(backdated, device, TRANSCRIPT), TRANSCRIPT, {}, UntrustedIssuer, "untrusted-issuer"),
        (b"\xa1\x01", TRANSCRIPT, {}, MalformedMdoc, "malformed"),
        (b"not cbor at all", TRANSCRIPT, {}, MalformedMdoc, "malformed"),
    ]
    for response, transcript, options, error, code in cases:
        with pytest.raises(error) as caught:
            await verify_device_response(db, response, transcript, **options)
        assert caught.value.code == code


async def test_an_mdoc_signed_under_a_root_we_do_not_publish_is_untrusted(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    from documents.mdoc.certificates import document_signer_certificate, iaca_certificate
    from wallet_api.keys.provider import SigningKey

    # A forger's own IACA and DS, with our profile and our agency's name.
    now = dt.datetime.now(dt.UTC)
    root_key, ds_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = iaca_certificate(
        root_key,
        org_name="Cục Cảnh sát giao thông",
        issuer_url="https://x.example",
        crl_url="https://x.example/c.crl",
        now=now,
    )
    ds = document_signer_certificate(
        ds_key.public_key(),
        iaca=root,
        iaca_key=root_key,
        org_name="Cục Cảnh sát giao thông",
        issuer_url="https://x.example",
        crl_url="https://x.example/c.crl",
        now=now,
    )
    ours = await _signer(app, db, settings)
    forged_signer = DocumentSigner(
        org_id="csgt",
        key=SigningKey("forged", "mdoc-ds", "csgt", {}, ds_key, now),
        certificate=ds.public_bytes(Encoding.DER),
        not_after=ours.not_after,
    )
    raw = mint_mdoc(
        forged_signer,
        claims=licence_claims(),
        holder_jwk=holder.public_jwk(device),
        status_uri=STATUS_URI,
        status_idx=1,
        valid_until=None,
    )
    with pytest.raises(UntrustedIssuer):
        await verify_device_response(db, holder.device_response(raw, device, TRANSCRIPT), TRANSCRIPT)


async def test_any_single_byte_change_of_an_item_or_the_mso_is_refused(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    raw = await _mint(app, db, settings, device)
    roots = await trusted_roots(db, refresh=True)
    assert check_issuer_signed(raw, roots=roots).issuer_org_id == "csgt"

    @hypothesis.settings(max_examples=1000, deadline=None)
    @hypothesis.given(position=st.integers(0, len(raw) - 1), flip=st.integers(1, 255))
    def changed(position: int, flip: int) -> None:
        tampered = bytearray(raw)
        tampered[position] ^= flip
        with pytest.raises(MdocError):
            check_issuer_signed(bytes(tampered), roots=roots)

    changed()


async def test_whatever_bytes_arrive_the_verifier_answers_with_an_mdoc_error(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    good = holder.device_response(await _mint(app, db, settings, device), device, TRANSCRIPT)
    roots = await trusted_roots(db, refresh=True)
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.binary(max_size=16),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12) | st.integers(), inner, max_size=4)
        ),
        max_leaves=12,
    )

    @hypothesis.settings(max_examples=1000, deadline=None)
    @hypothesis.given(
        data=st.one_of(
            st.binary(max_size=64),
            values.map(cbor2.dumps),
            st.tuples(st.integers(0, len(good) - 1), st.binary(min_size=1, max_size=4)).map(
                lambda cut: good[: cut[0]] + cut[1] + good[cut[0] + len(cut[1]) :]
            ),
        )
    )
    def arrives(data: bytes) -> None:
        hypothesis.assume(data != good)
        with pytest.raises(MdocError):
            check_device_response(data, TRANSCRIPT, roots=roots)

    arrives()


def _crl_path(cert: x509.Certificate, settings: Settings) -> str:
    (point,) = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    (uri,) = point.full_name or []
    assert isinstance(uri, x509.UniformResourceIdentifier) and uri.value.startswith(settings.public_base_url)
    return uri.value.removeprefix(settings.public_base_url)


async def test_each_root_publishes_its_crl_where_its_certificates_point_even_after_it_is_replaced(
    app: Litestar, db: asyncpg.Pool, settings: Settings, client: httpx.AsyncClient, issuer: Any
) -> None:
    signer = await _signer(app, db, settings)
    ds = x509.load_der_x509_certificate(signer.certificate)
    root = x509.load_pem_x509_certificate((await client.get("/issuers/csgt/iaca.pem")).content)
    assert _crl_path(ds, settings) == _crl_path(root, settings)
    r = await client.get(_crl_path(root, settings))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(r.content)
    public = root.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert crl.issuer == root.subject and crl.is_signature_valid(public) and len(crl) == 0
    assert crl.next_update_utc is not None and crl.next_update_utc > dt.datetime.now(dt.UTC)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber)

    # The root comes too close to its end to cover a fresh DS certificate: the next signer
    # gets a new root and a new DS key; the old root stays published with its last CRL.
    await db.execute(
        "UPDATE mdoc_certificates SET not_after = now() + interval '400 days' WHERE role = 'iaca' AND org_id = 'csgt'"
    )
    renewed = await _signer(app, db, settings)
    assert renewed.key.kid != signer.key.kid
    new_ds = x509.load_der_x509_certificate(renewed.certificate)
    assert new_ds.issuer == root.subject and _crl_path(new_ds, settings) != _crl_path(ds, settings)
    published = (await client.get("/issuers/csgt/iaca.pem")).text
    assert published.count("BEGIN CERTIFICATE") == 2
    final = x509.load_der_x509_crl((await client.get(_crl_path(root, settings))).content)
    # Valid until the root ends (here the shortened end the test gave it).
    ends = await db.fetchval(
        "SELECT not_after FROM mdoc_certificates WHERE role = 'iaca' AND der = $1", root.public_bytes(Encoding.DER)
    )
    assert final.is_signature_valid(public) and final.next_update_utc == ends.replace(microsecond=0)
    assert (await client.get("/issuers/csgt/iaca/no-such-root.crl")).status_code == 404


async def test_a_revoked_document_signer_is_refused_and_listed_in_its_roots_crl(
    app: Litestar,
    db: asyncpg.Pool,
    settings: Settings,
    client: httpx.AsyncClient,
    issuer: Any,
    device: ec.EllipticCurvePrivateKey,
    tmp_path: Path,
) -> None:
    raw = await _mint(app, db, settings, device)
    response = holder.device_response(raw, device, TRANSCRIPT)
    assert await verify_device_response(db, response, TRANSCRIPT)
    revoked_ds = x509.load_der_x509_certificate(cbor2.loads(raw)["issuerAuth"][1][33])
    revoked_kid = (await _signer(app, db, settings)).key.kid

    # An operator thinks the DS key compromised.
    result = await asyncio.to_thread(
        run_wallet, settings, tmp_path, "documents", "revoke-mdoc-signer", "csgt", kek=settings.kek
    )
    assert result.returncode == 0, result.stderr
    assert "revoked Document Signer" in result.stdout
    forget_cached()  # another process revoked it; this one would see it within its cache's life
    with pytest.raises(UntrustedIssuer, match="revoked"):
        await verify_device_response(db, response, TRANSCRIPT)
    root = x509.load_pem_x509_certificate((await client.get("/issuers/csgt/iaca.pem")).content)
    crl = x509.load_der_x509_crl((await client.get(_crl_path(root, settings))).content)
    public = root.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and crl.is_signature_valid(public)
    entry = crl.get_revoked_certificate_by_serial_number(revoked_ds.serial_number)
    assert entry is not None and len(crl) == 1
    # Nor is its key left in the JWK set (mdoc readers never take keys from there).
    jwks = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert revoked_kid not in {k["kid"] for k in jwks}

    # The next mdoc is signed by a new Document Signer and verifies.
    fresh = await _mint(app, db, settings, device)
    assert cbor2.loads(fresh)["issuerAuth"][1][33] != revoked_ds.public_bytes(Encoding.DER)
    assert await verify_device_response(db, holder.device_response(fresh, device, TRANSCRIPT), TRANSCRIPT)


async def test_a_header_label_that_is_not_an_integer_or_text_is_refused(
    app: Litestar, db: asyncpg.Pool, settings: Settings, issuer: Any, device: ec.EllipticCurvePrivateKey
) -> None:
    # Found by the single-byte property above: the x5chain label 33 (0x18 0x21) turned into
    # the simple value 33 (0xf8 0x21), which cbor2 reads as equal to 33.
    raw = await _mint(app, db, settings, device)
    roots = await trusted_roots(db, refresh=True)
    label = raw.index(b"\xa1\x18\x21\x59")  # the unprotected header: {33: bstr (the DS certificate)}
    tampered = raw[: label + 1] + b"\xf8" + raw[label + 2 :]
    with pytest.raises(MdocError):
        check_issuer_signed(tampered, roots=roots)
