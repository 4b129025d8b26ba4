"""Scenes for measuring burned-in text redaction: real public images (pydicom's bundled test
files, pynetdicom's RT portal image, dicom3tools' MR mosaic) with synthetic identifying text
whose every pixel is known, and text-free images.

Shared by ``benchmarks/redaction_precision_bench.py`` (precision/recall per modality) and the
tests that hold the figures (``tests/deid/pixels/test_precision.py``).

Text is drawn with Debian's DejaVu/Liberation fonts in varied sizes, contrasts and positions:
corners, a stacked vendor-style header, over anatomy (bright, grey, faint, dark), inverted on a
light label field, vertical (rotated 90 and 270 degrees) along the edges, on a coloured banner,
over ultrasound speckle and over the vendor's own annotations.  The ground truth of a string is
the set of pixels its drawing changed.

Real annotations already burned into the vendor images (site, probe, scales, colour bars) are
labelled by hand as ``vendor`` rectangles: what happens there is neither our text nor anatomy,
so those pixels are left out of the collateral figure.  Text-free images are the monochrome
originals (and flips, crops and rescalings of them) and crops of the ultrasound sectors.
"""

from __future__ import annotations

import copy
import functools
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pydicom
from PIL import Image, ImageDraw
from pydicom.data import get_testdata_file

from archive.deid.pixels.frames import Representation, decode

from .synthetic import font, set_native_pixels

Box = tuple[int, int, int, int]

#: Collateral is counted outside this many pixels around any drawn text pixel.
MARGIN = 7


@dataclass(frozen=True)
class BaseImage:
    """A real image, what it shows and where its own annotations are (x0, y0, x1, y1)."""

    key: str
    modality: str
    file: str
    upscale: int = 1
    #: who ships ``file``: a key of ``SOURCES``
    source: str = "pydicom"
    vendor: tuple[Box, ...] = ()
    #: text-free crops (ultrasound sectors, Doppler boxes)
    clear: tuple[Box, ...] = ()
    #: where the anatomy is, for text "over anatomy" (centre of the box)
    anatomy: Box | None = None


_RGB_VENDOR = (
    (8, 8, 90, 54),
    (130, 8, 188, 32),
    (130, 38, 146, 52),
    (243, 8, 314, 54),
    (0, 62, 26, 122),
    (0, 80, 10, 134),
    (294, 62, 320, 122),
    (118, 174, 184, 192),
    (34, 216, 130, 232),
    (196, 222, 314, 240),
)

