"""Choosing the face matcher from the settings."""

from __future__ import annotations

from typing import Any

from proofing.face.base import FaceMatcher, FaceMatcherUnavailable
from proofing.face.http import HttpFaceMatcher
from proofing.face.local import LocalFaceMatcher
from wallet_api.kernel import ServiceFactory

__all__ = ["FACE_MATCHER", "face_matcher_from_state"]


def face_matcher_from_state(state: Any) -> FaceMatcher:
    """``WALLET_FACE_MATCH_URL`` set: the real service; otherwise the local matcher, never in production."""
    settings = state.settings
    if settings.proofing.face_match_url:
        return HttpFaceMatcher(state.http, settings.proofing.face_match_url, settings.proofing.face_match_token)
    if settings.env == "production":
        raise FaceMatcherUnavailable("no face matching service is configured")
    return LocalFaceMatcher()


#: The process's face matcher. Production without a face service has none: asking for it
#: raises :class:`FaceMatcherUnavailable` each time (chip proofs are refused, nothing else).
FACE_MATCHER = ServiceFactory("face-matcher", face_matcher_from_state)
