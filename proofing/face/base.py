"""Comparing a live selfie with the chip's photo: the interface and its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["FaceImageInvalid", "FaceMatcher", "FaceMatcherUnavailable", "FaceVerdict"]


class FaceMatcherUnavailable(Exception):
    """The matching service did not answer; the citizen should try again later."""


class FaceImageInvalid(Exception):
    """One of the two images cannot be read as a face image."""


@dataclass(frozen=True, slots=True)
class FaceVerdict:
    #: Similarity of the two faces, 0.0 (different people) to 1.0 (the same).
    score: float
    #: The selfie shows a live person in front of the camera (not a photo, screen or mask).
    live: bool


class FaceMatcher(Protocol):
    async def compare(self, selfie: bytes, reference: bytes) -> FaceVerdict:
        """Compare ``selfie`` (JPEG/PNG from the app) with ``reference`` (the chip's DG2 photo).

        Neither image is kept by the matcher or by us once the verdict is given.
        """
        ...
