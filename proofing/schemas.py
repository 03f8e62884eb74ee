"""What the app sends and receives when it proves its holder with the chip and a selfie.

Binary fields are standard base64 in JSON. A whole upload is at most
:data:`MAX_UPLOAD_BYTES`; each part has its own limit (``proofing.chip.parts``).
"""

from __future__ import annotations

import msgspec

from proofing.chip import ChipRead
from wallet_api.accounts.schemas import Code, DeviceIn, Password, PersonId, Phone, Signature

__all__ = [
    "MAX_UPLOAD_BYTES",
    "ChallengeView",
    "ChipProof",
    "ProofOutcome",
    "RebindRequest",
    "RecoveryComplete",
    "RecoveryStart",
    "RecoveryStarted",
]

#: A chip read with a selfie is ~30-100 KB in base64; anything far larger is not one.
MAX_UPLOAD_BYTES = 192 * 1024


class ChipProof(msgspec.Struct, forbid_unknown_fields=True):
    """A chip read, the chip's answer to our challenge, and a live selfie (never stored)."""

    challenge_id: str
    #: The chip's files as read, each with its tag and length: DG1, DG2, DG13, DG15, EF.SOD, DG14 if present.
    chip: ChipRead
    #: The chip's INTERNAL AUTHENTICATE answer to the challenge's 8 bytes.
    active_authentication_signature: bytes
    selfie: bytes


class ChallengeView(msgspec.Struct):
    challenge_id: str
    #: The 8 bytes to send to the chip (INTERNAL AUTHENTICATE), in hex.
    challenge: str
    expires_in: int


class ProofOutcome(msgspec.Struct):
    account_id: str
    level: int
    message: str


class RecoveryStart(msgspec.Struct, forbid_unknown_fields=True):
    person_id: PersonId
    #: The phone number of the device in hand; the code is texted to it.
    phone: Phone


class RecoveryStarted(msgspec.Struct):
    recovery_id: str
    challenge_id: str
    challenge: str
    expires_in: int
    message: str


class RecoveryComplete(ChipProof, forbid_unknown_fields=True):
    """The texted code, a new password, this phone's device key, and the chip + selfie."""

    code: Code
    password: Password
    device: DeviceIn
    #: The device key's signature over ``citizen-wallet:bind:<recovery_id>``.
    signature: Signature


class RebindRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Police: the person in front of the officer is the registry's ``person_id``."""

    person_id: PersonId
    #: The person's own phone number; a code to bind their phone is texted to it.
    phone: Phone
    chip_card_checked: bool
    biometrics_checked: bool
