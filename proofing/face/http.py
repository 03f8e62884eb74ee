"""Adapter for a face matching service over HTTPS.

Protocol (JSON, bearer token)::

    POST {base}/v1/compare  {"selfie": base64, "reference": base64}
        200 {"score": 0.0-1.0, "live": bool}
        422 one of the images is not a readable face image

Anything else, or no answer, raises :class:`FaceMatcherUnavailable`. The service must not
keep the images (a term of its contract; we send nothing that names the person).
"""

from __future__ import annotations

import base64

import httpx

from proofing.face.base import FaceImageInvalid, FaceMatcherUnavailable, FaceVerdict

__all__ = ["HttpFaceMatcher"]


class HttpFaceMatcher:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, *, timeout: float = 5.0) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/v1/compare"
        self._token = token
        self._timeout = timeout

    async def compare(self, selfie: bytes, reference: bytes) -> FaceVerdict:
        body = {"selfie": base64.b64encode(selfie).decode(), "reference": base64.b64encode(reference).decode()}
        try:
            r = await self._http.post(
                self._url, json=body, headers={"Authorization": f"Bearer {self._token}"}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise FaceMatcherUnavailable(type(exc).__name__) from exc
        if r.status_code == 422:
            raise FaceImageInvalid("the face matcher could not read an image")
        if r.status_code != 200:
            raise FaceMatcherUnavailable(f"face matcher answered {r.status_code}")
        try:
            answer = r.json()
            score, live = float(answer["score"]), answer["live"]
        except (ValueError, KeyError, TypeError) as exc:
            raise FaceMatcherUnavailable("face matcher answered with an unexpected body") from exc
        if not (0.0 <= score <= 1.0) or not isinstance(live, bool):
            raise FaceMatcherUnavailable("face matcher answered out of range")
        return FaceVerdict(score=score, live=live)