BASES = (
    BaseImage("ct-small", "CT", "CT_small.dcm", upscale=4, anatomy=(150, 150, 360, 360)),
    BaseImage("ct-head", "CT", "693_J2KI.dcm", anatomy=(140, 120, 380, 400)),
    BaseImage("ct-skullbase", "CT", "J2K_pixelrep_mismatch.dcm", anatomy=(140, 140, 380, 380)),
    BaseImage("mr-abdomen", "MR", "examples_overlay.dcm", anatomy=(60, 60, 260, 180)),
    BaseImage("mr-small", "MR", "MR_small.dcm", upscale=4, anatomy=(60, 60, 200, 200)),
    # An ASL MR mosaic (20 axial slices of a brain in 72 px tiles) from Debian's dicom3tools.
    BaseImage("mr-mosaic", "MR", "0051.dcm", source="dicom3tools", anatomy=(40, 144, 320, 216)),
    BaseImage("nm-whole-body", "NM", "JPEG2000.dcm", anatomy=(60, 150, 200, 700)),
    BaseImage("nm-bone-scan", "NM", "JPGExtended.dcm", anatomy=(60, 150, 200, 700)),
    BaseImage("sc-pattern", "SC", "image_dfl.dcm", anatomy=(100, 100, 400, 400)),
    BaseImage("sc-colour-bars", "SC", "SC_rgb_rle.dcm", upscale=3, anatomy=(60, 60, 240, 240)),
    # pynetdicom's RT portal image (an EPID exposure of a phantom's ball bearing, 16 bits): the
    # nearest to a CR/DX projection radiograph among the installed files; none has CR/DX or XA.
    BaseImage(
        "rt-portal",
        "RT image (projection)",
        "RTImageStorage.dcm",
        source="pynetdicom",
        anatomy=(384, 384, 640, 640),
    ),
    BaseImage(
        "us-palette",
        "US mono",
        "examples_palette.dcm",
        vendor=(
            (0, 0, 800, 62),
            (0, 62, 88, 262),
            (118, 82, 292, 108),
            (306, 58, 336, 86),
            (772, 78, 800, 332),
            (448, 280, 512, 312),
        ),
        clear=((340, 66, 700, 160),),
        anatomy=(380, 70, 660, 150),
    ),
    BaseImage(
        "us-doppler",
        "US colour",
        "examples_rgb_color.dcm",
        vendor=_RGB_VENDOR,
        clear=((30, 60, 290, 165),),
        anatomy=(50, 70, 270, 150),
    ),
    BaseImage(
        "us-doppler-j2k",
        "US colour",
        "examples_jpeg2k.dcm",
        vendor=tuple((2 * a, 2 * b, 2 * c, 2 * d) for a, b, c, d in _RGB_VENDOR),
        clear=((60, 120, 580, 330),),
        anatomy=(100, 140, 540, 300),
    ),
    BaseImage(
        "us-echo",
        "US colour",
        "examples_ybr_color.dcm",
        vendor=(
            (0, 0, 42, 34),
            (182, 12, 198, 28),
            (286, 8, 320, 212),
            (34, 220, 288, 240),
        ),
        clear=((100, 25, 220, 200),),
        anatomy=(120, 40, 210, 190),
    ),
    # The bases below come from pydicom-data (NEMA WG04 images), added after the rules above
    # were tuned: real projection radiographs at full size (MONOCHROME1) and a large MR.
    # A PA chest (Philips CR, 1841x1955, 15 bits): both lungs full of round metastases.
    BaseImage(
        "cr-chest", "CR", "RG1_UNCR.dcm", source="pydicom-data", anatomy=(300, 300, 1550, 1500)
    ),
    # A lower leg (Fuji CR, 1760x1760, 10 bits): a non-ossifying fibroma of the distal tibia;
    # the lead "R" marker is the radiographer's, not ours.
    BaseImage(
        "cr-tibia",
        "CR",
        "RG3_UNCR.dcm",
        source="pydicom-data",
        vendor=((1125, 1360, 1240, 1495),),
        anatomy=(700, 200, 1250, 1500),
    ),
    # A coronal shoulder MR (Philips, 1024x1024, 12 bits).
    BaseImage(
        "mr-shoulder", "MR", "MR2_UNCR.dcm", source="pydicom-data", anatomy=(300, 350, 800, 800)
    ),
)


def _pydicom_file(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not among pydicom's bundled test files"
    return Path(path)


def _pynetdicom_file(name: str) -> Path:
    # pynetdicom (pinned in requirements.txt) ships its test files inside the package.
    path = resources.files("pynetdicom") / "tests" / "dicom_files" / name
    assert path.is_file(), f"{name} is not among pynetdicom's test files"
    return Path(str(path))


def _pydicom_data_file(name: str) -> Path:
    # PyPI's pydicom-data (pinned in requirements.txt): the larger files pydicom's tests
    # download on demand, as a package (its module is ``data_store``).
    path = resources.files("data_store") / "data" / name
    assert path.is_file(), f"{name} is not among pydicom-data's files"
    return Path(str(path))


def _dicom3tools_file(name: str) -> Path:
    # Debian's dicom3tools package (installed by scripts/services.sh, i.e. make test / bench).
    path = Path("/usr/share/doc/dicom3tools/examples") / name
    assert path.is_file(), f"{path} is missing: install the Debian package dicom3tools"
    return path


#: Where each source's files are found on a machine set up by ``make services``.
SOURCES = {
    "pydicom": _pydicom_file,
    "pynetdicom": _pynetdicom_file,
    "pydicom-data": _pydicom_data_file,
    "dicom3tools": _dicom3tools_file,
}


def base_path(base: BaseImage) -> Path:
    return SOURCES[base.source](base.file)


@functools.cache
def _decoded(path: Path, upscale: int):
    ds = pydicom.dcmread(path)
    pixels = decode(ds)
    frames = pixels.frames
    if upscale > 1:
        kron = (1, upscale, upscale) + (1,) * (frames.ndim - 3)
        frames = np.kron(frames, np.ones(kron, frames.dtype))
    return ds, frames, pixels.representation, pixels.palette_rgb


def base_frames(base: BaseImage) -> tuple[pydicom.Dataset, np.ndarray, Representation, object]:
    ds, frames, rep, palette = _decoded(base_path(base), base.upscale)
    return copy.deepcopy(ds), frames.copy(), rep, palette


def native_dataset(template: pydicom.Dataset, frames: np.ndarray) -> pydicom.Dataset:
    """``frames`` stored uncompressed under ``template``'s header (geometry updated)."""
    ds = copy.deepcopy(template)
    ds.Rows, ds.Columns = frames.shape[1:3]
    if frames.shape[0] > 1 or "NumberOfFrames" in ds:
        ds.NumberOfFrames = frames.shape[0]
    colour = frames.ndim == 4
    set_native_pixels(ds, frames if frames.shape[0] > 1 else frames[0])
    if colour and str(ds.PhotometricInterpretation) != "RGB":
        ds.PhotometricInterpretation = "RGB"
    if not colour and "LossyImageCompression" in ds:
        pass
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()))


