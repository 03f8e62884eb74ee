"""Choosing the face matcher from the settings."""

from __future__ import annotations

from typing import Any

from proofing.face.base import FaceMatcher, FaceMatcherUnavailable
from proofing.face.http import HttpFaceMatcher
from proofing.face.local import LocalFaceMatcher

__all__ = ["face_matcher_from_state"]


def face_matcher_from_state(state: Any) -> FaceMatcher:
    """``WALLET_FACE_MATCH_URL`` set: the real service; otherwise the local matcher, never in production."""
    settings = state.settings
    if settings.face_match_url:
        return HttpFaceMatcher(state.http, settings.face_match_url, settings.face_match_token)
    if settings.env == "production":
        raise FaceMatcherUnavailable("no face matching service is configured")
    return LocalFaceMatcher()
