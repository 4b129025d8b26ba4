"""The cheaper ways of the text-free fast path compute what the general ones compute.

Issue #11's speed goal (a text-free CT slice within 2x of plain read + decode + write) is met by
doing less work, never by deciding differently: a native frame read straight from Pixel Data,
the top-of-range window converted only where it is not black, the percentiles of the windows
without numpy's general machinery, and the stroke threshold filtered only where it decides.
Each is compared here with the general way on real files and on values chosen to hit their
edges (bits above Bits Stored, ties of the percentiles' interpolation, the image border).
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from archive.deid.pixels import default_detector
from archive.deid.pixels.detection import ClassicalTextDetector
from archive.deid.pixels.frames import (
    FrameSource,
    _linear_percentiles,
    _to_u8,
    _top_window,
    detection_views,
)

from .synthetic import Text, alpha_mask, blend, data_file, set_native_pixels


def _written(ds: pydicom.Dataset) -> pydicom.Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def _first_frame(ds: pydicom.Dataset) -> np.ndarray:
    _, frame = next(FrameSource(ds).frames())
    return frame


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm"])
def test_a_native_frame_is_the_decoders(name):
    ds = pydicom.dcmread(get_testdata_file(name))
    frame = _first_frame(ds)
    expected = ds.pixel_array
    assert frame.dtype == expected.dtype
    assert np.array_equal(frame, expected)
    assert frame.flags.writeable  # redaction fills it in place


@pytest.mark.parametrize("signed", [0, 1])
@pytest.mark.parametrize("high_bits", [False, True])
def test_twelve_stored_bits_decode_as_pydicom_does(signed, high_bits):
    """A 12-bit frame in 16 bits is read straight only when nothing lies above bit 11 but the
    sign; with an overlay bit set there, what pydicom's decoder makes of it is what is
    cleaned (the raw value would differ from it by 32768)."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    rng = np.random.default_rng(12 + signed)
    lo, hi = (-2048, 2048) if signed else (0, 4096)
    values = rng.integers(lo, hi, (128, 128)).astype(np.int16 if signed else np.uint16)
    values[5, 7] = 100
    if high_bits:
        values.view(np.uint16)[5, 7] |= np.uint16(0x4000)  # an overlay bit, not the sign
    ds.PixelRepresentation, ds.BitsStored, ds.HighBit = signed, 12, 11
    ds.PixelData = values.tobytes()
    ds = _written(ds)
    frame = _first_frame(ds)
    expected, _ = FrameSource(ds).decoder.as_array(ds)
    assert np.array_equal(frame, expected)
    assert int(frame[5, 7]) == 100


def test_percentiles_are_numpys():
    rng = np.random.default_rng(0)
    for dtype in (np.uint8, np.int8, np.int16, np.uint16, np.int32):
        info = np.iinfo(dtype)
        for n in (1, 2, 3, 7, 200, 16384):
            values = rng.integers(info.min, int(info.max) + 1, n).astype(dtype)
            for q in ((0.5, 50, 99.5), (0, 100, 25), (12.5, 87.5, 50)):
                assert np.array_equal(_linear_percentiles(values, q), np.percentile(values, q))
    strided = rng.integers(0, 4096, (512, 512)).astype(np.int16)[::4, ::4]
    q = (0.5, 50, 99.5)
    assert np.array_equal(_linear_percentiles(strided, q), np.percentile(strided, q))
    # Mostly air, as a CT slice is; and a span too wide to be counted (partitioned instead).
    air = np.where(rng.random(16384) < 0.7, -1000, rng.integers(-1000, 3000, 16384))
    wide = rng.integers(-(1 << 30), 1 << 30, 16384)
    for values in (air.astype(np.int16), wide.astype(np.int32)):
        assert np.array_equal(_linear_percentiles(values, q), np.percentile(values, q))


def test_top_window_is_the_window():
    rng = np.random.default_rng(1)
    for dtype in (np.int16, np.uint16, np.uint8):
        info = np.iinfo(dtype)
        for _ in range(50):
            frame = rng.integers(info.min, int(info.max) + 1, (61, 83)).astype(dtype)
            lo, hi = float(frame.min()), float(frame.max())
            top = hi - rng.uniform(0.0, 0.5) * (hi - lo)
            assert np.array_equal(_top_window(frame, top, hi), _to_u8(frame, top, hi))
    flat = np.full((8, 8), 100, np.int16)
    assert np.array_equal(_top_window(flat, 100.0, 100.0), _to_u8(flat, 100.0, 100.0))


def _ct_512() -> tuple[pydicom.Dataset, np.ndarray]:
    """The bundled CT and its frame enlarged to 512 x 512, as the speed bench's slice
    (``burned_in_bench``); the dataset's pixels are left for the caller to set."""
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    frame = np.kron(ds.pixel_array, np.ones((4, 4), ds.pixel_array.dtype))
    ds.Rows, ds.Columns = frame.shape
    return ds, frame


