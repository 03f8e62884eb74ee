"""Why a chip read is refused: one RFC 9457 problem type per reason (docs/problems.md).

The chip checks raise :class:`ChipRefused` with one of these slugs; nothing is changed
before every check has passed, so a refusal leaves every account as it was.
"""

from __future__ import annotations

from typing import Any

from wallet_api.kernel import Problem

__all__ = ["REFUSALS", "ChipRefused"]

#: slug -> (status, title)
REFUSALS: dict[str, tuple[int, str]] = {
    "chip-data-truncated": (422, "A chip file ends before its ASN.1 length says"),
    "chip-data-oversized": (422, "A chip file is larger than such a file may be"),
    "chip-data-malformed": (422, "A chip file is not the ASN.1 structure it should be"),
    "chip-data-group-missing": (422, "A data group the proofing needs was not sent or is not in the SOD"),
    "chip-data-group-hash-mismatch": (422, "A data group differs from what the Document Signer signed"),
    "sod-signature-invalid": (422, "The SOD's signature does not verify"),
    "document-signer-untrusted": (422, "The Document Signer does not chain to a trusted CSCA"),
    "document-signer-expired": (422, "The Document Signer or its CSCA was not valid when the SOD was signed"),
    "document-signer-revoked": (422, "The Document Signer certificate is revoked"),
    "chip-algorithm-unsupported": (422, "The chip uses an algorithm we do not verify"),
    "active-authentication-failed": (422, "The chip's signature over the challenge does not verify"),
    "chip-challenge-invalid": (422, "The chip challenge is unknown, expired or not yours"),
    "chip-challenge-replayed": (409, "The chip challenge was already used"),
    "chip-data-inconsistent": (422, "The chip's data groups disagree with each other"),
    "chip-registry-mismatch": (422, "The chip's data disagree with the population registry"),
    "chip-not-account-holder": (403, "The chip belongs to another person than this account's"),
    "chip-upload-too-large": (413, "The chip upload is larger than allowed"),
    "face-image-invalid": (422, "The selfie or the chip's photo cannot be read as an image"),
    "face-mismatch": (422, "The selfie does not match the chip's photo"),
    "face-liveness-failed": (422, "The selfie is not of a live person"),
    "face-matcher-unavailable": (503, "The face matching service is not answering"),
}


class ChipRefused(Problem):
    """A refusal of chip proofing, with its stable type."""

    #: What the OpenAPI document lists for a route raising it (the slug is chosen at run time).
    documented = tuple((status, slug, title) for slug, (status, title) in REFUSALS.items())

    def __init__(self, slug: str, detail: str, **extensions: Any) -> None:
        status, title = REFUSALS[slug]
        super().__init__(detail, slug=slug, title=title, status=status, **extensions)
