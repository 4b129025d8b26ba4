"""Rendering anonymized frames for the browser: PNG via pydicom + pylibjpeg + Pillow, cached.

Monochrome frames go through the modality LUT (rescale) and a window: the file's own window by
default, a named preset, or a custom (center, width) the viewer sends while the user drags;
custom values are bounded and rounded to whole units so a drag cannot fill the cache with
near-identical PNGs. Colour frames are shown as stored (pydicom converts YBR to RGB).
Rendered PNGs are cached on disk by instance, frame, preset and size; the cache key includes the
stored file's name, which changes whenever the file is replaced.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image
from pydicom import dcmread
from pydicom.pixels import apply_rescale, pixel_array

from archive.models import Instance

# (center, width) in Hounsfield units for CT; the names teachers know.
WINDOW_PRESETS: dict[str, tuple[float, float] | None] = {
    "default": None,
    "lung": (-600, 1500),
    "mediastinum": (50, 350),
    "bone": (400, 1800),
    "brain": (40, 80),
    "abdomen": (60, 400),
    "soft_tissue": (50, 400),
    "full": None,
}


# Wide enough for any stored value after rescale (16-bit signed/unsigned, PET SUV scaling).
WINDOW_CENTER_BOUNDS = (-70000.0, 70000.0)
WINDOW_WIDTH_BOUNDS = (1.0, 140000.0)


class FrameNotFound(Exception):
    pass


def custom_window(center, width) -> tuple[float, float] | None:
    """Parse and bound a custom window from query values; None when absent or not numbers."""
    try:
        c, w = float(center), float(width)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(c) and np.isfinite(w)):
        return None
    c = min(max(round(c), WINDOW_CENTER_BOUNDS[0]), WINDOW_CENTER_BOUNDS[1])
    w = min(max(round(w), WINDOW_WIDTH_BOUNDS[0]), WINDOW_WIDTH_BOUNDS[1])
    return float(c), float(w)


def _window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    width = max(width, 1.0)
    low = center - width / 2
    scaled = (values.astype(np.float64) - low) / width
    return (np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def _auto_window(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [0.5, 99.5])
    if high <= low:
        low, high = float(values.min()), float(values.max()) + 1
    return (low + high) / 2, high - low


def frame_to_image(
    ds,
    frame_pixels: np.ndarray,
    preset: str,
    own_window: tuple[float, float] | None = None,
    window: tuple[float, float] | None = None,
) -> Image.Image:
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if frame_pixels.ndim == 3:  # colour (RGB after pydicom's conversion)
        data = frame_pixels
        if data.dtype != np.uint8:
            peak = float(data.max()) or 1.0
            data = (data.astype(np.float64) / peak * 255).astype(np.uint8)
        return Image.fromarray(data, mode="RGB")
    values = apply_rescale(frame_pixels, ds).astype(np.float64)
    chosen = window or WINDOW_PRESETS.get(preset)
    if chosen is None:
        if preset == "default" and own_window is not None:
            center, width = own_window
        else:
            center, width = _auto_window(values)
    else:
        center, width = chosen
    grey = _window(values, center, width)
    if photometric == "MONOCHROME1":
        grey = 255 - grey
    return Image.fromarray(grey, mode="L")


def _cache_path(
    instance: Instance,
    frame: int,
    preset: str,
    size: int | None,
    window: tuple[float, float] | None = None,
) -> Path:
    shown = f"w{window[0]:g},{window[1]:g}" if window else preset
    key = hashlib.sha256(
        f"{instance.pk}|{instance.file.name}|{frame}|{shown}|{size}".encode()
    ).hexdigest()
    return Path(settings.RENDER_CACHE_ROOT) / key[:2] / f"{key}.png"


def _is_colour(instance: Instance) -> bool:
    return instance.photometric.upper().startswith(("RGB", "YBR", "PALETTE"))


def render_frame(
    instance: Instance,
    frame: int = 0,
    preset: str = "default",
    size: int | None = None,
    window: tuple[float, float] | None = None,
) -> tuple[bytes, str]:
    """Return (PNG bytes, ETag) for one frame of an anonymized instance.

    ``window`` (center, width), already bounded by ``custom_window``, overrides the preset.
    """
    if preset not in WINDOW_PRESETS:
        preset = "default"
    if window is not None and _is_colour(instance):
        window = None  # colour is shown as stored: one cache entry, not one per drag step
    if not instance.has_pixels or frame < 0 or frame >= max(instance.frames, 1):
        raise FrameNotFound
    path = _cache_path(instance, frame, preset, size, window)
    etag = f'"{path.stem[:32]}"'
    if path.exists():
        return path.read_bytes(), etag
    with instance.file.open("rb") as fh:
        ds = dcmread(fh, stop_before_pixels=True)
        fh.seek(0)
        pixels = pixel_array(fh, index=frame)
    own_window = None
    if instance.window_center is not None and instance.window_width:
        own_window = (instance.window_center, instance.window_width)
    image = frame_to_image(ds, pixels, preset, own_window, window)
    if size:
        image.thumbnail((size, size))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=3)
    data = out.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data, etag


def effective_window(instance: Instance, frame: int = 0) -> tuple[float, float] | None:
    """The (center, width) the default rendering uses, so a drag starts from what is shown."""
    if _is_colour(instance) or not instance.has_pixels:
        return None
    if instance.window_center is not None and instance.window_width:
        return float(instance.window_center), float(instance.window_width)
    if frame < 0 or frame >= max(instance.frames, 1):
        raise FrameNotFound
    with instance.file.open("rb") as fh:
        ds = dcmread(fh, stop_before_pixels=True)
        fh.seek(0)
        pixels = pixel_array(fh, index=frame)
    if pixels.ndim == 3:
        return None
    center, width = _auto_window(apply_rescale(pixels, ds).astype(np.float64))
    return round(float(center), 1), round(float(width), 1)
