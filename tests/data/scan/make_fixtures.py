"""Regenerates the tiny JPEG fixtures of tests/scan.rs (run from the repository root):

    /path/to/python-with-Pillow tests/data/scan/make_fixtures.py

- cmyk_quadrants.jpg: 64x64 CMYK JPEG (Adobe APP14, as Photoshop and Pillow write it);
  quadrants top-left cyan, top-right magenta, bottom-left yellow, bottom-right black.
- orientation6_dated.jpg: stored 96x64 (w x h) RGB with a red 16x16 block in the stored
  top-left corner and a blue one in the stored bottom-right corner, grey elsewhere; EXIF
  Orientation 6 (rotate 90 degrees clockwise to display), DateTimeOriginal 2024:03:15 09:41:07
  and DateTime 2024:03:16 10:00:00 (DateTimeOriginal must win).
"""
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ORIENTATION, DATE_TIME, EXIF_IFD, DATE_TIME_ORIGINAL = 0x0112, 0x0132, 0x8769, 0x9003


def cmyk_quadrants() -> None:
    colours = [(255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0), (0, 0, 0, 255)]
    im = Image.new("CMYK", (64, 64))
    for quadrant, colour in enumerate(colours):
        x, y = 32 * (quadrant % 2), 32 * (quadrant // 2)
        im.paste(colour, (x, y, x + 32, y + 32))
    im.save(HERE / "cmyk_quadrants.jpg", quality=90)


def orientation6_dated() -> None:
    im = Image.new("RGB", (96, 64), (128, 128, 128))
    im.paste((255, 0, 0), (0, 0, 16, 16))
    im.paste((0, 0, 255), (80, 48, 96, 64))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[DATE_TIME] = "2024:03:16 10:00:00"
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = "2024:03:15 09:41:07"
    im.save(HERE / "orientation6_dated.jpg", quality=90, exif=exif)


if __name__ == "__main__":
    cmyk_quadrants()
    orientation6_dated()
