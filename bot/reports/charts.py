"""The report's two charts as PNG pictures for the DOCX (bars by commune, a line by month), drawn with
Pillow, which Loa Bản already has for people's photos: no plotting library for two simple figures."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, ROW, MARGIN = 1600, 84, 40
BLUE, GREY, INK = (29, 111, 165), (200, 200, 200), (20, 20, 20)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int) -> Font:
    """A font with every Vietnamese letter (DejaVu, a Debian default), else Pillow's own."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _png(image: Image.Image) -> bytes:
    """The picture as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def bars(labels: Sequence[str], values: Sequence[int]) -> bytes:
    """Horizontal bars, one per label (communes), the value written at the end of each."""
    font = _font(36)
    label_width = min(640, max((int(font.getlength(label)) for label in labels), default=0) + 20)
    image = Image.new("RGB", (WIDTH, 2 * MARGIN + ROW * max(1, len(labels))), "white")
    draw = ImageDraw.Draw(image)
    top = max(values, default=0) or 1
    room = WIDTH - label_width - 2 * MARGIN - 120
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = MARGIN + i * ROW
        draw.text((MARGIN, y + 18), label, fill=INK, font=font)
        x0 = MARGIN + label_width
        draw.rectangle((x0, y + 8, x0 + max(2, int(room * value / top)), y + ROW - 8), fill=BLUE)
        draw.text((x0 + int(room * value / top) + 12, y + 18), str(value), fill=INK, font=font)
    return _png(image)


def line(labels: Sequence[str], values: Sequence[int]) -> bytes:
    """A line through one value per label (months), with the values written above the points."""
    font, height = _font(26), 640
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 2 * MARGIN, WIDTH - 2 * MARGIN, 2 * MARGIN, height - 2 * MARGIN - 20
    draw.line((left, bottom, right, bottom), fill=GREY, width=3)
    high = max(values, default=0) or 1
    step = (right - left) / max(1, len(values) - 1)
    points = [
        (left + i * step if len(values) > 1 else (left + right) / 2, bottom - (bottom - top) * v / high)
        for i, v in enumerate(values)
    ]
    if len(points) > 1:
        draw.line(points, fill=BLUE, width=6)
    for (x, y), label, value in zip(points, labels, values, strict=True):
        draw.ellipse((x - 9, y - 9, x + 9, y + 9), fill=BLUE)
        draw.text((x, y - 16), str(value), fill=INK, font=font, anchor="mb")
        draw.text((x, bottom + 12), label, fill=INK, font=font, anchor="mt")
    return _png(image)
