"""Rendering anonymized frames for the browser: PNG via pydicom + pylibjpeg + Pillow, cached.

Monochrome frames go through the modality LUT (rescale) and a window: the file's own window by
default, a named preset, or a custom (center, width) the viewer sends while the user drags;
custom values are bounded and rounded to whole units. Colour frames are shown as stored
(pydicom converts YBR to RGB).

Rendered presets are cached on disk by instance, frame, preset and size; the cache key includes
the stored file's name, which changes whenever the file is replaced. Custom windows are rendered
every time and never stored: any client could otherwise fill the disk with one PNG per value.
The cache is capped at ``TA_RENDER_CACHE_MAX_MB``: past it the least recently used PNGs are
deleted (a hit refreshes a file's modification time). Each process keeps a running total of what
it wrote and re-measures the folder at least once a minute, so the cap holds across processes
within a minute's worth of writes. Every frame has an ETag computed without rendering.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
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


#: Output formats: name → (Pillow format, file suffix). DICOMweb's rendered resources default
#: to JPEG (PS3.18 8.7.4); the site's own pages use PNG.
FORMATS = {"png": ("PNG", "png"), "jpeg": ("JPEG", "jpg")}


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
    fmt: str = "png",
) -> Path:
    shown = f"w{window[0]:g},{window[1]:g}" if window else preset
    text = f"{instance.pk}|{instance.file.name}|{frame}|{shown}|{size}"
    if fmt != "png":
        text += f"|{fmt}"
    key = hashlib.sha256(text.encode()).hexdigest()
    return Path(settings.RENDER_CACHE_ROOT) / key[:2] / f"{key}.{FORMATS[fmt][1]}"


def _is_colour(instance: Instance) -> bool:
    return instance.photometric.upper().startswith(("RGB", "YBR", "PALETTE"))


def _normalized(
    instance: Instance, preset: str, window: tuple[float, float] | None
) -> tuple[str, tuple[float, float] | None]:
    if preset not in WINDOW_PRESETS:
        preset = "default"
    if window is not None and _is_colour(instance):
        window = None  # colour is shown as stored: one picture, not one per drag step
    return preset, window


def frame_etag(
    instance: Instance,
    frame: int = 0,
    preset: str = "default",
    size: int | None = None,
    window: tuple[float, float] | None = None,
    fmt: str = "png",
) -> str:
    """The ETag ``render_frame`` gives these arguments, without rendering (for a 304)."""
    preset, window = _normalized(instance, preset, window)
    return f'"{_cache_path(instance, frame, preset, size, window, fmt).stem[:32]}"'


def render_frame(
    instance: Instance,
    frame: int = 0,
    preset: str = "default",
    size: int | None = None,
    window: tuple[float, float] | None = None,
    fmt: str = "png",
) -> tuple[bytes, str]:
    """Return (image bytes, ETag) for one frame of an anonymized instance, PNG unless ``fmt``
    says ``"jpeg"``.

    ``window`` (center, width), already bounded by ``custom_window``, overrides the preset; such
    a rendering is not stored in the cache.
    """
    preset, window = _normalized(instance, preset, window)
    if not instance.has_pixels or frame < 0 or frame >= max(instance.frames, 1):
        raise FrameNotFound
    path = _cache_path(instance, frame, preset, size, window, fmt)
    etag = f'"{path.stem[:32]}"'
    if window is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            pass
        else:
            _touch(path)
            return data, etag
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
    if fmt == "jpeg":
        image.save(out, format="JPEG", quality=90)
    else:
        image.save(out, format="PNG", optimize=False, compress_level=3)
    data = out.getvalue()
    if window is None:
        _store(path, data)
    return data, etag


# --- The size cap -----------------------------------------------------------------------------

#: Seconds after which a process re-measures the cache folder instead of trusting its total.
RESCAN_SECONDS = 60.0
#: Eviction goes below the cap by this fraction, so it does not run again at the next write.
EVICT_TO = 0.9

_lock = threading.Lock()
# Per cache folder: (bytes believed to be in it, monotonic time of the last measurement).
_totals: dict[Path, tuple[int, float]] = {}


def _cap_bytes() -> int:
    return int(float(settings.TA_RENDER_CACHE_MAX_MB) * 1024 * 1024)


def _touch(path: Path) -> None:
    try:
        os.utime(path)  # the modification time is the "last used" of the LRU eviction
    except OSError:
        pass  # evicted meanwhile by another process: the bytes read are still good


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two processes may render the same frame at once.
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    root = path.parent.parent
    with _lock:
        total, measured = _totals.get(root, (-1, 0.0))
        now = time.monotonic()
        if total < 0 or now - measured > RESCAN_SECONDS:
            total, measured = _measure(root), now
        else:
            total += len(data)
        if total > _cap_bytes():
            total, measured = _evict(root, int(_cap_bytes() * EVICT_TO)), now
        _totals[root] = (total, measured)


def _entries(root: Path) -> list[tuple[float, int, str]]:
    """(modification time, size, path) of every file in the cache folder."""
    found = []
    try:
        folders = list(os.scandir(root))
    except FileNotFoundError:
        return found
    for folder in folders:
        if not folder.is_dir(follow_symlinks=False):
            continue
        try:
            with os.scandir(folder.path) as files:
                for f in files:
                    try:
                        st = f.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    found.append((st.st_mtime, st.st_size, f.path))
        except FileNotFoundError:
            continue
    return found


def _measure(root: Path) -> int:
    return sum(size for _mtime, size, _path in _entries(root))


def _evict(root: Path, target: int) -> int:
    """Delete the least recently used files until at most ``target`` bytes remain."""
    entries = sorted(_entries(root))
    total = sum(size for _mtime, size, _path in entries)
    for _mtime, size, path in entries:
        if total <= target:
            break
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # another process evicted it first
        total -= size
    return total


def render_cache_size() -> int:
    """Bytes in the render cache folder now (for tests and the admin's eyes)."""
    return _measure(Path(settings.RENDER_CACHE_ROOT))


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
