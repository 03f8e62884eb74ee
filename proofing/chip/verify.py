"""Everything the server checks on a chip read, in the order that keeps refusals precise.

Passive authentication comes first and hashes the raw bytes, so a data group changed in
any byte is reported as a hash mismatch whether or not it still parses; only data groups
that the SOD vouches for are then decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofing.chip.active import active_authentication
from proofing.chip.identity import ChipIdentity, chip_identity, face_image
from proofing.chip.parts import check_size
from proofing.chip.passive import SignedChip, passive_authentication
from proofing.chip.refusals import ChipRefused
from proofing.chip.trust import TrustList

__all__ = ["REQUIRED_GROUPS", "ChipRead", "VerifiedChip", "verify_chip"]

#: Data groups every proofing needs: MRZ, face, personal data, active-authentication key.
REQUIRED_GROUPS = (1, 2, 13, 15)


@dataclass(frozen=True, slots=True)
class ChipRead:
    """What the phone read from the chip (each file as read, tag and length included)."""

    dg1: bytes
    dg2: bytes
    dg13: bytes
    dg15: bytes
    sod: bytes
    dg14: bytes | None = None

    def groups(self) -> dict[int, bytes]:
        found = {1: self.dg1, 2: self.dg2, 13: self.dg13, 15: self.dg15}
        if self.dg14 is not None:
            found[14] = self.dg14
        return found


@dataclass(frozen=True, slots=True)
class VerifiedChip:
    identity: ChipIdentity
    portrait: bytes
    signed: SignedChip


def verify_chip(read: ChipRead, challenge: bytes, aa_signature: bytes, trust: TrustList) -> VerifiedChip:
    """Passive then active authentication, then the holder's data; raises :class:`ChipRefused`."""
    groups = read.groups()
    for number, data in groups.items():
        check_size(f"dg{number}", data)
    signed = passive_authentication(read.sod, groups, trust)
    missing = [n for n in REQUIRED_GROUPS if n not in signed.hashes]
    if missing:
        raise ChipRefused("chip-data-group-missing", f"DG{missing[0]} is not in the SOD.", data_group=missing[0])
    if 14 in signed.hashes and read.dg14 is None:
        raise ChipRefused("chip-data-group-missing", "DG14 is in the SOD but was not sent.", data_group=14)
    active_authentication(read.dg15, read.dg14, challenge, aa_signature)
    return VerifiedChip(identity=chip_identity(read.dg1, read.dg13), portrait=face_image(read.dg2), signed=signed)
