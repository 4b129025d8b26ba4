"""The free-text PHI detector: third-party names, dates and numbers out, clinical text kept.

Every name, number and date here is synthetic (invented syllables, fictitious numbers).
"""

from __future__ import annotations

import random

import pytest

from archive.deid.freetext import REDACTED, find_phi, first_phi_category, redact_phi

# (text, what must disappear, category of the first finding)
PHI_PHRASES = [
    ("Seen by Dr. Kalomir Zuvetek", "Zuvetek", "person name"),
    ("Dr Zuvetek reviewed", "Zuvetek", "person name"),
    ("DR. ZUVETEK", "ZUVETEK", "person name"),
    ("MUDr. Kalomir Zuvetek, CSc.", "Zuvetek", "person name"),
    ("doc. MUDr. Ravena Tumiková, Ph.D.", "Tumiková", "person name"),
    ("Prof. Belquarek", "Belquarek", "person name"),
    ("Mrs. O'Xenbury", "O'Xenbury", "person name"),
    ("Mr Quabelov", "Quabelov", "person name"),
    ("Ms Saverin", "Saverin", "person name"),
    ("Ing. Pezolár", "Pezolár", "person name"),
    ("Bc. Mira Tukalová", "Tukalová", "person name"),
    ("Mgr. Zova Drubelová", "Drubelová", "person name"),
    ("Jana Quazelová, RN", "Quazelová", "person name"),
    ("Kalo Zuvetek MD", "Zuvetek", "person name"),
    ("Kalo Zuvetek M.D.", "Zuvetek", "person name"),
    ("nurse Pelira", "Pelira", "person name"),
    ("sestra Rubelová", "Rubelová", "person name"),
    ("Sister Mirabelka", "Mirabelka", "person name"),
    ("pan Xenobel", "Xenobel", "person name"),
    ("paní Xenobelová", "Xenobelová", "person name"),
    ("wife Tuvera called", "Tuvera", "person name"),
    ("his daughter, Kalina Vezolová", "Vezolová", "person name"),
    ("husband is Drumek", "Drumek", "person name"),
    ("Mother Zelvina present", "Zelvina", "person name"),
    ("manželka Kavera", "Kavera", "person name"),
    ("syn Pelomir přišel", "Pelomir", "person name"),
    ("dcera: Lukira", "Lukira", "person name"),
    ("otec Zubelan", "Zubelan", "person name"),
    ("matka Rovena", "Rovena", "person name"),
    ("DAUGHTER ZELVINA PRESENT", "ZELVINA", "person name"),
    ("Dictated by: Quabelov", "Quabelov", "person name"),
    ("Electronically signed by Kalo Zuvetek", "Zuvetek", "person name"),
    ("Signed: K. Zuvetek", "Zuvetek", "person name"),
    ("Reported by Dr Belquarek", "Belquarek", "person name"),
    ("Referring physician: Drumelik", "Drumelik", "person name"),
    ("Referring Dr. Kowazel", "Kowazel", "person name"),
    ("Popsal MUDr. Zuvetek", "Zuvetek", "person name"),
    ("Popsal Zuvetek", "Zuvetek", "person name"),
    ("Odesílající lékař: Černobel", "Černobel", "person name"),
    ("Discussed with Vezolová", "Vezolová", "person name"),
    ("Zyxwvuts^Qwertina", "Zyxwvuts", "person name"),
    ("Zuvetek, Kalomir", "Zuvetek", "person name"),
    ("2024-03-12", "2024-03-12", "date"),
    ("20240312", "20240312", "date"),
    ("on 12.3.2024", "12.3.2024", "date"),
    ("12. 3. 2024", "2024", "date"),
    ("12/03/24", "12/03/24", "date"),
    ("since 03/2024", "03/2024", "date"),
    ("12 March 2024", "March", "date"),
    ("March 12, 2024", "March", "date"),
    ("12th of March 2024", "March", "date"),
    ("12-Mar-2024", "Mar", "date"),
    ("12 MAR 2024", "MAR", "date"),
    ("12. března 2024", "března", "date"),
    ("12. brezna 2024", "brezna", "date"),
    ("v březnu 2024", "březnu", "date"),
    ("at 14:33", "14:33", "time of day"),
    ("2:30 pm", "2:30", "time of day"),
    ("+420 603 123 456", "603 123 456", "phone number"),
    ("(555) 019-9321", "019-9321", "phone number"),
    ("call 555-0199", "555-0199", "phone number"),
    ("tel. 603123456", "603123456", "phone number"),
    ("zuvetek@example.invalid", "zuvetek", "e-mail address"),
    ("MRN 12345", "12345", "identifier"),
    ("ID: 4711", "4711", "identifier"),
    ("RČ 470312/1234", "470312", "identifier"),
    ("SYNPID99173", "SYNPID99173", "identifier"),
    ("file 1234567", "1234567", "identifier"),
]

