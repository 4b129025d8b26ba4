"""What a quiz hides: every way of writing the diagnosis, masked by one function."""

from __future__ import annotations

import pytest

from archive.models import Diagnosis
from archive.privacy import hidden_terms, icd10_forms, mentions, redact

pytestmark = pytest.mark.django_db


@pytest.fixture
def hcc() -> Diagnosis:
    return Diagnosis(
        name="Hepatocellular carcinoma",
        icd10="C22.0",
        synonyms="HCC\nHepatoma\n",
        name_cs="Hepatocelulární karcinom",
    )


def test_redact_hides_terms_in_free_text(hcc):
    text = "Known hepatoma? Rule out HCC (c22.0); hepatocelularni karcinom in CS. HCCs stay."
    out = redact(text, hidden_terms(hcc), "***")
    assert out == "Known ***? Rule out *** (***); *** in CS. HCCs stay."


def test_long_terms_hide_their_inflections_and_survive_separators():
    ptx = Diagnosis(name="Pneumothorax", icd10="J93.1")
    text = "Bilateral pneumothoraxes; PNEUMO THORAX no; Pneumothorax-like? J93 and J931."
    out = redact(text, hidden_terms(ptx))
    assert "neumothorax" not in out.lower()
    assert "J93" not in out
    assert "PNEUMO THORAX" in out  # two other words, not the term


def test_icd10_code_hides_its_parent_category():
    assert icd10_forms("J93.1") == ["J93.1", "J931", "J93"]
    assert icd10_forms("j93") == ["J93"]
    assert icd10_forms("S72.001A") == ["S72.001A", "S72001A", "S72"]


def test_builtin_synonyms_and_abbreviations_are_hidden_too():
    # The record lists no synonym, but search knows "PTX" for pneumothorax.
    ptx = Diagnosis(name="Pneumothorax")
    terms = hidden_terms(ptx)
    assert "ptx" in [t.lower() for t in terms]
    assert mentions("Left PTX after line insertion", terms)
    assert not mentions("Left pleural effusion", terms)


def test_diacritics_and_case_are_folded():
    dx = Diagnosis(name="Tension pneumothorax", name_cs="Tenzní pneumotorax")
    assert redact("TENZNI PNEUMOTORAX vlevo", hidden_terms(dx)) == "▇▇▇ vlevo"
