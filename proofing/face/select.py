"""Choosing the face matcher from the settings."""

from __future__ import annotations

import httpx

from proofing.face.base import FaceMatcher, FaceMatcherUnavailable
from proofing.face.http import HttpFaceMatcher
from proofing.face.local import LocalFaceMatcher
from wallet_api.kernel import ServiceFactory, Services, Settings

__all__ = ["FACE_MATCHER", "choose_face_matcher"]


def choose_face_matcher(settings: Settings, http: httpx.AsyncClient) -> FaceMatcher:
    """``WALLET_FACE_MATCH_URL`` set: the real service; otherwise the local matcher, never in production."""
    if settings.proofing.face_match_url:
        return HttpFaceMatcher(http, settings.proofing.face_match_url, settings.proofing.face_match_token)
    if settings.env == "production":
        raise FaceMatcherUnavailable("no face matching service is configured")
    return LocalFaceMatcher()


def _from_services(services: Services) -> FaceMatcher:
    return choose_face_matcher(services.settings, services.http)


#: The process's face matcher. Production without a face service has none: asking for it
#: raises :class:`FaceMatcherUnavailable` each time (chip proofs are refused, nothing else).
FACE_MATCHER = ServiceFactory("face-matcher", _from_services)
