"""clean_pixels on real pydicom test images with synthetic identifying text and ground truth."""

from __future__ import annotations

import io
import re

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from archive.deid.pixels import (
    ClassicalTextDetector,
    PixelPolicy,
    TextRedactionValues,
    clean_pixels,
)
from archive.deid.pixels.frames import decode

from .synthetic import (
    Text,
    alpha_mask,
    blend,
    data_file,
    set_native_pixels,
    tesseract_words,
    to_gray8,
)

NAME = "DOE JOHN"
PHI = ["DOEJOHN", "1234567", "19610412", "MARYHOSP"]


def _roundtrip(ds: pydicom.Dataset) -> pydicom.Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buf.getvalue()))


def _upscaled_ct(factor: int = 4) -> pydicom.Dataset:
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    frame = ds.pixel_array
    big = np.kron(frame, np.ones((factor, factor), frame.dtype))
    ds.Rows, ds.Columns = big.shape
    set_native_pixels(ds, big)
    return ds


def _flat(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _assert_clean(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> None:
    """≥99% of text pixels changed, ≥99% of pixels away from the text unchanged, OCR reads none."""
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    changed_in_text = diff[mask].mean()
    assert changed_in_text >= 0.99, f"only {changed_in_text:.3f} of text pixels changed"
    import cv2

    grown = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    unchanged_outside = 1.0 - diff[~grown].mean()
    assert unchanged_outside >= 0.99, f"only {unchanged_outside:.3f} of other pixels unchanged"
    words = _flat(tesseract_words(to_gray8(after)))
    for s in PHI:
        assert s not in words, "independent OCR still reads an injected string"


TEXTS_CT = [
    Text("DOE^JOHN", (3, 2), 7, "sans"),  # 7 px, touching the top-left corner
    Text("ID 1234567", (360, 6), 12, "mono"),
    Text("1961-04-12", (8, 480), 16, "serif"),  # bottom-left
    Text("ST MARY HOSP", (150, 250), 14, "bold"),  # centre band, over anatomy
]


def _ct_with_text(texts=TEXTS_CT, value=None):
    ds = _upscaled_ct()
    frame = ds.pixel_array
    alpha = alpha_mask(frame.shape, texts)
    burned = blend(frame, alpha, frame.max() if value is None else value)
    set_native_pixels(ds, burned)
    mask = burned != frame
    return ds, burned, mask


def test_ct_text_at_several_sizes_and_positions_is_removed():
    ds, before, mask = _ct_with_text()
    ocr_before = _flat(tesseract_words(to_gray8(before)))
    assert "DOE" in ocr_before  # the independent reader does see the injected text
    result = clean_pixels(ds, hints=[NAME, "1234567"])
    assert result.ok and result.changed and result.frames == 1
    after = _roundtrip(ds).pixel_array
    _assert_clean(before, after, mask)
    assert all(reason and "DOE" not in reason for *_, reason in result.boxes)


def test_low_contrast_and_inverted_text():
    """45%-grey 12 px text over soft tissue (local contrast) and dark text on a label field."""
    ds = _upscaled_ct()
    frame = ds.pixel_array
    lo, hi = int(frame.min()), int(frame.max())
    field = frame.copy()
    field[300:340, 20:260] = hi  # a bright label field with dark (inverted) text
    a1 = alpha_mask(frame.shape, [Text("DOE^JOHN 1961", (26, 306), 16, "sans")])
    a2 = alpha_mask(frame.shape, [Text("ID 1234567", (300, 470), 12, "sans")])
    burned = blend(field, a1, lo)
    burned = blend(burned, a2, lo + (hi - lo) * 0.45)  # mid-grey text on the black corner
    set_native_pixels(ds, burned)
    result = clean_pixels(ds)
    assert result.ok and result.changed
    after = _roundtrip(ds).pixel_array
    mask = burned != field
    _assert_clean(burned, after, mask)


def test_text_over_bright_bone_mid_image():
    """Letters at the top of the range over the vertebra vanish under min/max windowing."""
    ds = _upscaled_ct()
    frame = ds.pixel_array
    texts = [Text("DOE^JOHN", (175, 90), 14, "sans"), Text("1234567", (180, 130), 12, "mono")]
    alpha = alpha_mask(frame.shape, texts)
    bone = frame[85:150, 170:260]
    assert np.median(bone) > np.percentile(frame, 85)  # the text really lies over bone
    burned = blend(frame, alpha, frame.max())
    set_native_pixels(ds, burned)
    result = clean_pixels(ds, hints=[NAME, "1234567"])
    assert result.ok and result.changed
    _assert_clean(burned, _roundtrip(ds).pixel_array, burned != frame)


@pytest.mark.parametrize(
    "name",
    ["MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"],
)
def test_lossless_sources_keep_their_transfer_syntax(name):
    ds = pydicom.dcmread(data_file(name))
    tsyntax = ds.file_meta.TransferSyntaxUID
    frame = ds.pixel_array
    big = np.kron(frame, np.ones((4, 4), frame.dtype))
    alpha = alpha_mask(big.shape, [Text("DOE^JOHN", (2, 2), 9, "sans")])
    burned = blend(big, alpha, big.max())
    ds.Rows, ds.Columns = big.shape
    ds.compress(
        tsyntax, burned, generate_instance_uid=False
    ) if tsyntax != ExplicitVRLittleEndian else None
    result = clean_pixels(ds)
    assert result.ok and result.changed
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == tsyntax
    _assert_clean(burned, out.pixel_array, burned != big)


@pytest.mark.e2e  # 30-frame colour cine end to end (~15 s)
def test_lossy_source_is_stored_losslessly_and_stays_marked_lossy():
    ds = pydicom.dcmread(data_file("examples_ybr_color.dcm"))  # JPEG baseline US cine
    ds.LossyImageCompression = "01"
    before = decode(ds).frames[0].copy()
    assert "GENTHI" in _flat(tesseract_words(to_gray8(before)))
    result = clean_pixels(ds)
    assert result.changed
    assert result.ok, result.reasons  # ordinary echo speckle is not quarantined
    out = _roundtrip(ds)
    assert (
        not out.file_meta.TransferSyntaxUID.is_lossy
        if hasattr(out.file_meta.TransferSyntaxUID, "is_lossy")
        else True
    )
    # JPEG-LS Lossless, RLE Lossless or uncompressed: never a second lossy generation
    assert out.file_meta.TransferSyntaxUID in (
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.1",
    )
    assert out.LossyImageCompression == "01"
    assert out.pixel_array.shape[0] == 30
    assert "GENTHI" not in _flat(tesseract_words(to_gray8(out.pixel_array[0])))
    # the sector (speckle) is left alone: no box inside it on any frame
    assert not [b for b in result.boxes if b[1] > 100 and b[3] < 220 and b[2] > 60 and b[4] < 200]


def test_real_ultrasound_annotations_are_found():
    """examples_jpeg2k.dcm carries real burned-in text (site, dates, labels)."""
    ds = pydicom.dcmread(data_file("examples_jpeg2k.dcm"))
    before = decode(ds).frames[0].copy()
    words_before = _flat(tesseract_words(to_gray8(before)))
    assert "BAPTIST" in words_before
    clean_pixels(ds)
    after = _roundtrip(ds).pixel_array
    words = _flat(tesseract_words(to_gray8(after)))
    for s in ["BAPTIST", "MEDCTR", "LYMPH", "NODE", "MSCSKEL"]:
        assert s not in words


REAL_ANNOTATIONS = {
    # file: words an independent reader finds in the original burned-in annotations
    "examples_jpeg2k.dcm": ["BAPTIST", "MEDCTR", "630P630", "MSCSKEL", "LYMPH", "NODE"],
    "examples_rgb_color.dcm": ["BAPTIST", "MEDCTR", "MSCSKEL", "LYMPH", "NODE"],
    "examples_palette.dcm": ["CISTMAG", "HGEN", "GENOB"],
}


def _rgb8(ds: pydicom.Dataset, frame: int = 0) -> np.ndarray:
    pixels = decode(ds)
    f = pixels.frames[frame]
    return pixels.palette_rgb[f] if pixels.palette_rgb is not None else f


@pytest.mark.parametrize("name", sorted(REAL_ANNOTATIONS))
def test_real_colour_images_are_redacted_and_not_quarantined(name):
    """Real ultrasound annotations go, speckle/Doppler stay, and the verifier agrees (ok)."""
    ds = pydicom.dcmread(data_file(name))
    before = _rgb8(ds).copy()
    words = _flat(tesseract_words(to_gray8(before)))
    present = [w for w in REAL_ANNOTATIONS[name] if w in words]
    assert present, "the independent reader sees the real annotations before cleaning"
    result = clean_pixels(ds)
    assert result.ok, result.reasons
    assert result.changed
    after = _rgb8(_roundtrip(ds))
    words = _flat(tesseract_words(to_gray8(after)))
    for w in present:
        assert w not in words
    # the image itself is kept: most of the frame is untouched
    diff = (before != after).any(axis=2) if after.ndim == 3 else before != after
    assert diff.mean() < 0.15, f"{diff.mean():.2f} of the frame changed"


@pytest.mark.parametrize(
    "name", ["SC_rgb_jpeg.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_rle.dcm"]
)
def test_real_colour_images_without_text_stay_byte_identical(name):
    ds = pydicom.dcmread(data_file(name))
    before = ds.PixelData
    result = clean_pixels(ds)
    assert result.ok and not result.changed, result.boxes
    assert ds.PixelData == before


def test_multiframe_text_only_in_frame_17_is_found_and_only_frame_17_changes():
    ds = _upscaled_ct(factor=2)
    frame = ds.pixel_array
    frames = np.repeat(frame[np.newaxis], 30, axis=0)
    alpha = alpha_mask(frame.shape, [Text("DOE^JOHN 1234567", (10, 10), 10, "sans")])
    frames[17] = blend(frames[17], alpha, frame.max())
    set_native_pixels(ds, frames)
    result = clean_pixels(ds)
    assert result.ok and result.frames == 30
    assert {b[0] for b in result.boxes} == {17}
    after = _roundtrip(ds).pixel_array
    diff = (after != frames).reshape(30, -1).any(axis=1)
    assert list(np.nonzero(diff)[0]) == [17]


def test_clean_image_stays_byte_identical():
    for name in ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm"]:
        ds = pydicom.dcmread(data_file(name))
        before = ds.PixelData
        result = clean_pixels(ds)
        assert not result.changed and result.ok, name
        assert ds.PixelData == before


def test_overlay_planes_are_removed():
    ds = pydicom.dcmread(data_file("examples_overlay.dcm"))
    assert any(0x6000 <= e.tag.group <= 0x601E for e in ds)
    result = clean_pixels(ds)
    assert not any(0x6000 <= e.tag.group <= 0x601E for e in ds)
    assert result.overlays_removed


def test_in_pixel_overlay_in_high_bits_is_cleared():
    ds = pydicom.dcmread(data_file("examples_overlay.dcm"))  # 16 allocated, 12 stored
    frame = ds.pixel_array.astype(np.uint16)
    overlay = alpha_mask(frame.shape, [Text("DOE^JOHN", (10, 10), 20, "sans")]) > 0.5
    raw = frame | (overlay.astype(np.uint16) << 15)
    ds.PixelData = raw.tobytes()
    clean_pixels(ds)
    stored = np.frombuffer(ds.PixelData, np.uint16).reshape(frame.shape)
    assert not (stored >> 12).any()


def test_extra_boxes_are_applied_to_every_frame():
    ds = pydicom.dcmread(data_file("SC_rgb_rle_2frame.dcm"))
    result = clean_pixels(ds, extra_boxes=[(10, 10, 30, 20)])
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    assert (out.pixel_array[:, 10:20, 10:30] == 0).all()
    assert {b[0] for b in result.boxes} == {0, 1}


def test_colour_and_palette_and_ybr_sources():
    for name in [
        "SC_ybr_full_422_uncompressed.dcm",
        "examples_rgb_color.dcm",
        "examples_palette.dcm",
    ]:
        ds = pydicom.dcmread(data_file(name))
        clean_pixels(ds, extra_boxes=[(0, 0, 40, 12)])
        out = _roundtrip(ds)
        arr = out.pixel_array
        assert arr.shape[0] == ds.Rows or arr.shape[1] == ds.Rows


def test_safe_list_policy_keeps_orientation_letters_but_never_a_hint():
    class Reader(ClassicalTextDetector):
        supports_reading = True

        def read(self, views, region):
            x0 = region.box[0]
            return "L" if x0 > 200 else "DOE JOHN"

    ds, before, _ = _ct_with_text([Text("LLL", (300, 20), 14), Text("DOE^JOHN", (10, 10), 14)])
    policy = PixelPolicy(text=TextRedactionValues.SAFE_LIST, safe_tokens=frozenset({"L"}))
    result = clean_pixels(ds, hints=["DOE^JOHN"], detector=Reader(), policy=policy)
    xs = [b[1] for b in result.boxes]
    assert xs and all(x < 200 for x in xs)
