"""The search contract: one mixin, run against every backend (a two-line subclass each).

A subclass sets ``backend_alias`` (a key of ``settings.SEARCH_BACKENDS``). Cases are created in
the database and indexed through the real service (``search.services.index_case``), exactly as
the Celery task does, then searched through ``search.services.search_cases``.
"""

from __future__ import annotations

import json

import pytest

from archive.models import Case
from search import services
from search.backends import get_search_backend, search_backends

from .conftest import CaseFactory, DiagnosisFactory


class SearchBackendContract:
    backend_alias: str = ""

    @pytest.fixture(autouse=True)
    def backend(self, db, settings, request):
        if self.backend_alias == "elasticsearch":
            request.getfixturevalue("elasticsearch_node")
        settings.SEARCH_BACKEND = self.backend_alias
        search_backends.reset()
        backend = get_search_backend()
        backend.clear()
        yield backend
        backend.clear()
        search_backends.reset()

    # helpers -----------------------------------------------------------------------------------
    def publish(self, **kwargs) -> Case:
        diagnosis = kwargs.pop("diagnosis", None)
        if isinstance(diagnosis, str):
            diagnosis = DiagnosisFactory(name=diagnosis)
        case = CaseFactory(diagnosis=diagnosis, **kwargs)
        services.index_case(case.pk)
        return case

    def search(self, text: str = "", **filters):
        filters = {k: tuple(v) if isinstance(v, list | tuple) else (v,) for k, v in filters.items()}
        get_search_backend().refresh()
        return services.search_cases(text=text, filters=filters)

    def ids(self, text: str = "", **filters) -> list[int]:
        return [r["id"] for r in self.search(text, **filters).results]

    @staticmethod
    def counts(page, facet: str) -> dict[str, int]:
        return {v["value"]: v["count"] for v in page.facets[facet]}

    # finding -----------------------------------------------------------------------------------
    def test_finds_by_diagnosis_and_text_fields(self):
        ptx = self.publish(diagnosis="Pneumothorax", title="Young smoker with chest pain")
        other = self.publish(
            diagnosis="Pleural effusion",
            findings="Meniscus sign at the right costophrenic angle.",
            tags=["trauma"],
        )
        assert self.ids("pneumothorax") == [ptx.pk]
        assert self.ids("smoker") == [ptx.pk]
        assert self.ids("costophrenic") == [other.pk]
        assert self.ids("trauma") == [other.pk]
        assert set(self.ids("")) == {ptx.pk, other.pk}

    def test_abbreviations_and_synonyms(self):
        hcc = self.publish(diagnosis="Hepatocellular carcinoma", body_region="abdomen")
        mi = self.publish(diagnosis="Myocardial infarction", body_region="cardiac")
        pe = self.publish(diagnosis="Pulmonary embolism")
        assert self.ids("HCC") == [hcc.pk]
        assert self.ids("hepatoma") == [hcc.pk]
        assert self.ids("MI") == [mi.pk]
        assert self.ids("heart attack") == [mi.pk]
        assert self.ids("PE") == [pe.pk]
        assert self.ids("pulmonary embolus") == [pe.pk]

    def test_synonyms_of_the_diagnosis_row(self):
        d = DiagnosisFactory(name="Hepatic adenoma", synonyms="Liver cell adenoma\nHCA")
        case = self.publish(diagnosis=d, body_region="abdomen")
        assert self.ids("HCA") == [case.pk]
        assert self.ids("liver cell adenoma") == [case.pk]

    def test_plurals_and_stems(self):
        frac = self.publish(diagnosis="Scaphoid fracture", body_region="upper_limb")
        pe = self.publish(diagnosis="Pulmonary embolism")
        assert self.ids("fractures") == [frac.pk]
        assert self.ids("fractured scaphoid") == [frac.pk]
        assert self.ids("embolisms") == [pe.pk]

    # synonym classes (search/data/synonyms.tsv and search/variants.py) --------------------------
    def test_radiology_abbreviations(self):
        gbm = self.publish(diagnosis="Glioblastoma", body_region="head")
        aaa = self.publish(diagnosis="Abdominal aortic aneurysm", body_region="abdomen")
        acl = self.publish(diagnosis="Anterior cruciate ligament tear", body_region="lower_limb")
        ddh = self.publish(diagnosis="Developmental dysplasia of the hip", body_region="pelvis")
        ptx = self.publish(diagnosis="Pneumothorax")
        assert self.ids("GBM") == [gbm.pk]
        assert self.ids("AAA") == [aaa.pk]
        assert self.ids("ACL tear") == [acl.pk]
        assert self.ids("DDH") == [ddh.pk]
        assert self.ids("PTX") == [ptx.pk]

    def test_lay_terms(self):
        ptx = self.publish(diagnosis="Pneumothorax")
        disc = self.publish(diagnosis="Intervertebral disc herniation", body_region="spine")
        stones = self.publish(diagnosis="Nephrolithiasis", body_region="abdomen")
        assert self.ids("collapsed lung") == [ptx.pk]
        assert self.ids("slipped disc") == [disc.pk]
        assert self.ids("kidney stones") == [stones.pk]

    def test_eponyms_with_and_without_the_possessive(self):
        crohn = self.publish(diagnosis="Crohn's disease", body_region="abdomen")
        hirsch = self.publish(diagnosis="Hirschsprung disease", body_region="abdomen")
        for q in ("Crohn's disease", "Crohns disease", "Crohn disease", "crohn’s"):
            assert self.ids(q) == [crohn.pk], q
        for q in ("Hirschsprung's disease", "Hirschsprungs disease"):
            assert self.ids(q) == [hirsch.pk], q

    def test_latin_and_greek_plurals(self):
        ptx = self.publish(diagnosis="Pneumothorax")
        mets = self.publish(diagnosis="Liver metastasis", body_region="abdomen")
        meckel = self.publish(diagnosis="Meckel's diverticulum", body_region="abdomen")
        pe = self.publish(diagnosis="Pulmonary embolism")
        hcc = self.publish(diagnosis="Hepatocellular carcinoma", body_region="abdomen")
        assert self.ids("pneumothoraces") == [ptx.pk]
        assert self.ids("liver metastases") == [mets.pk]
        assert self.ids("diverticula") == [meckel.pk]
        assert self.ids("pulmonary emboli") == [pe.pk]
        assert self.ids("hepatocellular carcinomata") == [hcc.pk]

    def test_british_and_american_spellings(self):
        sah = self.publish(diagnosis="Subarachnoid haemorrhage", body_region="head")
        sdh = self.publish(diagnosis="Subdural hematoma", body_region="head")
        oedema = self.publish(diagnosis="Pulmonary oedema")
        assert self.ids("subarachnoid hemorrhage") == [sah.pk]
        assert self.ids("subarachnoid haemorrhage") == [sah.pk]
        assert self.ids("subdural haematoma") == [sdh.pk]
        assert self.ids("pulmonary edema") == [oedema.pk]

    # Czech ---------------------------------------------------------------------------------------
    def test_czech_names_with_and_without_diacritics(self):
        # Czech names of the curated vocabulary ...
        tension = self.publish(diagnosis="Tension pneumothorax")
        ribs = self.publish(diagnosis="Rib fracture")
        for q in ("tenzní pneumotorax", "tenzni pneumotorax", "TENZNÍ PNEUMOTORAX"):
            assert self.ids(q) == [tension.pk], q
        for q in ("zlomenina žeber", "zlomenina zeber", "zlomenina žebra"):
            assert self.ids(q) == [ribs.pk], q
        # ... and of the diagnosis's own record.
        own = DiagnosisFactory(
            name="Balloon pneumothorax", name_cs="Balónový pneumotorax", synonyms_cs="BPNO"
        )
        balloon = self.publish(diagnosis=own)
        assert self.ids("balónový pneumotorax") == [balloon.pk]
        assert self.ids("balonovy pneumotorax") == [balloon.pk]
        assert self.ids("BPNO") == [balloon.pk]

    def test_czech_inflected_forms(self):
        # Stemmed where the backend has Czech stemming, by the stems indexed with the
        # diagnosis's Czech names in the database backends (search/czech.py).
        ribs = self.publish(diagnosis="Rib fracture")
        embolism = self.publish(diagnosis="Pulmonary embolism")
        assert self.ids("zlomeniny žeber") == [ribs.pk]
        assert self.ids("zlomeniny zeber") == [ribs.pk]
        assert self.ids("plicni embolii") == [embolism.pk]

    def test_autocomplete_in_the_users_language(self):
        self.publish(
            diagnosis=DiagnosisFactory(
                name="Tension pneumothorax", name_cs="Tenzní pneumotorax", icd10="J93.0"
            )
        )
        get_search_backend().refresh()
        assert services.suggest("tension") == [
            {"text": "Tension pneumothorax", "kind": "diagnosis"}
        ]
        czech = [{"text": "Tenzní pneumotorax", "kind": "diagnosis"}]
        assert services.suggest("tension", language="cs") == czech
        assert services.suggest("tenzn", language="cs") == czech
        assert services.suggest("tenzní", language="cs") == czech

    def test_typos(self):
        ptx = self.publish(diagnosis="Pneumothorax")
        hcc = self.publish(diagnosis="Hepatocellular carcinoma", body_region="abdomen")
        assert self.ids("pnuemothorax") == [ptx.pk]
        assert self.ids("pneumothoarx") == [ptx.pk]
        assert self.ids("hepatocelular carcinom") == [hcc.pk]
        assert self.ids("pneumothroax") == [ptx.pk]

    def archive_of_appearances(self) -> dict[str, list[Case]]:
        """Cases whose findings end "Appearances of <diagnosis>.", as teachers write them, and
        whose differentials name other diagnoses (the search benchmark's synthetic cases)."""
        made: dict[str, list[Case]] = {}
        for name, differential in (
            ("Appendicitis", "Mesenteric adenitis; Meckel's diverticulum"),
            ("Hepatocellular carcinoma", "Liver metastasis; Focal nodular hyperplasia"),
            ("Hepatocellular carcinoma", "Hepatic adenoma; Cholangiocarcinoma"),
            ("Pneumothorax", "Bulla; Skin fold"),
            ("Renal cell carcinoma", "Oncocytoma; Angiomyolipoma"),
            ("Breast carcinoma", "Fibroadenoma; Phyllodes tumour"),
            ("Pleural effusion", "Empyema; Haemothorax"),
            ("Appendiceal mucocele", "Cystadenoma; Abscess"),
        ):
            case = self.publish(
                diagnosis=name,
                findings=f"Mass lesion, enhancement and oedema. Appearances of {name.lower()}.",
                differential=differential,
                body_region="abdomen",
            )
            made.setdefault(name, []).append(case)
        return made

    def test_a_diagnosis_is_not_corrected_into_a_common_word(self):
        # "appendicitis" is a word the archive knows: it is not a typo of "appearances" (its
        # stem "append" is two edits from "appear"), so it finds the appendicitis case only,
        # not every case whose findings say "Appearances of …".
        made = self.archive_of_appearances()
        [appendicitis] = made["Appendicitis"]
        assert self.ids("appendicitis") == [appendicitis.pk]
        assert self.ids("Appendicitis") == [appendicitis.pk]
        assert self.ids("appearances") != [appendicitis.pk]
        assert len(self.ids("appearances")) == sum(len(c) for c in made.values())

    def test_an_abbreviation_is_never_corrected(self):
        made = self.archive_of_appearances()
        hcc = {c.pk for c in made["Hepatocellular carcinoma"]}
        assert set(self.ids("HCC")) == hcc
        assert set(self.ids("hcc")) == hcc
        # No other carcinoma is one letter away from the abbreviation of this one.
        assert set(self.ids("RCC")) == {c.pk for c in made["Renal cell carcinoma"]}
        # An abbreviation no case has finds nothing, not a word one letter away ("cards").
        self.publish(history="Collapsed while playing cards on the ward.")
        assert self.ids("ARDS") == []

    def test_a_typo_among_known_words_is_still_corrected(self):
        made = self.archive_of_appearances()
        [appendicitis] = made["Appendicitis"]
        [ptx] = made["Pneumothorax"]
        assert self.ids("pneumothroax") == [ptx.pk]
        assert self.ids("apendicitis") == [appendicitis.pk]
        assert self.ids("appendicits") == [appendicitis.pk]
        # A typo next to a correct word: the words still all count.
        assert self.ids("pleural efusion") == [made["Pleural effusion"][0].pk]

    def test_icd10_code(self):
        hcc = self.publish(
            diagnosis=DiagnosisFactory(name="Hepatocellular carcinoma", icd10="C22.0"),
            body_region="abdomen",
        )
        self.publish(diagnosis=DiagnosisFactory(name="Cholangiocarcinoma", icd10="C22.1"))
        assert self.ids("C22.0") == [hcc.pk]

    def test_diagnosis_matches_rank_first(self):
        mention = self.publish(
            diagnosis="Pleural effusion",
            title="Pneumothorax? Pneumothorax!",
            findings="No pneumothorax. Pneumothorax excluded. Pneumothorax was the question.",
            discussion="Pneumothorax versus effusion; pneumothorax is a differential.",
        )
        ptx = self.publish(diagnosis="Pneumothorax", title="Chest pain after a run")
        assert self.ids("pneumothorax") == [ptx.pk, mention.pk]

    def test_words_are_combined_with_and(self):
        ct = self.publish(diagnosis="Pneumothorax", modality="CT")
        self.publish(diagnosis="Pneumothorax", modality="CR", body_region="chest")
        assert self.ids("pneumothorax CT") == [ct.pk]

    # facets ------------------------------------------------------------------------------------
    def test_multi_select_facets(self):
        a = self.publish(diagnosis="Pneumonia", modality="CT", body_region="chest", tags=["icu"])
        b = self.publish(diagnosis="Pneumonia", modality="MR", body_region="chest")
        c = self.publish(diagnosis="Appendicitis", modality="US", body_region="abdomen")
        d = self.publish(
            diagnosis="Appendicitis", modality="CT", body_region="abdomen", tags=["icu", "child"]
        )
        page = self.search(modality=["CT", "MR"])
        assert page.total == 3
        assert {r["id"] for r in page.results} == {a.pk, b.pk, d.pk}
        # A facet's own selection does not narrow its counts; the others' selections do.
        assert self.counts(page, "modality") == {"CT": 2, "MR": 1, "US": 1}
        assert self.counts(page, "body_region") == {"chest": 2, "abdomen": 1}
        assert {v["value"] for v in page.facets["modality"] if v["selected"]} == {"CT", "MR"}

        page = self.search(modality="CT", body_region="chest")
        assert [r["id"] for r in page.results] == [a.pk]
        assert self.counts(page, "modality") == {"CT": 1, "MR": 1}
        assert self.counts(page, "body_region") == {"chest": 1, "abdomen": 1}
        assert self.counts(page, "diagnosis") == {"Pneumonia": 1}
        assert self.counts(page, "tags") == {"icu": 1}

        page = self.search(tags=["icu", "child"])
        assert {r["id"] for r in page.results} == {a.pk, d.pk}
        assert self.counts(page, "tags") == {"icu": 2, "child": 1}
        assert page.facets["modality"][0]["label"] == "CT"

        page = self.search("appendicitis", tags="child")
        assert [r["id"] for r in page.results] == [d.pk]
        assert self.counts(page, "tags") == {"icu": 1, "child": 1}
        assert c.pk not in [r["id"] for r in page.results]

    # the ICD-10 hierarchy -----------------------------------------------------------------------
    def coded(self, name: str, icd10: str, **kwargs) -> Case:
        return self.publish(diagnosis=DiagnosisFactory(name=name, icd10=icd10), **kwargs)

    def test_a_parent_code_or_block_finds_every_case_below_it(self):
        spontaneous = self.coded("Spontaneous pneumothorax", "J93.1")
        tension = self.coded("Tension pneumothorax", "J93.0")
        effusion = self.coded("Pleural effusion", "J90")
        pneumonia = self.coded("Pneumonia", "J18.9")
        assert set(self.ids("J93")) == {spontaneous.pk, tension.pk}
        assert self.ids("J93.1") == [spontaneous.pk]
        assert set(self.ids("J90-J94")) == {spontaneous.pk, tension.pk, effusion.pk}
        assert pneumonia.pk not in self.ids("J90-J94")

    def test_chapter_and_block_facets_count_per_level_with_multi_select(self):
        a = self.coded("Spontaneous pneumothorax", "J93.1")
        b = self.coded("Pleural effusion", "J90")
        c = self.coded("Pneumonia", "J18.9")
        d = self.coded("Appendicitis", "K35.8", body_region="abdomen")
        self.publish(diagnosis="Free text only")  # no code: in no chapter
        page = self.search("")
        assert self.counts(page, "icd_chapter") == {"X": 3, "XI": 1}
        assert self.counts(page, "icd_block") == {"J90-J94": 2, "J09-J18": 1, "K35-K38": 1}
        chapter = {v["value"]: v for v in page.facets["icd_chapter"]}["X"]
        assert chapter["label"] == "X Diseases of the respiratory system"
        block = {v["value"]: v for v in page.facets["icd_block"]}["J90-J94"]
        assert (block["label"], block["parent"]) == ("J90-J94 Other diseases of pleura", "X")
        # Drilling down: a chapter narrows the blocks' counts to its own.
        page = self.search("", icd_chapter="X")
        assert {r["id"] for r in page.results} == {a.pk, b.pk, c.pk}
        assert self.counts(page, "icd_block") == {"J90-J94": 2, "J09-J18": 1}
        assert self.counts(page, "icd_chapter") == {"X": 3, "XI": 1}
        # Several blocks: any of them.
        page = self.search("", icd_block=["J09-J18", "K35-K38"])
        assert {r["id"] for r in page.results} == {c.pk, d.pk}
        assert self.counts(page, "icd_block") == {"J90-J94": 2, "J09-J18": 1, "K35-K38": 1}
        assert self.counts(page, "icd_chapter") == {"X": 1, "XI": 1}
        # With text and another facet.
        page = self.search("pneumothorax", icd_block="J90-J94", modality="CT")
        assert [r["id"] for r in page.results] == [a.pk]
        assert self.ids("", icd_chapter="XI") == [d.pk]

    def test_paging(self):
        made = [self.publish(diagnosis="Pneumothorax") for _ in range(25)]
        first = self.search("pneumothorax")
        second = services.search_cases(text="pneumothorax", page=2)
        assert first.total == second.total == 25
        assert len(first.results) == 20 and len(second.results) == 5
        seen = {r["id"] for r in first.results} | {r["id"] for r in second.results}
        assert seen == {c.pk for c in made}

    # highlights --------------------------------------------------------------------------------
    def test_highlights_are_escaped_and_marked(self):
        self.publish(
            diagnosis="Pneumothorax",
            title="<script>alert(1)</script> tension pneumothorax & more",
            findings="Large left pneumothorax with mediastinal shift <b>bold</b>.",
        )
        [hit] = self.search("pneumothorax").results
        title = hit["highlights"]["title"]
        assert "<script>" not in title and "&lt;script&gt;" in title
        assert "<mark>pneumothorax</mark>" in title.lower()
        assert "&amp;" in title
        assert "<mark>" in hit["highlights"]["findings"]
        assert "<b>" not in hit["highlights"]["findings"]
        assert "<mark>pneumothorax</mark>" in hit["highlights"]["diagnosis"].lower()

    # autocomplete ------------------------------------------------------------------------------
    def test_autocomplete_diagnoses_and_tags(self, backend):
        self.publish(diagnosis="Pneumothorax", tags=["pneumology teaching"])
        self.publish(diagnosis="Pneumonia", tags=["trauma"])
        get_search_backend().refresh()
        texts = {(s["text"], s["kind"]) for s in services.suggest("pneu")}
        assert ("Pneumothorax", "diagnosis") in texts
        assert ("Pneumonia", "diagnosis") in texts
        assert ("pneumology teaching", "tag") in texts
        assert services.suggest("trau") == [{"text": "trauma", "kind": "tag"}]
        assert services.suggest("zzzz") == []

    # visibility --------------------------------------------------------------------------------
    def test_unpublished_cases_are_not_found(self):
        for status in (Case.Status.DRAFT, Case.Status.SUBMITTED, Case.Status.RETURNED):
            self.publish(diagnosis="Pneumothorax", status=status)
        assert self.ids("pneumothorax") == []
        assert self.search("").total == 0

    def test_unpublishing_removes_at_once(self):
        case = self.publish(diagnosis="Pneumothorax")
        assert self.ids("pneumothorax") == [case.pk]
        Case.objects.filter(pk=case.pk).update(status=Case.Status.RETURNED)
        services.index_case(case.pk)
        assert self.ids("pneumothorax") == []
        assert self.search("").total == 0
        assert services.suggest("pneu") == []

    def test_quiz_case_never_reveals_its_diagnosis(self):
        quiz = self.publish(
            diagnosis=DiagnosisFactory(
                name="Aortic dissection", icd10="I71.0", synonyms="Dissecting aneurysm"
            ),
            title="Quiz: aortic dissection in a marathon runner",
            history="Tearing chest pain radiating to the back.",
            findings="Intimal flap consistent with aortic dissection.",
            differential="Aortic dissection versus intramural haematoma",
            discussion="Stanford A dissection needs surgery.",
            quiz_mode=True,
            modality="CT",
            body_region="chest",
            tags=["emergency", "aortic dissection"],
        )
        self.publish(diagnosis="Pneumothorax", modality="CR")
        # Found by what the student may know before answering.
        assert quiz.pk in self.ids("tearing chest pain")
        assert quiz.pk in self.ids("", modality="CT")
        assert quiz.pk in self.ids("emergency")
        # Never by the diagnosis, its synonyms or code.
        for q in ("aortic dissection", "dissection", "dissecting aneurysm", "I71.0", "stanford"):
            assert quiz.pk not in self.ids(q), q
        page = self.search("", modality="CT")
        blob = json.dumps(page.as_json()).lower()
        assert "dissection" not in blob and "i71" not in blob
        [hit] = page.results
        assert hit["diagnosis"] is None
        assert "dissection" not in hit["title"].lower()
        assert self.counts(page, "diagnosis") == {}
        # Nor by its ICD-10 chapter or block (the block "I70-I79" narrows the answer down).
        assert self.counts(page, "icd_chapter") == {} and self.counts(page, "icd_block") == {}
        assert quiz.pk not in self.ids("I71") and quiz.pk not in self.ids("I70-I79")
        assert quiz.pk not in self.ids("", icd_chapter="IX")
        assert all("dissection" not in s["text"].lower() for s in services.suggest("aort"))
        assert all("dissection" not in s["text"].lower() for s in services.suggest("diss"))
        highlighted = self.search("chest pain").as_json()
        assert "dissection" not in json.dumps(highlighted).lower()