CLINICAL_PHRASES = [
    "Left lower lobe",
    "T2 FLAIR",
    "Series 3",
    "Series 3 Image 45",
    "C5-C6",
    "L4-L5 disc protrusion",
    "12 mm",
    "3.2 x 4.1 x 5.0 cm",
    "W 400 L 40",
    "MR BRAIN",
    "DR CHEST PA",
    "AXIAL 5MM",
    "CT CHEST W CONTRAST",
    "Crohn's disease",
    "Baker's cyst",
    "Morison's pouch",
    "Liver, Spleen, Kidneys normal",
    "Findings: Liver, Spleen normal",
    "Pneumothorax, right",
    "b=1000",
    "TE 90 ms. FLAIR",
    "Consistent with MS. Follow-up in 6 months",
    "Mother with breast cancer",
    "Father: MI at 50",
    "FAMILY HISTORY: MOTHER WITH BREAST CA",
    "Tumor 23 mm",
    "Area: 3.2 cm2",
    "DLP 450 mGy*cm",
    "120 kV 250 mAs",
    "Slice 1.25 mm",
    "Contrast 100 ml",
    "Ložisko v levém laloku plic 12 mm",
    "Stav po operaci",
    "1.5T",
    "Stenosis 50%",
    "Segment 7/8",
    "PI-RADS 4",
    "BI-RADS 3",
    "Lesion may 2",
    "nodule may measure 5 mm",
    "Gleason 3+4",
    "TNM T2N0M0",
    "1:1000 dilution",
    "Dose 12.5 mSv",
    "Referring Physician's Name",
    "Recording Observer's Name",
    "Reported by the patient",
    "Signed: the radiologist",
    "A mass of",
    "was detected.",
    "RITMO SINUSALE",
    "abdomen^liver",
    "Knee^KNEE_ROUTINE",
]


@pytest.mark.parametrize(("text", "secret", "category"), PHI_PHRASES)
def test_third_party_names_dates_and_numbers_are_found(
    text: str, secret: str, category: str
) -> None:
    cleaned = redact_phi(text)
    assert secret not in cleaned
    assert REDACTED in cleaned
    assert first_phi_category(text) == category


@pytest.mark.parametrize("text", CLINICAL_PHRASES)
def test_ordinary_radiology_text_is_untouched(text: str) -> None:
    assert find_phi(text) == []
    assert redact_phi(text) == text


def test_cue_words_stay_and_only_the_name_goes() -> None:
    assert redact_phi("wife Tuvera called") == f"wife {REDACTED} called"
    assert redact_phi("Dictated by: Quabelov") == f"Dictated by: {REDACTED}"
    assert redact_phi("Seen by Dr. Kalo Zuvetek on 12.03.2024 at 14:33.") == (
        f"Seen by {REDACTED} on {REDACTED} at {REDACTED}."
    )


