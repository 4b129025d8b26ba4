"""The ICD-10 catalogue: loaded by the migrations from the pinned packages, with its hierarchy,
ICD-10-CM inclusion terms and the curated vocabulary, and kept by test database flushes."""

from __future__ import annotations

import pytest

from archive.models import Icd10Code, Icd10Term
from archive.vocabulary.loading import load_catalogue
from search.synonyms import curated_terms


@pytest.mark.django_db
def test_the_whole_who_classification_is_there_with_its_hierarchy():
    assert Icd10Code.objects.count() == 12542
    assert Icd10Code.objects.filter(kind="chapter").count() == 22
    assert Icd10Code.objects.filter(kind="block").count() == 274
    j93 = Icd10Code.objects.get(code="J93.1")
    assert (j93.title, j93.kind, j93.parent) == (
        "Other spontaneous pneumothorax",
        "subcategory",
        "J93",
    )
    assert (j93.block, j93.chapter) == ("J90-J94", "X")
    block = Icd10Code.objects.get(code="J90-J94")
    assert (block.kind, block.title) == ("block", "Other diseases of pleura")
    assert Icd10Code.objects.get(code="X").title == "Diseases of the respiratory system"


@pytest.mark.django_db
def test_inclusion_terms_narrower_terms_and_curated_names_are_terms():
    terms = set(Icd10Term.objects.filter(code="C22.0").values_list("term", "kind"))
    # ICD-10-CM's inclusion terms of the same code ...
    assert {("Hepatocellular carcinoma", "inclusion"), ("Hepatoma", "inclusion")} <= terms
    # ... the curated abbreviation and Czech name ...
    assert ("HCC", "abbreviation") in terms
    assert ("Hepatocelulární karcinom", "name") in terms
    # ... and "NOS" is dropped: what people type.
    j939 = set(Icd10Term.objects.filter(code="J93.9").values_list("term", "kind"))
    assert ("Pneumothorax", "inclusion") in j939
    # A CM code the WHO edition lacks gives its title to the nearest WHO code.
    j931 = set(Icd10Term.objects.filter(code="J93.1").values_list("term", "kind"))
    assert ("Primary spontaneous pneumothorax", "narrower") in j931
    # The British titles are also found in American spelling.
    assert Icd10Term.objects.filter(code="I60.9", term__icontains="hemorrhage").exists()
    assert Icd10Code.objects.get(code="J93.0").title_cs == "Tenzní pneumotorax"


def test_every_code_of_the_curated_vocabulary_is_a_diagnosis_of_the_catalogue(django_db_blocker):
    with django_db_blocker.unblock():
        known = set(
            Icd10Code.objects.filter(kind__in=["category", "subcategory"]).values_list(
                "code", flat=True
            )
        )
    rows = curated_terms()
    assert len(rows) > 300
    unknown = {t.icd10 for t in rows if t.icd10 and t.icd10 not in known}
    assert not unknown, f"not ICD-10 categories or subcategories: {sorted(unknown)}"
    for t in rows:
        assert t.lang in {"en", "cs"} and t.term and t.source, t
    # Every concept has its English name and a Czech name.
    concepts = {t.concept for t in rows}
    named = {(t.concept, t.lang) for t in rows if t.kind == "name"}
    assert all((c, "en") in named and (c, "cs") in named for c in concepts)


@pytest.mark.django_db(transaction=True)
def test_a_flush_between_tests_keeps_the_catalogue():
    # Transactional tests flush every managed table; the catalogue is reference data.
    assert Icd10Code.objects.filter(code="J93").exists()
    assert Icd10Term.objects.filter(code="J93").exists()


@pytest.mark.django_db(transaction=True)
def test_loading_again_replaces_the_catalogue_without_duplicates():
    codes, terms = load_catalogue()
    assert codes == Icd10Code.objects.count() == 12542
    assert terms == Icd10Term.objects.count()
    assert Icd10Term.objects.filter(code="J93", kind="title").count() == 1
