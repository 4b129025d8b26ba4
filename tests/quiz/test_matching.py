"""Free-text answers: normalisation, synonyms, Czech name, ICD-10, typos; multiple choice."""

from __future__ import annotations

import pytest

from archive.models import Diagnosis
from archive.privacy import diagnosis_terms, normalise
from archive.services.quiz import answer_matches, differential_items, edit_distance


@pytest.fixture
def hcc() -> Diagnosis:
    return Diagnosis(
        name="Hepatocellular carcinoma",
        icd10="C22.0",
        synonyms="HCC\nHepatoma\n",
        name_cs="Hepatocelulární karcinom",
    )


def test_normalise_folds_case_diacritics_and_punctuation():
    assert normalise("  Hepatocelulární   KARCINOM! ") == "hepatocelularni karcinom"
    assert normalise("C22.0") == "c22 0"
    assert normalise("Crohn's disease") == "crohn s disease"


def test_edit_distance_counts_a_transposition_once():
    assert edit_distance("pneumothorax", "pnuemothorax") == 1
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("a", "abcdefgh", limit=2) == 3  # capped


@pytest.mark.parametrize(
    "answer",
    [
        "Hepatocellular carcinoma",
        "hepatocellular CARCINOMA.",
        "HCC",
        "hcc",
        "Hepatoma",
        "Hepatocelulární karcinom",
        "hepatocelularni karcinom",  # Czech without diacritics
        "C22.0",
        "c220",
        "Hepatocelular carcinoma",  # one typo
        "Hepatocellullar carcinom",  # two typos in long words
        "probably hepatocellular carcinoma in segment 7",
        "hepato-cellular carcinoma",
    ],
)
def test_accepted_answers(hcc, answer):
    assert answer_matches(answer, hcc)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   ",
        "cholangiocarcinoma",
        "HCA",  # abbreviations must be exact
        "carcinoma",
        "liver metastases",
        "no hepatocellular carcinoma",
        "C22.1",
        "Hepatocelluar krcnma",  # too many slips
    ],
)
def test_rejected_answers(hcc, answer):
    assert not answer_matches(answer, hcc)


def test_no_diagnosis_never_matches():
    assert not answer_matches("anything", None)


def test_terms_include_every_spelling(hcc):
    assert diagnosis_terms(hcc) == [
        "Hepatocellular carcinoma",
        "HCC",
        "Hepatoma",
        "Hepatocelulární karcinom",
        "C22.0",
    ]


def test_differential_lines_lose_bullets():
    from archive.models import Case

    case = Case(differential="- Focal nodular hyperplasia\n* Adenoma\n3. Metastasis;\n\n")
    assert differential_items(case) == ["Focal nodular hyperplasia", "Adenoma", "Metastasis"]