def _ct_with_name() -> pydicom.Dataset:
    ds, frame = _ct_512()
    alpha = alpha_mask(frame.shape, [Text("DOE^JOHN", (4, 4), 12)])
    set_native_pixels(ds, blend(frame, alpha, int(frame.max())))
    return ds


@pytest.mark.parametrize(
    "source", ["ct_with_name", "examples_ybr_color.dcm", "MR_small.dcm", "examples_palette.dcm"]
)
def test_the_threshold_decides_where_it_did_over_the_whole_frame(source):
    """Filtered only in the box where a top-hat lies between the low and the high contrast, the
    threshold makes the same stroke masks as filtered over the whole frame."""
    ds = _ct_with_name() if source == "ct_with_name" else pydicom.dcmread(data_file(source))
    source_frames = FrameSource(ds)
    index, frame = next(source_frames.frames())
    views = detection_views(source_frames.window(index, frame), index)
    detector = default_detector()
    assert isinstance(detector, ClassicalTextDetector)
    for img in views:
        hats = [
            detector._hat(img, k, polarity)
            for polarity in ("bright", "dark")
            for k in detector.kernels
        ]
        everywhere = detector._threshold(img)
        boxed = detector._threshold(img, hats)
        for hat in hats:
            assert np.array_equal(hat >= boxed, hat >= everywhere)


@pytest.mark.parametrize(("key", "seed", "n"), [("mr-abdomen", 0, 9), ("mr-small", 0, 4)])
def test_the_bottom_window_searched_near_the_minimum_finds_the_lines_the_whole_search_keeps(
    key, seed, n
):
    """``cleaner._at_the_bottom`` keeps a line only with part of its box at the minimum, so it
    searches only within reach of those pixels: on held-out black IDs over dark MR anatomy the
    lines it keeps are the ones a search of the whole window keeps, box for box."""
    from archive.deid.pixels.cleaner import BOTTOM_INK, _detect_near_the_minimum
    from archive.deid.pixels.frames import DetectionViews, decode

    from .scenes import random_scene

    views = detection_views(decode(random_scene(key, seed, n).dataset), 0)
    bottom = views.bottom
    assert bottom is not None

    def kept(regions):
        return sorted(
            (r.box, r.glyphs, r.polarity)
            for r in regions
            if float(np.mean(bottom[r.box[1] : r.box[3], r.box[0] : r.box[2]] == 0)) >= BOTTOM_INK
        )

    detector = default_detector()
    whole = kept(detector.detect(DetectionViews([bottom])))
    assert whole, "the black ID is a line of the bottom window"
    assert kept(_detect_near_the_minimum(detector, bottom, 48)) == whole


def _text_free_ct() -> pydicom.Dataset:
    """The speed bench's text-free slice."""
    ds, frame = _ct_512()
    set_native_pixels(ds, frame)
    return _written(ds)


@pytest.mark.parametrize(
    "source", ["text_free_ct", "ct_with_name", "mr-abdomen", "mr-small", "MR_small.dcm"]
)
def test_a_detector_sure_of_no_line_of_a_polarity_detects_none(source, monkeypatch):
    """``finds_none`` is never sure where detection finds a line of that polarity: on the
    frame's views and on its bottom-of-range window, where black IDs over dark MR anatomy are
    found.  The text-free CT slice's bottom window near its minimum holds no dark candidate,
    so it is not searched (0.3 ms of the slice's 3)."""
    from archive.deid.pixels.cleaner import _detect_near_the_minimum
    from archive.deid.pixels.frames import DetectionViews, decode

    from .scenes import random_scene

    if source == "text_free_ct":
        ds = _text_free_ct()
    elif source == "ct_with_name":
        ds = _ct_with_name()
    elif source.endswith(".dcm"):
        ds = pydicom.dcmread(data_file(source))
    else:
        ds = random_scene(source, 0, {"mr-abdomen": 9, "mr-small": 4}[source]).dataset
    views = detection_views(decode(ds), 0)
    detector = default_detector()
    searched = [views]
    if views.bottom_window is not None:
        searched.append(DetectionViews([views.bottom]))
    for each in searched:
        found = {r.polarity for r in detector.detect(each)}
        for polarity in ("bright", "dark"):
            if detector.finds_none(each, polarity):
                assert polarity not in found
    if views.bottom_window is None:
        return
    searches = []
    detect = detector.detect
    monkeypatch.setattr(detector, "detect", lambda v, *a: searches.append(v) or detect(v, *a))
    near = _detect_near_the_minimum(detector, views.bottom_window, 48, "dark")
    if source == "text_free_ct":
        assert near == [] and searches == []
    if source in ("mr-abdomen", "mr-small"):
        assert any(r.polarity == "dark" for r in near), "the black ID is still found"
        assert len(searches) == 1
