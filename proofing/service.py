"""Proving a person with their chip and a selfie: the checks every proofing path shares.

In order: the chip (passive + active authentication, :mod:`proofing.chip`), the chip's
holder against the one expected, the holder against the population registry (number,
name, birth date, alive), then the selfie against the chip's photo. Nothing is written;
callers change accounts only after :func:`prove_holder` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from proofing.chip import ChipRefused, TrustList, TrustStore, verify_chip
from proofing.face import FACE_MATCHER, FaceImageInvalid, FaceMatcherUnavailable
from proofing.schemas import ChipProof
from wallet_api.accounts.names import names_match
from wallet_api.accounts.registry import RegistryUnavailable
from wallet_api.accounts.registry.problem import registry_down
from wallet_api.kernel import Services, Settings

__all__ = ["ProvenHolder", "prove_holder", "trust_list"]

_STORES: dict[Path, TrustStore] = {}


def trust_directory(settings: Settings) -> Path:
    return (
        Path(settings.proofing.chip_trust_dir) if settings.proofing.chip_trust_dir else settings.data_dir / "chip-trust"
    )


def trust_list(settings: Settings) -> TrustList:
    """This process's trust list (re-read when its directory changes)."""
    directory = trust_directory(settings)
    store = _STORES.get(directory)
    if store is None:
        store = _STORES[directory] = TrustStore(directory)
    return store.current()


@dataclass(frozen=True, slots=True)
class ProvenHolder:
    person_id: str
    #: SHA-256 of the Document Signer certificate (hex, first 16 bytes): for the audit log.
    document_signer: str
    face_score: float


async def prove_holder(services: Services, proof: ChipProof, nonce: bytes, *, expected_person_id: str) -> ProvenHolder:
    """Raise :class:`ChipRefused` unless ``proof`` shows ``expected_person_id`` in person."""
    verified = verify_chip(proof.chip, nonce, proof.active_authentication_signature, trust_list(services.settings))
    chip = verified.identity
    if chip.person_id != expected_person_id:
        raise ChipRefused("chip-not-account-holder", "This chip ID card belongs to someone else.")
    try:
        person = await services.population.lookup(chip.person_id)
    except RegistryUnavailable as exc:
        raise registry_down() from exc
    if (
        person is None
        or person.deceased
        or person.date_of_birth != chip.date_of_birth
        or not names_match(person.full_name, chip.full_name)
    ):
        raise ChipRefused("chip-registry-mismatch", "The chip's data do not match the population registry.")
    try:
        verdict = await services.get(FACE_MATCHER).compare(proof.selfie, verified.portrait)
    except FaceImageInvalid:
        raise ChipRefused("face-image-invalid", "The selfie cannot be read as a photo of a face.") from None
    except FaceMatcherUnavailable:
        raise ChipRefused("face-matcher-unavailable", "Face matching is not available; try again later.") from None
    if not verdict.live:
        raise ChipRefused("face-liveness-failed", "Take the selfie live, of yourself, in good light.")
    if verdict.score * 100 < services.settings.proofing.face_match_threshold_percent:
        raise ChipRefused("face-mismatch", "The selfie does not match the photo on the chip.")
    return ProvenHolder(
        person_id=chip.person_id,
        document_signer=verified.signed.signer.fingerprint(hashes.SHA256())[:16].hex(),
        face_score=round(verdict.score, 3),
    )
