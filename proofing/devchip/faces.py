"""Synthetic faces for development: a portrait per person and selfies of the same "face".

Drawn from a seed (the person's number), so the chip's DG2 photo and the demo selfie of
one person look alike to :class:`proofing.face.LocalFaceMatcher` and unlike anyone
else's. They are drawings, not faces; only the local matcher understands them.
"""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image, ImageChops, ImageDraw

__all__ = ["portrait", "selfie"]

_SIZE = (120, 150)


def _draw(seed: str, *, shift: int = 0, light: int = 0, noise: bool = False) -> Image.Image:
    rnd = random.Random(hashlib.sha256(seed.encode()).digest())
    background = tuple(rnd.randrange(60, 230) for _ in range(3))
    skin = tuple(rnd.randrange(120, 250) for _ in range(3))
    hair = tuple(rnd.randrange(0, 120) for _ in range(3))
    image = Image.new("RGB", _SIZE, background)
    d = ImageDraw.Draw(image)
    for _ in range(4):  # what is behind the person: stripes of the seed's own colours
        x = rnd.randrange(0, _SIZE[0])
        d.rectangle((x, 0, x + rnd.randrange(8, 30), _SIZE[1]), fill=tuple(rnd.randrange(0, 256) for _ in range(3)))
    cx = 60 + rnd.randrange(-12, 13) + shift
    cy = 80 + rnd.randrange(-10, 11)
    w, h = rnd.randrange(32, 50), rnd.randrange(42, 62)
    d.ellipse((cx - w, cy - h, cx + w, cy + h), fill=skin)
    d.rectangle((cx - w, cy - h - 8, cx + w, cy - h + rnd.randrange(14, 34)), fill=hair)
    eye_y, eye_dx = cy - rnd.randrange(4, 16), rnd.randrange(10, 22)
    for ex in (cx - eye_dx, cx + eye_dx):
        d.ellipse((ex - 5, eye_y - 3, ex + 5, eye_y + 3), fill=(20, 20, 20))
    mouth_y = cy + rnd.randrange(18, 34)
    d.line((cx - rnd.randrange(8, 20), mouth_y, cx + rnd.randrange(8, 20), mouth_y), fill=(120, 30, 30), width=3)
    if light:
        image = image.point(lambda v: v + light)
    if noise:
        # Sensor noise: grey Gaussian grain around 128, added and re-centred.
        grain = Image.effect_noise(_SIZE, 4).convert("RGB")
        image = ImageChops.add(image, grain, offset=-128)
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def portrait(seed: str) -> bytes:
    """The chip photo (JPEG) of the person with this seed."""
    return _jpeg(_draw(seed))


def selfie(seed: str, *, take: int = 1) -> bytes:
    """A live selfie of the same person: slightly moved, lit differently, with sensor noise."""
    rnd = random.Random(f"{seed}:{take}")
    return _jpeg(_draw(seed, shift=rnd.randrange(-2, 3), light=rnd.randrange(-6, 7), noise=True))
