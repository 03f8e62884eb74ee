"""The chip of the ID card (ICAO Doc 9303 LDS): passive and active authentication, holder data.

Pure functions over bytes: no database, no HTTP. :func:`verify_chip` is the entry point;
every refusal is a :class:`ChipRefused` with its own problem type.
"""

from proofing.chip.identity import ChipIdentity
from proofing.chip.refusals import REFUSALS, ChipRefused
from proofing.chip.trust import TrustList, TrustStore
from proofing.chip.verify import ChipRead, VerifiedChip, verify_chip

__all__ = [
    "REFUSALS",
    "ChipIdentity",
    "ChipRead",
    "ChipRefused",
    "TrustList",
    "TrustStore",
    "VerifiedChip",
    "verify_chip",
]
