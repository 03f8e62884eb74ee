"""Chip test material made by the tests themselves: a CSCA, Document Signers, CRLs, chips.

Document Signers: ``signer`` (good), ``expired_signer`` (its validity ended before the SOD
was signed), ``revoked_signer`` (on the CSCA's CRL) and ``stranger`` (under a CSCA that is
not in the trust list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives import serialization

from proofing.chip import TrustList
from proofing.devchip import Authority, Chip, Holder, make_chip, make_crl, make_csca, make_signer
from tests.accounts.conftest import Person, minh, nhung, register, register_phone
from tests.accounts.conftest import Phone as App
from wallet_api.settings import Settings

__all__ = ["MINH", "NHUNG", "SQUATTER_PHONE", "Pki", "chip_trust_dir", "minh", "nhung", "pki", "squat"]

#: The squatter's phone: a SIM registered with a photocopy of the victim's ID card, which
#: is how an identity is squatted even with the SIM-owner check.
SQUATTER_PHONE = "+84987000111"

NHUNG = Holder("001195004211", "Nguyễn Thị Hồng Nhung", date(1995, 4, 21), "female")
MINH = Holder("001088012345", "Trần Văn Minh", date(1988, 9, 2), "male")


@dataclass(frozen=True)
class Pki:
    csca: Authority
    signer: Authority
    expired_signer: Authority
    revoked_signer: Authority
    stranger: Authority
    trust: TrustList

    def chip(self, holder: Holder = NHUNG, **kw: object) -> Chip:
        kw.setdefault("signer", self.signer)
        return make_chip(holder, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pki() -> Pki:
    now = datetime.now(UTC)
    csca = make_csca()
    signer = make_signer(csca, "DS 1")
    expired = make_signer(csca, "DS expired", not_before=now - timedelta(days=30), days=10)
    revoked = make_signer(csca, "DS revoked")
    stranger = make_signer(make_csca("CSCA Elsewhere"), "DS elsewhere")
    crl = make_crl(csca, [revoked.cert])
    return Pki(csca, signer, expired, revoked, stranger, TrustList.from_files([csca.cert], [crl]))


@pytest.fixture(scope="session")
def chip_trust_dir(pki: Pki, settings: Settings) -> Path:
    """The test PKI's CSCA and CRL written where the app reads its trust list."""
    directory = settings.data_dir / "chip-trust"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "csca.pem").write_bytes(pki.csca.cert.public_bytes(serialization.Encoding.PEM))
    crl = make_crl(pki.csca, [pki.revoked_signer.cert])
    (directory / "csca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return directory


async def squat(client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, victim: Person) -> App:
    """A level-1 account that someone else opened with the victim's identity and own phone."""
    await register_phone(db, SQUATTER_PHONE, victim.person_id)
    return await register(client, redis, Person(**{**victim.__dict__, "phone": SQUATTER_PHONE}))
