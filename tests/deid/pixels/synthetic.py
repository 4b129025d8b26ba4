"""Synthetic identifying text rendered into real pydicom test images, with ground-truth masks.

Fonts come from Debian's ``fonts-dejavu-core`` and ``fonts-liberation``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")]
FONTS = {
    "sans": "DejaVuSans.ttf",
    "mono": "DejaVuSansMono.ttf",
    "serif": "LiberationSerif-Regular.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "narrow": "LiberationSansNarrow-Regular.ttf",
}


def data_file(name: str) -> Path:
    return TEST_FILES / name


def font(kind: str, size: int) -> ImageFont.FreeTypeFont:
    for d in FONT_DIRS:
        p = d / FONTS[kind]
        if p.exists():
            return ImageFont.truetype(str(p), size)
    raise FileNotFoundError(
        f"font {FONTS[kind]} missing: apt-get install fonts-dejavu-core fonts-liberation"
    )


@dataclass
class Text:
    string: str
    xy: tuple[int, int]
    size: int = 12
    kind: str = "sans"


def alpha_mask(shape: tuple[int, int], texts: list[Text]) -> np.ndarray:
    """Anti-aliased coverage in 0..1 of the rendered strings."""
    img = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(img)
    for t in texts:
        draw.text(t.xy, t.string, fill=255, font=font(t.kind, t.size))
    return np.asarray(img, dtype=np.float32) / 255.0


def blend(frame: np.ndarray, alpha: np.ndarray, value) -> np.ndarray:
    """Burn text of ``value`` into ``frame`` (mono ``(r, c)`` or colour ``(r, c, 3)``)."""
    a = alpha[..., None] if frame.ndim == 3 else alpha
    out = frame.astype(np.float64) * (1 - a) + np.asarray(value, dtype=np.float64) * a
    return np.rint(out).astype(frame.dtype)


def set_native_pixels(ds: pydicom.Dataset, frames: np.ndarray) -> None:
    """Store ``frames`` uncompressed (Explicit VR Little Endian) keeping the header geometry."""
    from pydicom.uid import ExplicitVRLittleEndian

    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if frames.ndim == 4 or (frames.ndim == 3 and int(ds.get("SamplesPerPixel", 1)) == 1):
        ds.NumberOfFrames = frames.shape[0]
    if int(ds.get("SamplesPerPixel", 1)) == 3:
        ds.PlanarConfiguration = 0
        if (
            str(ds.PhotometricInterpretation).startswith("YBR")
            and ds.PhotometricInterpretation != "YBR_FULL"
        ):
            ds.PhotometricInterpretation = "RGB"
    ds.PixelData = np.ascontiguousarray(frames).tobytes()
    ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"


def tesseract_words(gray: np.ndarray, *, psm: int = 11, scale: int = 3) -> str:
    """Independent OCR of an 8-bit image with Debian's tesseract (upscaled for small fonts)."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise RuntimeError("tesseract missing: apt-get install tesseract-ocr")
    img = Image.fromarray(gray)
    img = img.resize((img.width * scale, img.height * scale), Image.LANCZOS)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.png")
        img.save(path)
        res = subprocess.run(
            [exe, path, "stdout", "--psm", str(psm)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    return res.stdout


def to_gray8(frame: np.ndarray) -> np.ndarray:
    """Min/max window to 8 bits (colour: luminance)."""
    f = frame.astype(np.float64)
    if f.ndim == 3:
        f = f @ np.array([0.299, 0.587, 0.114])
    lo, hi = f.min(), f.max()
    if hi <= lo:
        return np.zeros(f.shape, np.uint8)
    return np.rint((f - lo) / (hi - lo) * 255).astype(np.uint8)