# --- Drawing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stroke:
    """One string to burn: where (ink top-left), how, in what colour."""

    string: str
    xy: tuple[int, int]
    size: int
    kind: str = "sans"
    rotate: int = 0  # 0, 90 or 270 degrees (counter-clockwise)
    colour: str = "bright"  # bright, dark, grey:<0..1>, faint, yellow, cyan
    banner: tuple[int, int, int] | None = None  # RGB of a label field behind the text
    field: str | None = None  # "light": a light label field (inverted text)


def _ink(stroke: Stroke) -> np.ndarray:
    """Anti-aliased coverage (0..1) of the string alone, cropped to its ink, rotated."""
    f = font(stroke.kind, stroke.size)
    left, top, right, bottom = f.getbbox(stroke.string)
    img = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(img).text((1 - left, 1 - top), stroke.string, fill=255, font=f)
    if stroke.rotate:
        img = img.rotate(stroke.rotate, expand=True)
    a = np.asarray(img, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(a > 0)
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def ink_size(stroke: Stroke) -> tuple[int, int]:
    a = _ink(stroke)
    return a.shape[1], a.shape[0]


def _place(shape: tuple[int, int], stroke: Stroke) -> np.ndarray:
    a = _ink(stroke)
    out = np.zeros(shape, np.float32)
    x, y = stroke.xy
    h, w = a.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(shape[1], x + w), min(shape[0], y + h)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = a[y0 - y : y1 - y, x0 - x : x1 - x]
    return out


def _luminance(frame: np.ndarray, rep: Representation, palette) -> np.ndarray:
    if rep is Representation.PALETTE:
        return palette[frame].astype(np.float32).mean(axis=2)
    if frame.ndim == 3:
        return frame.astype(np.float32).mean(axis=2)
    return frame.astype(np.float32)


_NAMED = {"yellow": (255, 255, 0), "cyan": (0, 255, 255), "green": (80, 255, 80)}


def _value(frame, rep, palette, colour: str, under: np.ndarray):
    """The stored value (or RGB, or palette index) that draws ``colour`` on ``frame``.
    Colours are what a viewer shows: on MONOCHROME1 (a radiograph shown inverted) "bright"
    letters are stored at the minimum."""
    if rep is Representation.MONOCHROME1:
        ends = float(frame.min()) + float(frame.max())
        shown = ends - frame.astype(np.float64)
        return ends - _value(shown, Representation.MONOCHROME2, palette, colour, under)
    lum = _luminance(frame, rep, palette)
    lo, hi = float(lum.min()), float(lum.max())
    if frame.ndim == 2 and rep is not Representation.PALETTE:
        flo, fhi = float(frame.min()), float(frame.max())
        if colour == "bright":
            return fhi
        if colour == "dark":
            return flo
        if colour == "faint":  # a fifth of the range above what lies under the text
            base = float(np.median(frame[under])) if under.any() else flo
            return min(fhi, base + 0.2 * (fhi - flo))
        if colour.startswith("grey:"):
            return flo + float(colour[5:]) * (fhi - flo)
        return fhi
    if colour == "bright":
        rgb = (255, 255, 255)
    elif colour == "dark":
        rgb = (0, 0, 0)
    elif colour == "faint":
        base = float(np.median(lum[under])) if under.any() else lo
        g = min(255.0, base + 0.25 * (hi - lo))
        rgb = (g, g, g)
    elif colour.startswith("grey:"):
        g = 255 * float(colour[5:])
        rgb = (g, g, g)
    else:
        rgb = _NAMED[colour]
    if rep is Representation.PALETTE:
        d = ((palette.astype(np.float32) - np.asarray(rgb, np.float32)) ** 2).sum(axis=1)
        return int(np.argmin(d))
    return np.asarray(rgb, np.float64)


def burn(
    frame: np.ndarray, rep: Representation, palette, strokes: list[Stroke]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``frame`` with ``strokes`` burned in, and each string's changed pixels."""
    out = frame.copy()
    masks = []
    shape = frame.shape[:2]
    for stroke in strokes:
        alpha = _place(shape, stroke)
        ink = alpha > 0
        if not ink.any():
            masks.append(ink)
            continue
        ys, xs = np.nonzero(ink)
        if stroke.banner is not None or stroke.field is not None:
            pad = max(3, stroke.size // 4)
            y0, y1 = max(0, ys.min() - pad), min(shape[0], ys.max() + pad + 1)
            x0, x1 = max(0, xs.min() - pad), min(shape[1], xs.max() + pad + 1)
            fill = stroke.banner if stroke.banner is not None else (235, 235, 235)
            if frame.ndim == 3:
                out[y0:y1, x0:x1] = np.asarray(fill, out.dtype)
            elif rep is Representation.PALETTE:
                out[y0:y1, x0:x1] = _value(frame, rep, palette, f"grey:{fill[0] / 255}", ink)
            else:
                lo, hi = float(frame.min()), float(frame.max())
                level = fill[0] / 255.0
                if rep is Representation.MONOCHROME1:
                    level = 1.0 - level
                out[y0:y1, x0:x1] = np.asarray(lo + (hi - lo) * level).astype(out.dtype)
        drawn, changed = _draw(out, rep, palette, stroke.colour, alpha)
        if not (changed & ink).any() and stroke.colour in _OTHER_INK:
            # White letters on a white field (a radiograph's unexposed border) are not there
            # to read, nor to count as removed: a scanner writes them in the other ink.
            drawn, changed = _draw(out, rep, palette, _OTHER_INK[stroke.colour], alpha)
        out = drawn
        # A field or banner is not text: only the glyphs' pixels are the string's.
        masks.append(changed & ink)
    return out, masks


_OTHER_INK = {"bright": "dark", "dark": "bright"}


def _draw(frame, rep: Representation, palette, colour: str, alpha: np.ndarray):
    """``frame`` with ``colour`` blended in by ``alpha``, and the pixels that changed."""
    value = _value(frame, rep, palette, colour, alpha > 0)
    if rep is Representation.PALETTE:
        out = frame.copy()
        out[alpha >= 0.5] = value
    else:
        a = alpha[..., None] if frame.ndim == 3 else alpha
        mixed = frame.astype(np.float64) * (1 - a) + np.asarray(value, np.float64) * a
        out = np.rint(mixed).astype(frame.dtype)
    changed = out != frame
    if changed.ndim == 3:
        changed = changed.any(axis=2)
    return out, changed


# --- Scenes -------------------------------------------------------------------------------------


@dataclass
class Scene:
    """One image to clean, with the ground truth to judge the result by."""

    key: str
    modality: str
    scenario: str
    dataset: pydicom.Dataset
    before: np.ndarray  # (frames, rows, cols[, 3]) stored values of what goes in
    strings: list[tuple[str, np.ndarray]] = field(default_factory=list)  # per frame masks
    vendor: np.ndarray | None = None  # (rows, cols) excluded from collateral
    hints: list[str] = field(default_factory=list)

    @property
    def text_free(self) -> bool:
        return not self.strings

    def text_mask(self) -> np.ndarray:
        mask = np.zeros(self.before.shape[:3], bool)
        for _s, m in self.strings:
            mask |= m
        return mask


def _names(rng: random.Random) -> dict[str, str]:
    consonants, vowels = "BCDFGHKLMNPRSTVZ", "AEIOU"

    def word(n: int) -> str:
        return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(n))

    family, given = word(3), word(2)
    return {
        "name": f"{family}^{given}",
        "id": "".join(rng.choice("0123456789") for _ in range(8)),
        "dob": f"19{rng.randint(30, 99)}-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
        "site": f"ST {word(2)} HOSP",
        "acc": "A" + "".join(rng.choice("0123456789") for _ in range(7)),
    }


def _vendor_mask(base: BaseImage, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    for x0, y0, x1, y1 in base.vendor:
        mask[y0:y1, x0:x1] = True
    return mask


def _fits(shape, stroke: Stroke) -> Stroke:
    """Shrink a stroke until its ink fits the image with 2 px to spare."""
    while True:
        w, h = ink_size(stroke)
        if (w <= shape[1] - 4 and h <= shape[0] - 4) or stroke.size <= 7:
            return stroke
        stroke = Stroke(**{**stroke.__dict__, "size": stroke.size - 1})


def _at(shape, stroke: Stroke, where: str, box: Box | None = None, pad: int = 3) -> Stroke:
    stroke = _fits(shape, stroke)
    w, h = ink_size(stroke)
    rows, cols = shape
    if where == "tl":
        xy = (pad, pad)
    elif where == "tr":
        xy = (cols - w - pad, pad)
    elif where == "bl":
        xy = (pad, rows - h - pad)
    elif where == "br":
        xy = (cols - w - pad, rows - h - pad)
    elif where == "left":
        xy = (pad, (rows - h) // 2)
    elif where == "right":
        xy = (cols - w - pad, (rows - h) // 2)
    elif where == "bottom":
        xy = ((cols - w) // 2, rows - h - pad)
    else:  # centre of ``box``
        x0, y0, x1, y1 = box or (0, 0, cols, rows)
        xy = ((x0 + x1 - w) // 2, (y0 + y1 - h) // 2)
        xy = (min(max(0, xy[0]), max(0, cols - w)), min(max(0, xy[1]), max(0, rows - h)))
    return Stroke(**{**stroke.__dict__, "xy": xy})


def _sizes(shape) -> tuple[int, int, int]:
    side = min(shape)
    return 8, max(10, min(16, side // 24)), max(14, min(28, side // 12))


def _scenarios(base: BaseImage, shape, colour: bool) -> Iterator[tuple[str, list[Stroke]]]:
    rng = random.Random(base.key)
    small, medium, large = _sizes(shape)
    anatomy = base.anatomy
    kinds = ["sans", "mono", "serif", "bold", "narrow"]

    def n() -> dict[str, str]:
        return _names(rng)

    p = n()
    yield (
        "corners",
        [
            _at(shape, Stroke(p["name"], (0, 0), medium, "sans"), "tl"),
            _at(shape, Stroke("ID " + p["id"], (0, 0), small, "mono"), "tr"),
            _at(shape, Stroke(p["dob"], (0, 0), large, "serif"), "bl"),
            _at(shape, Stroke(p["site"], (0, 0), medium, "bold"), "br"),
        ],
    )
    p = n()
    line = int(round(small * 1.2))
    header = [
        _at(shape, Stroke(s, (0, 0), small, "narrow"), "tl") for s in (p["name"], p["id"], p["dob"])
    ]
    yield (
        "stacked header",
        [
            Stroke(**{**s.__dict__, "xy": (s.xy[0], s.xy[1] + i * line)})
            for i, s in enumerate(header)
        ],
    )
    p = n()
    yield "over anatomy", [_at(shape, Stroke(p["name"], (0, 0), medium, "bold"), "box", anatomy)]
    p = n()
    yield (
        "grey over anatomy",
        [
            _at(
                shape,
                Stroke(p["id"], (0, 0), medium, rng.choice(kinds), colour="grey:0.6"),
                "box",
                anatomy,
            )  # fmt: skip
        ],
    )
    p = n()
    yield (
        "faint over anatomy",
        [_at(shape, Stroke(p["dob"], (0, 0), medium, "sans", colour="faint"), "box", anatomy)],
    )
    p = n()
    yield (
        "dark over anatomy",
        [_at(shape, Stroke(p["name"], (0, 0), medium, "mono", colour="dark"), "box", anatomy)],
    )
    p = n()
    yield (
        "inverted label",
        [
            _at(
                shape,
                Stroke(p["name"], (0, 0), medium, "sans", colour="dark", field="light"),
                "bl",
                pad=6,
            )  # fmt: skip
        ],
    )
    p = n()
    yield "vertical 90", [_at(shape, Stroke(p["name"], (0, 0), medium, "sans", rotate=90), "left")]
    p = n()
    yield (
        "vertical 270",
        [_at(shape, Stroke("ID " + p["id"], (0, 0), small, "mono", rotate=270), "right")],
    )
    p = n()
    banner = (30, 60, 140) if colour else (110, 110, 110)
    yield (
        "banner",
        [
            _at(
                shape,
                Stroke(p["name"] + "  " + p["dob"], (0, 0), medium, "sans", banner=banner),
                "bottom",
                pad=6,
            )  # fmt: skip
        ],
    )
    p = n()
    yield "large title", [_at(shape, Stroke(p["site"], (0, 0), large, "bold"), "box", anatomy)]
    if colour:
        p = n()
        yield (
            "yellow over anatomy",
            [_at(shape, Stroke(p["acc"], (0, 0), medium, "sans", colour="yellow"), "box", anatomy)],
        )
    if base.clear:
        p = n()
        yield (
            "over speckle",
            [
                _at(shape, Stroke(p["name"], (0, 0), small, "sans"), "box", base.clear[0]),
            ],
        )
    if base.vendor:
        p = n()
        x0, y0, x1, y1 = max(base.vendor, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        yield (
            "over vendor text",
            [
                _at(shape, Stroke(p["name"], (0, 0), small, "sans"), "box", (x0, y0, x1, y1)),
                _at(
                    shape,
                    Stroke(p["id"], (0, 0), small, "mono"),
                    "box",
                    (x0, y0 + (y1 - y0) // 2, x1, y1),
                ),  # fmt: skip
            ],
        )


def _single_frame_scenes(bases, scenarios) -> Iterator[Scene]:
    """One scene per ``(scenario, strokes)`` that ``scenarios(base, shape, colour)`` yields
    for each base image, the strokes burned into its first frame."""
    for base in bases:
        template, frames, rep, palette = base_frames(base)
        frame = frames[0]
        shape = frame.shape[:2]
        vendor = _vendor_mask(base, shape)
        colour = frame.ndim == 3 or rep is Representation.PALETTE
        for scenario, strokes in scenarios(base, shape, colour):
            yield _burned_scene(base, template, frame, rep, palette, strokes, scenario, vendor)


def text_scenes(bases=BASES) -> Iterator[Scene]:
    """Every base image with every scenario of synthetic text (one frame each)."""
    return _single_frame_scenes(bases, _scenarios)


def random_scenes(per_base: int, seed: int = 0, bases=BASES) -> Iterator[Scene]:
    """``per_base`` scenes on each base image with one string placed at random: which string
    (a name, an ID, a date, a site, an accession number), font, size, colour, orientation and
    position are drawn from ``seed``.  The fixed scenarios (:func:`text_scenes`) are what the
    rules were tuned on; these are placements nobody looked at before measuring them."""
    kinds = ["sans", "mono", "serif", "bold", "narrow"]

    def placements(base: BaseImage, shape, colour: bool) -> Iterator[tuple[str, list[Stroke]]]:
        colours = ["bright", "bright", "grey:0.6", "grey:0.8", "faint", "dark"]
        if colour:
            colours += ["yellow", "cyan"]
        rng = random.Random(f"{base.key}-random-{seed}")
        small, _medium, large = _sizes(shape)
        for n in range(per_base):
            names = _names(rng)
            string = names[rng.choice(["name", "id", "dob", "site", "acc"])]
            rotate = rng.choice([0] * 8 + [90, 270])
            ink = rng.choice(colours)
            field = "light" if ink == "dark" and rng.random() < 0.3 else None
            stroke = _fits(
                shape,
                Stroke(string, (0, 0), rng.randint(small, large), rng.choice(kinds), rotate, ink,
                       field=field),
            )  # fmt: skip
            w, h = ink_size(stroke)
            pad = 6 if field else 2
            x = rng.randint(pad, max(pad, shape[1] - w - pad))
            y = rng.randint(pad, max(pad, shape[0] - h - pad))
            stroke = Stroke(**{**stroke.__dict__, "xy": (x, y)})
            yield (
                f"random {n}: {ink}{' on light' if field else ''}, {stroke.kind}"
                f" {stroke.size} px{f', {rotate} deg' if rotate else ''} at {x},{y}",
                [stroke],
            )

    return _single_frame_scenes(bases, placements)


def random_scene(key: str, seed: int, n: int) -> Scene:
    """The ``n``-th scene of :func:`random_scenes` on the base image ``key`` (the same whatever
    ``per_base`` it was drawn with)."""
    base = [b for b in BASES if b.key == key]
    return list(random_scenes(n + 1, seed, base))[n]


def drawn_scene(key: str, strokes: list[Stroke], scenario: str) -> Scene:
    """``strokes`` burned into the first frame of the base image ``key``, as a scene of its
    own (a placement chosen for a test, not one of the benchmark's)."""
    base = next(b for b in BASES if b.key == key)
    template, frames, rep, palette = base_frames(base)
    vendor = _vendor_mask(base, frames.shape[1:3])
    return _burned_scene(base, template, frames[0], rep, palette, strokes, scenario, vendor)


def _burned_scene(base, template, frame, rep, palette, strokes, scenario, vendor) -> Scene:
    """One frame of ``base`` with ``strokes`` burned in, as a single-frame scene."""
    burned, masks = burn(frame, rep, palette, strokes)
    return Scene(
        key=base.key,
        modality=base.modality,
        scenario=scenario,
        dataset=native_dataset(template, burned[np.newaxis]),
        before=burned[np.newaxis],
        strings=[(s.string, m[np.newaxis]) for s, m in zip(strokes, masks, strict=True)],
        vendor=vendor,
        hints=[s.string for s in strokes],
    )


def burn_frames(
    frames: np.ndarray,
    rep: Representation,
    palette,
    strokes: list[Stroke] | Callable[[int], list[Stroke]],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`burn` on every frame: the strokes (or, for text that changes like a clock, a
    function of the frame's index giving them); the burned frames and one mask per stroke
    (frames x rows x columns)."""
    out = np.empty_like(frames)
    masks: list[np.ndarray] = []
    for i, frame in enumerate(frames):
        these = strokes(i) if callable(strokes) else strokes
        out[i], frame_masks = burn(frame, rep, palette, these)
        if not masks:
            masks = [np.zeros(frames.shape[:3], bool) for _ in frame_masks]
        for mask, m in zip(masks, frame_masks, strict=True):
            mask[i] = m
    return out, masks


def cine_scene(frames: int = 30) -> Scene:
    """The colour echo cine with a name and an ID on every frame, at the same place (burned-in
    text does not move), one over the sector's speckle."""
    base = next(b for b in BASES if b.key == "us-echo")
    template, all_frames, rep, palette = base_frames(base)
    all_frames = all_frames[:frames]
    shape = all_frames.shape[1:3]
    rng = random.Random("cine")
    p = _names(rng)
    strokes = [
        _at(shape, Stroke(p["name"], (0, 0), 9, "sans"), "box", (44, 0, 180, 20)),
        _at(shape, Stroke("ID " + p["id"], (0, 0), 9, "mono"), "box", base.clear[0]),
    ]
    out, string_masks = burn_frames(all_frames, rep, palette, strokes)
    return Scene(
        key="us-echo-cine",
        modality="US cine",
        scenario=f"name and ID on {frames} frames",
        dataset=native_dataset(template, out),
        before=out,
        strings=[(s.string, m) for s, m in zip(strokes, string_masks, strict=True)],
        vendor=_vendor_mask(base, shape),
        hints=[s.string for s in strokes],
    )


def _variants(frame: np.ndarray, rng: random.Random) -> Iterator[tuple[str, np.ndarray]]:
    yield "original", frame
    yield "flipped left-right", frame[:, ::-1]
    yield "flipped up-down", frame[::-1]
    h, w = frame.shape[:2]
    ch, cw = int(h * 0.8), int(w * 0.8)
    for name, (y, x) in (("crop top-left", (0, 0)), ("crop bottom-right", (h - ch, w - cw))):
        yield name, frame[y : y + ch, x : x + cw]
    if frame.dtype.kind in "ui" and frame.ndim == 2:
        lo, hi = int(frame.min()), int(frame.max())
        scaled = (frame.astype(np.float64) - lo) * 0.6 + lo + rng.uniform(0, 0.2) * (hi - lo)
        yield "rescaled", np.clip(np.rint(scaled), lo, hi).astype(frame.dtype)


def text_free_scenes(bases=BASES) -> Iterator[Scene]:
    """Images without any text: monochrome originals and variants, ultrasound sector crops
    (every frame of the echo cine, flips of the others)."""
    for base in bases:
        template, frames, rep, palette = base_frames(base)
        rng = random.Random(base.key + "-clear")
        if not base.vendor:
            for name, variant in _variants(frames[0], rng):
                yield _clear_scene(base, template, variant[np.newaxis], name)
        for x0, y0, x1, y1 in base.clear:
            if frames.shape[0] > 1:
                for i, frame in enumerate(frames):
                    crop = frame[y0:y1, x0:x1]
                    yield _clear_scene(base, template, crop[np.newaxis], f"sector, frame {i}")
            else:
                crop = frames[0][y0:y1, x0:x1]
                for name, variant in _variants(crop, rng):
                    yield _clear_scene(base, template, variant[np.newaxis], f"sector {name}")


def _clear_scene(base: BaseImage, template, frames: np.ndarray, name: str) -> Scene:
    frames = np.ascontiguousarray(frames)
    return Scene(
        key=base.key,
        modality=base.modality,
        scenario=name,
        dataset=native_dataset(template, frames),
        before=frames,
        vendor=np.zeros(frames.shape[1:3], bool),
    )


# --- Judging ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    strings: list[tuple[str, float]]  # per string: fraction of its pixels changed
    text_pixels: int
    text_changed: int
    collateral: float  # fraction of judged non-text pixels changed
    boxes: int

    @property
    def strings_removed(self) -> int:
        return sum(1 for _s, f in self.strings if f >= 1.0)


def judge(scene: Scene, after: np.ndarray, boxes: int) -> Outcome:
    """Compare ``after`` (same shape as ``scene.before``) with the ground truth."""
    diff = scene.before != after
    if diff.ndim == 4:
        diff = diff.any(axis=3)
    text = scene.text_mask()
    kernel = np.ones((2 * MARGIN + 1, 2 * MARGIN + 1), np.uint8)
    judged = np.empty_like(text)
    vendor = None
    if scene.vendor is not None:  # the vendor's text gets the same margin as ours
        vendor = cv2.dilate(scene.vendor.view(np.uint8), kernel).view(bool)
    for i in range(text.shape[0]):
        near = cv2.dilate(text[i].view(np.uint8), kernel).view(bool)
        judged[i] = ~near
        if vendor is not None:
            judged[i] &= ~vendor
    # A string none of whose pixels the drawing changed (faint letters on a flat field of
    # nearly their ink) is not there to read, and is not counted either way.
    strings = [(s, float(diff[m].mean())) for s, m in scene.strings if m.any()]
    return Outcome(
        strings=strings,
        text_pixels=int(text.sum()),
        text_changed=int(diff[text].sum()),
        collateral=float(diff[judged].mean()) if judged.any() else 0.0,
        boxes=boxes,
    )


def text_scene(key: str, scenario: str) -> Scene:
    """The scene ``scenario`` drawn over the base image ``key``."""
    (scene,) = [
        s for s in text_scenes([b for b in BASES if b.key == key]) if s.scenario == scenario
    ]
    return scene


def cleaned(scene: Scene) -> Outcome:
    """The scene through ``clean_pixels``, judged against its drawn masks."""
    from archive.deid.pixels import clean_pixels

    result = clean_pixels(scene.dataset, hints=scene.hints)
    assert result.ok, result.reasons
    return judge(scene, decode(scene.dataset).frames, len(result.boxes))


def assert_removed_whole(outcome: Outcome, collateral: float | None = 0.01) -> None:
    """Every string's every pixel changed and, unless ``collateral`` is None, at most that
    share of the other pixels."""
    for string, changed in outcome.strings:
        assert changed == 1.0, f"{string}: {100 * (1 - changed):.1f}% of its pixels unchanged"
    if collateral is not None:
        assert outcome.collateral <= collateral, (
            f"{100 * outcome.collateral:.2f}% of the image changed"
        )
