"""Face match: a live selfie against the chip's DG2 photo, behind one small interface.

:class:`HttpFaceMatcher` speaks to a real service; :class:`LocalFaceMatcher` is for
development and tests. The selfie is never stored: it is held in memory for the one
comparison and dropped with the request.
"""

from proofing.face.base import FaceImageInvalid, FaceMatcher, FaceMatcherUnavailable, FaceVerdict
from proofing.face.http import HttpFaceMatcher
from proofing.face.local import LocalFaceMatcher
from proofing.face.select import FACE_MATCHER, choose_face_matcher

__all__ = [
    "FACE_MATCHER",
    "FaceImageInvalid",
    "FaceMatcher",
    "FaceMatcherUnavailable",
    "FaceVerdict",
    "HttpFaceMatcher",
    "LocalFaceMatcher",
    "choose_face_matcher",
]
