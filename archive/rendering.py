"""Rendering anonymized frames for the browser: PNG via pydicom + pylibjpeg + Pillow, cached.

Monochrome frames go through the modality LUT (rescale) and a window: the file's own window by
default, a named preset, or a custom (center, width) the viewer sends while the user drags;
custom values are bounded and rounded to whole units. Colour frames are shown as stored
(pydicom converts YBR to RGB).

Rendered presets are cached in the ``render_cache`` storage (a folder by default, a bucket with
``TA_STORAGE=s3``: every web process on every machine shares it) by instance, frame, preset and
size; the cache key includes the stored file's name, which changes whenever the file is
replaced. Custom windows are rendered every time and never stored: any client could otherwise
fill the cache with one PNG per value. The cache is capped at ``TA_RENDER_CACHE_MAX_MB``: past
it the least recently used PNGs are deleted (a hit refreshes an entry's modification time). Each
process keeps a running total of what it wrote and re-measures the cache at least once a minute,
so the cap holds across processes within a minute's worth of writes. Every frame has an ETag
computed without rendering.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image
from pydicom import dcmread
from pydicom.pixels import apply_rescale, pixel_array

from archive import storage as storages
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


def cache_name(
    instance: Instance,
    frame: int,
    preset: str,
    size: int | None,
    window: tuple[float, float] | None = None,
    fmt: str = "png",
) -> str:
    """The name of a rendered frame in the ``render_cache`` storage (its key is the ETag)."""
    return _cache_name(instance.pk, instance.file.name, frame, preset, size, window, fmt)


def _cache_name(
    pk: int,
    file_name: str,
    frame: int,
    preset: str,
    size: int | None,
    window: tuple[float, float] | None = None,
    fmt: str = "png",
) -> str:
    shown = f"w{window[0]:g},{window[1]:g}" if window else preset
    text = f"{pk}|{file_name}|{frame}|{shown}|{size}"
    if fmt != "png":
        text += f"|{fmt}"
    key = hashlib.sha256(text.encode()).hexdigest()
    return f"{key[:2]}/{key}.{FORMATS[fmt][1]}"


def _etag(name: str) -> str:
    return f'"{name.rsplit("/", 1)[-1][:32]}"'


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
    return _etag(cache_name(instance, frame, preset, size, window, fmt))


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
    name = cache_name(instance, frame, preset, size, window, fmt)
    etag = _etag(name)
    if window is None:
        data = _cached(name)
        if data is not None:
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
        _store(name, data)
    return data, etag


# --- The cache and its size cap -----------------------------------------------------------------

#: Seconds after which a process re-measures the cache instead of trusting its total.
RESCAN_SECONDS = 60.0
#: Eviction goes below the cap by this fraction, so it does not run again at the next write.
EVICT_TO = 0.9
#: A whole PNG ends with IEND and a whole JPEG with EOI: a cached entry without either is not used.
_COMPLETE_ENDS = (b"IEND\xaeB`\x82", b"\xff\xd9")

_lock = threading.Lock()
# Per cache (bucket and folder): bytes believed to be in it, monotonic time of the last measure.
_totals: dict[tuple[str, str], tuple[int, float]] = {}


def _cache_key(storage) -> tuple[str, str]:
    return (str(getattr(storage, "bucket_name", "")), str(getattr(storage, "location", "")))


def _cap_bytes() -> int:
    return int(float(settings.TA_RENDER_CACHE_MAX_MB) * 1024 * 1024)


def _cached(name: str) -> bytes | None:
    storage = storages.render_cache
    try:
        with storage.open(name, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, OSError):
        return None
    if not data.endswith(_COMPLETE_ENDS):
        return None  # cut short (a disk that filled up): rendered and stored again
    touch = getattr(storage, "touch", None)
    if touch is not None:
        touch(name)  # the modification time is the "last used" of the LRU eviction
    return data


def _store(name: str, data: bytes) -> None:
    storage = storages.render_cache
    # Replaced whole (the storages write atomically): two processes may render one frame at once.
    storage.save(name, ContentFile(data))
    key = _cache_key(storage)
    with _lock:
        total, measured = _totals.get(key, (-1, 0.0))
        now = time.monotonic()
        if total < 0 or now - measured > RESCAN_SECONDS:
            total, measured = _measure(), now
        else:
            total += len(data)
        if total > _cap_bytes():
            total, measured = _evict(int(_cap_bytes() * EVICT_TO)), now
        _totals[key] = (total, measured)


def _measure() -> int:
    return sum(entry.size for entry in storages.walk(storages.render_cache))


def _evict(target: int) -> int:
    """Delete the least recently used entries until at most ``target`` bytes remain."""
    storage = storages.render_cache
    entries = sorted(storages.walk(storage), key=lambda e: e.modified)
    total = sum(entry.size for entry in entries)
    for entry in entries:
        if total <= target:
            break
        storage.delete(entry.name)  # gone already if another process evicted it first
        total -= entry.size
    return total


def render_cache_size() -> int:
    """Bytes in the render cache now (for tests and the admin's eyes)."""
    return _measure()


#: Sizes the editor, the admin, the viewer and search ask for (``?size=``; None: full size).
RENDERED_SIZES = (None, 96, 128, 160)


def forget_rendered(instance_pk: int, file_name: str, frames: int) -> None:
    """Delete the cached renderings of a replaced file: they may show what a teacher blanked.

    The cache is keyed by the file name, so entries of the old file are unreachable anyway;
    this removes them for the presets and usual sizes (a custom W/L drag is never cached).
    """
    storage = storages.render_cache
    for frame in range(max(frames, 1)):
        for preset in WINDOW_PRESETS:
            for size in RENDERED_SIZES:
                for fmt in FORMATS:
                    storage.delete(
                        _cache_name(instance_pk, file_name, frame, preset, size, None, fmt)
                    )


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
