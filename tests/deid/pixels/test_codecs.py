"""Every file that can be read can be written after redaction, whatever its codec.

Each of pydicom's own test files of a transfer syntax / photometric interpretation goes through
the whole engine (header + pixels, a box blanked so the pixels must be re-encoded) and is written
as a Part-10 file; read back, it must show exactly the source's pixels outside the blanked areas
(no second generation of loss), one fill inside, a transfer syntax that matches what was stored
(lossless), a Photometric Interpretation that matches the stored samples, and a lossy source
must stay marked lossy.  The 65-frame JPEG baseline YBR_FULL_422 echo cine the issue reports as
rejected is built from the bundled 30-frame one by repeating its frames (pydicom ships none).
"""

from __future__ import annotations

import functools
import io

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from archive.deid import Policy, deidentify_bytes
from archive.deid.pixels import clean_pixels
from archive.deid.pixels.frames import decode

LOSSLESS_OUT = {JPEGLSLossless, RLELossless, ExplicitVRLittleEndian}

# file, what it is, transfer syntaxes it may be written in, photometric it must say, lossy source
CASES = [
    ("SC_rgb_dcmtk_+eb+cy+np.dcm", "JPEG baseline YBR_FULL_422", LOSSLESS_OUT, "RGB", True),
    ("SC_rgb_jpeg_dcmtk.dcm", "JPEG baseline YBR_FULL", LOSSLESS_OUT, "RGB", True),
    ("SC_rgb_dcmtk_+eb+cr.dcm", "JPEG baseline RGB", LOSSLESS_OUT, "RGB", True),
    ("JPGExtended.dcm", "JPEG extended 12-bit NM", LOSSLESS_OUT, "MONOCHROME2", True),
    ("SC_rgb_jpeg_gdcm.dcm", "JPEG lossless SV1 RGB", LOSSLESS_OUT, "RGB", False),
    ("MR_small_jpeg_ls_lossless.dcm", "JPEG-LS lossless", {JPEGLSLossless}, "MONOCHROME2", False),
    ("JPEGLSNearLossless_16.dcm", "JPEG-LS near-lossless", LOSSLESS_OUT, "MONOCHROME2", True),
    ("SC_rgb_jls_lossy_line.dcm", "JPEG-LS near-lossless RGB", LOSSLESS_OUT, "RGB", True),
    ("MR_small_jp2klossless.dcm", "JPEG 2000 lossless", {JPEG2000Lossless}, "MONOCHROME2", False),
    ("examples_jpeg2k.dcm", "JPEG 2000 lossless YBR_RCT", {JPEG2000Lossless}, "YBR_RCT", False),
    ("693_J2KI.dcm", "JPEG 2000 lossy signed CT", LOSSLESS_OUT, "MONOCHROME2", True),
    ("SC_rgb_gdcm_KY.dcm", "JPEG 2000 lossy RGB", LOSSLESS_OUT, "RGB", True),
    ("MR_small_RLE.dcm", "RLE", {RLELossless}, "MONOCHROME2", False),
    ("SC_rgb_rle_2frame.dcm", "RLE RGB 2 frames", {RLELossless}, "RGB", False),
    ("rtdose_rle.dcm", "RLE 32-bit 15 frames", LOSSLESS_OUT, "MONOCHROME2", False),
    ("examples_palette.dcm", "palette colour", {ExplicitVRLittleEndian}, "PALETTE COLOR", False),
    ("CT_small.dcm", "native signed CT", {ExplicitVRLittleEndian}, "MONOCHROME2", False),
    ("MR_small_bigendian.dcm", "big endian", {ExplicitVRLittleEndian}, "MONOCHROME2", False),
    ("MR_small_implicit.dcm", "implicit VR", {ImplicitVRLittleEndian}, "MONOCHROME2", False),
    ("image_dfl.dcm", "deflated", {DeflatedExplicitVRLittleEndian}, "MONOCHROME2", False),
    (
        "SC_ybr_full_422_uncompressed.dcm",
        "native YBR_FULL_422",
        {ExplicitVRLittleEndian},
        "YBR_FULL",
        False,
    ),  # fmt: skip
    # File meta says explicit VR, the body is implicit (pydicom reads it, so we must write it).
    ("SC_rgb_jpeg.dcm", "JPEG baseline, implicit body", LOSSLESS_OUT, "RGB", True),
]

POLICY_KEYS = {"uid_key": b"codec-test-uid-key-0123", "pseudonym_key": b"codec-test-pseud-0123"}


