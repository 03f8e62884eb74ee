"""The development face matcher: compares two pictures pixel by pixel, nothing more.

It understands the synthetic faces of :mod:`proofing.devchip.faces` (the portrait on a
demo chip and the demo selfies of the same person look alike; anyone else's do not). It
is no face recognition and is refused in production. Liveness here means only that the
selfie is not the chip's own photo sent back (the same pixels): a real service judges
liveness from the capture itself.
"""

from __future__ import annotations

import asyncio
import io

from PIL import Image, UnidentifiedImageError

from proofing.face.base import FaceImageInvalid, FaceVerdict

__all__ = ["LocalFaceMatcher"]

_GRID = (24, 30)
#: Larger images are refused before decoding (a decompression bomb costs nothing to send).
_MAX_PIXELS = 4_000_000
#: Identical pixels: the "selfie" is the reference itself.
_SAME_PICTURE = 0.995


def _pixels(image: bytes) -> list[float]:
    try:
        with Image.open(io.BytesIO(image)) as picture:
            if picture.format not in ("JPEG", "PNG", "JPEG2000") or picture.width * picture.height > _MAX_PIXELS:
                raise FaceImageInvalid("not a JPEG or PNG of a reasonable size")
            grey = picture.convert("L").resize(_GRID)
            return [float(v) for v in grey.get_flattened_data()]  # type: ignore[arg-type]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise FaceImageInvalid("the image cannot be decoded") from exc


def _compare(selfie: bytes, reference: bytes) -> FaceVerdict:
    a, b = _pixels(selfie), _pixels(reference)
    # Mean absolute difference of grey levels, scaled so that a 48-level average gap is 0.
    gap = sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)
    score = max(0.0, 1.0 - gap / 48.0)
    return FaceVerdict(score=round(score, 4), live=score < _SAME_PICTURE and selfie != reference)


class LocalFaceMatcher:
    async def compare(self, selfie: bytes, reference: bytes) -> FaceVerdict:
        return await asyncio.to_thread(_compare, selfie, reference)