def test_vendor_region_and_protocol_with_a_caret_is_not_a_name() -> None:
    assert redact_phi("Chest^CTA protocol") == "Chest^CTA protocol"
    assert redact_phi("Head^Routine") == "Head^Routine"
    assert redact_phi("Abdomen^01_Leber") == "Abdomen^01_Leber"
    assert redact_phi("Zyxwvuts^Qwertina") == REDACTED


_SYLLABLES = ["ka", "lo", "mi", "ra", "tu", "ve", "zo", "ni", "pe", "sa", "dru", "bel", "qua"]
_CUES = [
    "Dr. {n}", "MUDr. {g} {n}", "Prof. {n}", "Mrs. {n}", "doc. MUDr. {g} {n}, CSc.",
    "wife {g}", "his son {g}", "daughter: {g} {n}", "manželka {g}", "dcera {g}", "otec {g} {n}",
    "Dictated by {g} {n}", "Reported by Dr {n}", "Signed: {g} {n}", "Referring physician: {n}",
    "Popsal MUDr. {n}", "Odesílající lékař: {n}", "{n}^{g}", "{g} {n}, RN", "{n}, {g}",
    "Discussed with {n}", "nurse {g}", "pan {n}",
]  # fmt: skip
_CONTEXT = [
    ("Findings discussed with the team. ", " Follow-up CT in 3 months."),
    ("Small nodule in the left lower lobe, 4 mm. ", ""),
    ("", " agreed with the plan."),
    ("Pacient s ložiskem v pravém laloku, ", " informován."),
]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def test_generated_names_in_clinical_sentences_never_survive() -> None:
    """Deterministic fuzz: synthetic names behind every cue, in mixed case and in capitals,
    inside ordinary report sentences; a date and a phone number on the side."""
    rng = random.Random(20261130)
    for _ in range(600):
        family, given = _word(rng, 3) + rng.choice(["", "ová", "ek"]), _word(rng, 2)
        before, after = rng.choice(_CONTEXT)
        cue = rng.choice(_CUES).format(n=family, g=given)
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2030)
        date = rng.choice([f"{day}.{month}.{year}", f"{year}-{month:02d}-{day:02d}"])
        text = f"{before}{cue}{after} Seen {date}, tel. +420 {rng.randint(600, 799)} 123 456."
        if rng.random() < 0.25:
            text, family, given = text.upper(), family.upper(), given.upper()
        cleaned = redact_phi(text)
        assert family not in cleaned and str(year) not in cleaned, text
        assert "123 456" not in cleaned, text
        if given in cue:
            assert given not in cleaned, text
        assert redact_phi(cleaned) == cleaned  # idempotent: the marker matches nothing


def test_the_cheap_guards_skip_only_searches_that_find_nothing() -> None:
    """find_phi runs a pattern only when its guard allows; running every pattern on every
    text must find exactly the same spans."""
    from archive.deid import freetext

    def unguarded(text: str) -> set[tuple[int, int]]:
        names = freetext._NAMES_CAPITALS if text.isupper() else freetext._NAMES
        spans = set()
        everything = (*names, *freetext._DIGITS_ONLY, *freetext._WITH_WORDS)
        for pattern in (*everything, freetext._EMAIL_PATTERN):
            for m in pattern.regex.finditer(text):
                if pattern.check is None or pattern.check(text, m):
                    spans.add(m.span(pattern.group) if pattern.group else m.span())
        return spans

    rng = random.Random(7)
    texts = [t for t, _, _ in PHI_PHRASES] + CLINICAL_PHRASES
    texts += [
        rng.choice(_CUES).format(n=_word(rng, 3), g=_word(rng, 2)) + f" {rng.randint(1, 28)}.3.2024"
        for _ in range(200)
    ]
    for text in texts:
        found = {(f.start, f.end) for f in find_phi(text)}
        expected = unguarded(text)
        # find_phi merges overlapping spans: every unguarded span lies inside a found one.
        for start, end in expected:
            assert any(s <= start and end <= e for s, e in found), text
        assert bool(found) == bool(expected), text
