"""The verifier's fast searches find what the hint regexes find."""

from __future__ import annotations

import random

from pydicom import Dataset

from archive.deid import PhiHints, verify
from archive.deid.hints import HintCategoryValues


def _hints() -> PhiHints:
    return PhiHints(
        substrings={
            "HAUPTSTRASSE 12": HintCategoryValues.ADDRESS,
            "ZYXWVUTS": HintCategoryValues.PERSON_NAME,
            "20190704": HintCategoryValues.DATE,
            "2019-07-04": HintCategoryValues.DATE,
            "04.07.2019": HintCategoryValues.DATE,
            "QWE": HintCategoryValues.PERSON_NAME,
        },
        exact={"4711": HintCategoryValues.IDENTIFIER},
    )


def _bulk(text: bytes, size: int = 4096, seed: int = 0) -> bytes:
    data = bytearray(random.Random(seed).randbytes(size))
    data[1000 : 1000 + len(text)] = text
    return bytes(data)


def _regex_category(hints: PhiHints, data: bytes) -> str | None:
    assert hints.long_pattern is not None
    m = hints.long_pattern.search(data.decode("latin-1").upper())
    return hints.substrings[m.group(0)] if m else None


def test_bulk_search_agrees_with_the_regex_including_sharp_s() -> None:
    hints = _hints()
    for text in (b"hauptstra\xdfe 12", b"04.07.2019", b"zyxwvuts", b"zyxwvut", b"qwe", b""):
        for seed in range(20):
            data = _bulk(text, seed=seed)
            assert hints.search_long_bytes(data) == _regex_category(hints, data)


def test_residual_values_in_bulk_data_and_nested_text_are_reported() -> None:
    hints = _hints()
    ds = Dataset()
    ds.add_new(0x00291010, "OB", _bulk(b"Hauptstra\xdfe 12"))
    item = Dataset()
    item.TextValue = "seen on 2019-07-04"
    ds.ContentSequence = [item]
    ds.StudyDescription = "QWE"  # short hints match as whole tokens only
    ds.SeriesDescription = "QWERTY"
    reasons = verify(ds, hints)
    assert any("(0029,1010)" in r and "address" in r for r in reasons)
    assert any("TextValue" in r and "date" in r for r in reasons)
    assert any("StudyDescription" in r for r in reasons)
    assert not any("SeriesDescription" in r for r in reasons)
    for reason in reasons:
        assert "HAUPT" not in reason.upper() and "2019" not in reason
