"""A QR code drawn from the `qrcode` matrix straight into a texture: no image file, no Pillow."""

from __future__ import annotations

import qrcode
from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import StringProperty
from kivy.uix.widget import Widget

# Quiet zone of 4 modules, as the QR specification asks, so phone cameras lock on quickly.
QUIET_ZONE = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """Dark modules as True, quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


_DARK, _LIGHT = b"\x00\x00\x00\xff", b"\xff\xff\xff\xff"


def matrix_to_rgba(matrix: list[list[bool]]) -> bytes:
    """Four bytes per module (rows stay 4-byte aligned whatever the size), black on white,
    bottom row first because OpenGL textures start bottom-left."""
    return b"".join(_DARK if dark else _LIGHT for row in reversed(matrix) for dark in row)


class QRCodeWidget(Widget):
    data = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._texture: Texture | None = None
        with self.canvas:
            Color(1, 1, 1, 1)
            self._rect = Rectangle()
        self.bind(data=self._rebuild, pos=self._place, size=self._place)
        self._rebuild()

    def _rebuild(self, *_: object) -> None:
        if not self.data:
            self._rect.texture, self._texture = None, None
            self.opacity = 0
            return
        matrix = qr_matrix(self.data)
        side = len(matrix)
        texture = Texture.create(size=(side, side), colorfmt="rgba")
        texture.mag_filter = "nearest"  # crisp modules when scaled up
        texture.min_filter = "nearest"
        texture.blit_buffer(matrix_to_rgba(matrix), colorfmt="rgba", bufferfmt="ubyte")
        self._texture = texture
        self._rect.texture = texture
        self.opacity = 1
        self._place()

    def _place(self, *_: object) -> None:
        side = min(self.width, self.height)
        self._rect.size = (side, side)
        self._rect.pos = (self.center_x - side / 2, self.center_y - side / 2)
