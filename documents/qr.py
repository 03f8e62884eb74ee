"""QR images (PNG and SVG) for presentation codes and offline payloads."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import qrcode
import qrcode.constants
import qrcode.image.svg
from qrcode.util import MODE_ALPHA_NUM, QRData

__all__ = ["QrImages", "render_qr"]


@dataclass(frozen=True, slots=True)
class QrImages:
    version: int
    png: bytes
    svg: str

    @property
    def png_base64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")


def _code(text: str, alphanumeric: bool) -> qrcode.QRCode:
    code = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    # Base45 payloads use only the alphanumeric alphabet: 5.5 bits a character instead of 8.
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM) if alphanumeric else text)
    code.make(fit=True)
    return code


def render_qr(text: str, *, alphanumeric: bool = False) -> QrImages:
    code = _code(text, alphanumeric)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    svg = code.make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")
    return QrImages(version=int(code.version), png=buffer.getvalue(), svg=str(svg))