def _source(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is one of pydicom's bundled test files"
    with open(path, "rb") as fh:
        return fh.read()


def _echo_cine(frames: int = 65) -> bytes:
    """A JPEG baseline YBR_FULL_422 colour echo of ``frames`` frames: the bundled 30-frame
    cine's own JPEG frames, repeated (so every frame is a real baseline JPEG)."""
    ds = pydicom.dcmread(io.BytesIO(_source("examples_ybr_color.dcm")))
    own = list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames)))
    ds.PixelData = encapsulate([own[i % len(own)] for i in range(frames)])
    ds.NumberOfFrames = frames
    ds.PatientName = "DOE^JOHN"  # synthetic
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


def _palette_rle() -> bytes:
    ds = pydicom.dcmread(io.BytesIO(_source("examples_palette.dcm")))
    ds.compress(RLELossless, generate_instance_uid=False)
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


def _redact_and_write(data: bytes):
    source = pydicom.dcmread(io.BytesIO(data))
    before = decode(source)
    rows, cols = before.frames.shape[1:3]
    box = (0, 0, max(2, cols // 4), max(2, rows // 4))
    cleaner = functools.partial(clean_pixels, extra_boxes=[box])
    result = deidentify_bytes(data, Policy(**POLICY_KEYS, pixel_cleaner=cleaner))
    assert result.status == "anonymized", result.reasons
    written = pydicom.dcmread(io.BytesIO(result.to_bytes()))
    return source, before, written, result, box


def _check(source, before, written, result, box, syntaxes, photometric, lossy):
    ts = written.file_meta.TransferSyntaxUID
    assert ts in syntaxes, ts.name
    assert written.PhotometricInterpretation == photometric
    if int(written.get("SamplesPerPixel", 1)) > 1:
        assert written.PlanarConfiguration == 0
    assert int(written.get("NumberOfFrames", 1) or 1) == before.count
    after = decode(written)
    assert after.frames.shape == before.frames.shape
    # Exactly the source's decoded samples outside every blanked area: lossless storage.
    kept = np.ones(before.frames.shape[:3], bool)
    for frame, x0, y0, x1, y1, _reason in result.pixel_report["boxes"]:
        kept[frame, y0:y1, x0:x1] = False
    assert kept.any()
    assert np.array_equal(before.frames[kept], after.frames[kept])
    x0, y0, x1, y1 = box
    inside = after.frames[:, y0:y1, x0:x1].reshape(before.count, -1, *after.frames.shape[3:])
    for frame in inside:
        assert len(np.unique(frame, axis=0)) == 1, "one fill value inside the box"
    if lossy:
        assert written.LossyImageCompression == "01", "a once-lossy image stays marked lossy"
        assert written.LossyImageCompressionMethod
    else:  # as the source said (an uncompressed file may have been lossy once)
        assert written.get("LossyImageCompression") == source.get("LossyImageCompression")
    # The pixel data can be rendered by pydicom's own path too (what the viewer does).
    assert written.pixel_array.shape[-2 if photometric != "RGB" else -3] in (
        int(written.Columns),
        int(written.Rows),
    )


@pytest.mark.parametrize(
    ("name", "syntaxes", "photometric", "lossy"),
    [pytest.param(n, s, p, lossy, id=f"{n}-{what}") for n, what, s, p, lossy in CASES],
)
def test_every_codec_is_written_after_redaction(name, syntaxes, photometric, lossy):
    _check(*_redact_and_write(_source(name)), syntaxes, photometric, lossy)


def test_palette_colour_in_rle_keeps_its_syntax_and_palette():
    source, before, written, result, box = _redact_and_write(_palette_rle())
    _check(source, before, written, result, box, {RLELossless}, "PALETTE COLOR", False)
    assert written.RedPaletteColorLookupTableData == source.RedPaletteColorLookupTableData


@pytest.mark.e2e  # 65 colour frames through the whole engine (a few seconds)
def test_a_65_frame_jpeg_baseline_ybr_full_422_echo_cine_is_written():
    source, before, written, result, box = _redact_and_write(_echo_cine(65))
    assert source.PhotometricInterpretation == "YBR_FULL_422" and before.count == 65
    _check(source, before, written, result, box, LOSSLESS_OUT, "RGB", True)
    assert written.LossyImageCompressionMethod == "ISO_10918_1"
    assert {b[0] for b in result.pixel_report["boxes"]} == set(range(65))


def test_an_unchanged_lossy_cine_keeps_its_jpeg_bytes():
    """Nothing found, nothing drawn: the JPEG frames are kept as they are (no re-encoding)."""
    data = _source("SC_rgb_dcmtk_+eb+cy+np.dcm")
    ds = pydicom.dcmread(io.BytesIO(data))
    pixel_data = ds.PixelData
    result = clean_pixels(ds)
    assert not result.changed and ds.PixelData == pixel_data
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
