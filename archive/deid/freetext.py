"""Names, dates and numbers in text a person wrote ("free-text PHI"), found by their shape.

Why this exists
---------------
The profile keeps some text that people type: SR and Key Object text values, the text objects of
graphic annotations (in images and in presentation states), the short descriptions kept by the
Clean Descriptors Option, and free-text attributes that Table E.1-1 does not list (see
:func:`archive.deid.profile.holds_free_text`).  The header hints (:mod:`archive.deid.hints`)
find only values that also stand in the same instance's header, so the name of a physician, a
relative or another patient typed into such text, or a date written in words, passed them.
This module finds such values by their *shape*, without knowing them (PS3.15 E.3.3 Clean
Graphics, E.3.4 Clean Structured Content, E.3.5 Clean Descriptors: "replace with values of
similar meaning known not to contain identifying information").

What it finds (:class:`FreeTextCategoryValues`)
-----------------------------------------------
- **person names** after a cue: an honorific or academic title, in English and Czech (Dr,
  Dr., MUDr., MDDr., Prof., Doc., Ing., Bc., Mgr., PhDr., Mr/Mrs/Ms/Miss, Sir, Herr/Frau,
  pan/paní), a role (nurse, sister, sestra, primář), a relative (wife, husband, son, daughter,
  mother, father, partner, brother, sister, manžel(ka), syn, dcera, matka, otec, bratr…), a
  signature or dictation line ("Dictated by", "Signed:", "Reported by", "Referring
  physician:", "Popsal", "Odesílající lékař:"…); a name followed by a postfix title (",
  MD", "RN", "Ph.D.", "CSc."); the DICOM PN form ``Family^Given``; a "Surname, Given" pair
  of capitalised words that are not clinical vocabulary;
- **dates**: ISO (``2024-03-12``), DICOM (``20240312``), ``12.3.2024``, ``12. 3. 2024``,
  ``12/03/24``, ``03/2024``, written months in English and Czech ("12 March 2024", "March
  12, 2024", "12-Mar-2024", "12. března 2024", "březen 2024");
- **times of day** (``14:33``, ``2:30 pm``);
- **phone numbers** (``+420 603 123 456``, ``(555) 019-9321``, ``555-0199``, after "tel."),
  **e-mail addresses**;
- **identifiers**: six or more digits in a row, letters followed by five or more digits
  (``MRN12345``), Czech birth numbers (``470312/1234``), a number after "ID", "MRN", "RČ"…

What it leaves alone
--------------------
Ordinary radiology text: anatomy and sequences ("Left lower lobe", "T2 FLAIR", "C5-C6"),
counts and measurements ("Series 3", "12 mm", "3.2 x 4.1 cm", "W 400 L 40"), modality
abbreviations ("MR BRAIN", "DR CHEST": an honorific in capitals needs its period), eponyms
("Crohn's disease"), lists of capitalised words ("Liver, Spleen, Kidneys").

Known limits: in text written in capitals, a comma pair of words that are not clinical
vocabulary ("FRACTURE, COMMINUTED") is taken for a name (text lost, nothing leaked).  A bare
name with no cue ("Novak agreed") is *not* found; the engine therefore keeps SR and annotation
text only when it is short and plain, and the header hints still apply (see
:mod:`archive.deid.engine`).

Used twice: the engine replaces every span found in kept free text with :data:`REDACTED`; the
verifier quarantines an instance whose kept free text still has a finding (its reason names the
element, never the text).  Nothing here logs or returns the text it matched except as spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "REDACTED",
    "FreeTextCategoryValues",
    "FreeTextFinding",
    "find_phi",
    "first_phi_category",
    "redact_phi",
]

REDACTED = "[removed]"
"""What a span found in free text is replaced with (readable for the teacher, matches nothing)."""


class FreeTextCategoryValues(StrEnum):
    """Kinds of value found in free text; safe to show (they carry no value)."""

    PERSON_NAME = "person name"
    DATE = "date"
    TIME = "time of day"
    PHONE = "phone number"
    EMAIL = "e-mail address"
    IDENTIFIER = "identifier"


@dataclass(frozen=True)
class FreeTextFinding:
    """A span of the searched text; ``text[start:end]`` is the value (never log it)."""

    start: int
    end: int
    category: FreeTextCategoryValues


_C = FreeTextCategoryValues

# Letters of Latin scripts (Basic Latin to Latin Extended-B: English, Czech, Slovak, German,
# Polish, Hungarian, French...), split by case: names start with a capital.
_UP = "".join(c for c in map(chr, range(0x41, 0x250)) if c.isalpha() and c.isupper())
_LOW = "".join(c for c in map(chr, range(0x61, 0x250)) if c.isalpha() and c.islower())

# Clinical words (lower case): a "Surname, Given" pair or a "Family^Given" form made of them
# is clinical text or a vendor's "Region^Protocol" descriptor, not a name.
_VOCABULARY = frozenset(
    (
        "left right bilateral anterior posterior superior inferior medial lateral proximal "
        "distal upper lower middle central peripheral axial coronal sagittal oblique frontal "
        "lung lungs liver spleen kidney kidneys pancreas gallbladder bladder brain chest abdomen "
        "pelvis head neck spine heart aorta stomach colon bowel thyroid prostate uterus ovary "
        "ovaries breast bone bones skull femur tibia humerus knee hip shoulder elbow wrist ankle "
        "hand foot lobe lobes segment vessels artery vein veins muscle muscles skin soft tissue "
        "mediastinum pleura pericardium adrenal adrenals lymph nodes thorax cervical thoracic "
        "lumbar sacrum sacral orbit orbits sinus sinuses face facial temporal pituitary cardiac "
        "vascular abdominal pelvic extremity extremities leg legs arm arms body whole angio "
        "routine protocol standard default localizer scout survey screening trauma emergency "
        "perfusion diffusion spectroscopy dynamic helical spiral sequential scan scans "
        "normal abnormal stable unchanged new old mild moderate severe small large multiple "
        "single no yes none negative positive benign malignant acute chronic likely possible "
        "findings impression conclusion history technique comparison contrast indication "
        "diagnosis recommendation note notes series image images study report procedure "
        "arterial venous portal delayed phase native enhanced pre post plain "
        "also however otherwise and or with without then further follow "
        "vpravo vlevo oboustranně plíce játra slezina ledviny mozek hrudník břicho pánev "
        "páteř srdce aorta nález závěr popis norma bez hlava krk koleno rameno kyčel "
        "kopf schädel becken wirbelsäule knie schulter leber niere lunge herz oberes unteres"
    ).split()
)


# Words that follow a cue but are not names: function words, roles, and the clinical words
# most often capitalised in reports (compared case-insensitively).
_NOT_NAME_WORDS = (
    # English function words and roles
    "a an and are as at be been by did died does for from had has have he her him his in is it "
    "its no not of on or she that the their them then there they this to was were who whom "
    "whose with also alive deceased aged age side history hx family patient pt patients "
    "physician physicians doctor doctors radiologist radiologists clinician name names report "
    "reports reported referring nurse nurses staff team unknown none see same other "
    # Czech function words and roles
    "je byl byla bylo má měl měla se si s z ze u v ve na do od po pro při k ke o a i nebo "
    "pacient pacienta pacientka pacientky lékař lékaře lékařka jméno zemřel zemřela žije "
    # clinical words and modalities that follow a title-like abbreviation
    "ct mr mri us pet spect rtg xr dx cr dr mg nm rf xa ecg ekg left right bilateral chest "
    "abdomen pelvis head neck brain spine lung lungs liver kidney heart breast bone axial "
    "coronal sagittal contrast findings impression conclusion technique comparison normal "
    "series image images study "
    # diagnoses abbreviated in capitals in family histories ("FATHER MI AT 50")
    "mi ca dm htn copd cad chf cva tia tb hiv als pe dvt af ckd ibd ra sle"
).split()
_NOT_NAME_SET = frozenset(_NOT_NAME_WORDS)


def _trie(words: set[str]) -> str:
    """An alternation of `words` factored by common prefixes ("an|and|are" -> "a(?:n(?:d)?|re)"):
    Python's ``re`` tries the branches of a plain alternation one by one at every position."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return group
        return f"(?:{group})?" if len(branches) == 1 else group + "?"

    return build(root)


_NOT_NAME = rf"(?i:{_trie({*_NOT_NAME_WORDS, *_VOCABULARY})}(?:['’]s)?(?![\w'’]))"

# Novák, O'Brien, Nováková-Smith, Smith's
_CAPITALISED = rf"(?:[{_UP}]['’])?[{_UP}][{_LOW}]+(?:-[{_UP}]?[{_LOW}]+)*(?:['’][{_LOW}]+)?"
_CAPITALS = rf"[{_UP}]{{2,}}(?:[-'’][{_UP}]{{2,}})*"  # NOVÁK (reports are often in capitals)
_INITIAL = rf"[{_UP}]\.[ \t]?"


def _name(capitals: bool) -> str:
    """One to three name words on one line, initials allowed ("J. R. Smith", "Jan Novák");
    words in capitals only with `capitals` (after a title, or in text written in capitals)."""
    word = rf"(?:{_CAPITALISED}|{_CAPITALS})" if capitals else _CAPITALISED
    return (
        rf"(?:{_INITIAL}){{0,2}}(?!{_NOT_NAME}){word}"
        rf"(?:[ \t]+(?:{_INITIAL})?(?!{_NOT_NAME}){word}){{0,2}}(?![\w'’])"
    )


# Honorifics and titles.  Forms written in capitals (DR, MR, MS, MRS) are also modality or
# disease abbreviations, so in capitals they count only with their period.
_TITLE_DOTTED = (
    r"(?:(?i:MUDr|MDDr|MVDr|PharmDr|PhDr|RNDr|JUDr|PaedDr|ThDr|ThLic|Ing|Bc|Mgr|Doc|Prof|Dr|Drs)"
    r"|Mr|MR|Mrs|MRS|Ms|MS|Mx)\."
)
# Without a period: abbreviations only as written ("Dr", not "DR": digital radiography), words
# in lower case, capitalised or in capitals.
_TITLE_WORDS = (
    "doctor professor miss sir dame herr frau nurse sister matron sestra sestřička primář "
    "primářka pan paní pana panu panem slečna slečny"
).split()
_TITLE_WORD = (
    r"(?:Dr|Prof|Mr|Mrs|Ms|Mx|"
    + "|".join(sorted({f(w) for w in _TITLE_WORDS for f in (str, str.capitalize, str.upper)}))
    + r")(?![\w.])"
)
_TITLE = rf"(?:{_TITLE_DOTTED}|{_TITLE_WORD})"
_POSTFIX = r"(?:MD|M\.D\.|RN|PhD|Ph\.D\.|CSc\.|DrSc\.|DiS\.|FRCR|FRCP|MBBS)(?![\w])"

_RELATIVE = (
    r"(?i:wife|husband|spouse|son|daughter|mother|father|mom|mum|dad|partner|brother|sister|"
    r"grandmother|grandfather|grandson|granddaughter|aunt|uncle|niece|nephew|cousin|"
    r"fianc[ée]e?|guardian|stepmother|stepfather|"
    r"manžel(?:ka|ky|ce|ku|kou|a|u|em|i|ovi)?|syn(?:a|ovi|em|u)?|dcer(?:a|y|e|i|u|ou)|"
    r"mat(?:ka|ky|ce|ku|kou)|ot(?:ec|ce|ci|cem)|bratr(?:a|ovi|em|u)?|sestr(?:a|y|e|u|ou)|"
    r"partner(?:ka|ky|ce|ku|kou|a|ovi|em)?|druh(?:a|em)?|družk(?:a|y|ou)|"
    r"babičk(?:a|y|ou)|dědeč(?:ek|ka|kem)|vnuk(?:a|em)?|vnučk(?:a|y|ou)|tet(?:a|y|ou)|"
    r"strýc(?:e|em)?|opatrovník(?:a|em)?)(?![\w])"
)
# A signature, dictation or referral cue; the name follows on the same line.
_SIGNED_BY = (
    r"(?i:(?:electronically[ \t]+)?(?:dictated|signed|e-signed|reported|reviewed|verified|"
    r"approved|read|transcribed|typed|referred|requested|ordered|interpreted|performed|"
    r"seen|examined|discussed)[ \t]+(?:by|with)"
    r"|popsal[a]?|diktoval[a]?|vyšetřil[a]?|podepsal[a]?|schválil[a]?|přepsal[a]?|"
    r"vypracoval[a]?|odeslal[a]?|indikoval[a]?|zapsal[a]?)"
    r"(?![\w])[ \t]*:?[ \t]*"
)
_ROLE_COLON = (
    r"(?i:signed|signature|radiologist|physician|referring(?:[ \t]+(?:physician|doctor|"
    r"clinician))?|referrer|attending|consultant|technologist|radiographer|reporter|author|"
    r"operator|nurse|cc|podpis|radiolog|lékař(?:ka)?|odesílající(?:[ \t]+lékař)?|"
    r"indikující(?:[ \t]+lékař)?|ošetřující(?:[ \t]+lékař)?|laborant(?:ka)?|sestra)"
    r"[ \t]*:[ \t]*"
)
_REFERRING = r"(?i:referring(?:[ \t]+(?:physician|doctor|clinician))?)[ \t]+"


def _name_patterns(capitals: bool) -> list[tuple[str, str]]:
    """Sources of the person-name patterns; `capitals`: for text written in capitals, where a
    name after a relative or a signature cue is in capitals too."""
    name, cued = _name(True), _name(capitals)
    # After a signature or relative cue, text in capitals writes titles without periods too.
    title = (
        rf"(?:{_TITLE}|(?:DR|MR|MRS|MS|PROF|DOC|ING|MUDR|MGR|BC)(?![\w.]))" if capitals else _TITLE
    )
    pair_word = rf"[{_UP}](?:[{_UP}]+|[{_LOW}]+)" if capitals else rf"[{_UP}][{_LOW}]+"
    return [
        # Titles (a chain: "doc. MUDr. Jan Novák"); the titles are removed with the name.
        ("title", rf"(?<![\w])(?:{_TITLE}[ \t]*){{1,4}}{name}"),
        # Name with a postfix title: "Jan Novák, CSc.", "Jane Doe RN".
        ("postfix", rf"(?<![\w]){cued}(?:,?[ \t]*){_POSTFIX}"),
        # Relative + name: "wife Marie", "his daughter, Eva Nováková", "manželka: Jana".
        ("relative", rf"(?<![\w]){_RELATIVE}(?:['’]s)?[ \t]*[:,\-–]?[ \t]*"
                     rf"(?:(?i:is|was|named|called|jménem)[ \t]+)?(?P<relname>{cued})"),
        # Signature lines and role labels.
        ("signed", rf"(?<![\w]){_SIGNED_BY}(?:{title}[ \t]*){{0,4}}(?P<signame>{cued})"),
        ("role", rf"(?<![\w]){_ROLE_COLON}(?:{title}[ \t]*){{0,4}}(?P<rolename>{cued})"),
        ("referring", rf"(?<![\w]){_REFERRING}(?:{title}[ \t]*){{0,4}}(?P<refname>{cued})"),
        # DICOM PN form.
        ("pn", rf"(?<![\w])[{_UP}{_LOW}][\w'’-]*\^[{_UP}{_LOW}][\w'’-]*(?:\^[\w'’.-]*){{0,3}}"
               rf"(?![\w^])"),
        # "Surname, Given" (lists and vocabulary are ruled out afterwards).
        ("pair", rf"(?<![\w])(?P<family>{pair_word}(?:-{pair_word})?),[ \t](?P<given>{pair_word})"
                 rf"(?![\w'’])"),
    ]  # fmt: skip


# Groups holding the name when the cue itself stays ("wife [removed]", "Dictated by [removed]").
_NAME_GROUPS = {"relative": "relname", "signed": "signame", "role": "rolename",
                "referring": "refname"}  # fmt: skip

_MONTHS_EN = (
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
).split()
_MONTHS_CS = (
    "leden ledna lednu únor února únoru březen března březnu duben dubna dubnu květen května "
    "květnu červen června červnu červenec července červenci srpen srpna srpnu září říjen října "
    "říjnu listopad listopadu prosinec prosince prosinci "
    # typed without diacritics
    "unor unora unoru brezen brezna breznu kveten kvetna kvetnu cerven cervna cervnu cervenec "
    "cervence cervenci zari rijen rijna rijnu"
).split()
# English month names are capitalised in dates ("may" is a verb); Czech ones are not.
_MONTH_FORMS = sorted(
    {*_MONTHS_EN, *(m.upper() for m in _MONTHS_EN), *_MONTHS_CS,
     *(m.capitalize() for m in _MONTHS_CS), *(m.upper() for m in _MONTHS_CS)},
    key=len, reverse=True,
)  # fmt: skip
_MONTH = r"(?:" + "|".join(map(re.escape, _MONTH_FORMS)) + r")(?![\w])\.?"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?:(?:19|20)\d{2}|['’]\d{2})"
_ORDINAL = r"(?:st|nd|rd|th|\.)?"
_UNIT_AHEAD = r"(?![ \t]*(?:mm|cm|ml|mg|kg|%|x|×|mSv|mGy|HU|kV|mAs)(?![\w]))"

_DATE_PATTERNS: list[str] = [
    # ISO and its relatives: 2024-03-12, 2024/3/12, 2024.03.12 (optionally with a time).
    r"(?<![\d.])(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])(?![\d])"
    r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?",
    # DICOM DA / DT: 20240312, 20240312143000.
    r"(?<![\d])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d{2,6}(?:\.\d{1,6})?)?"
    r"(?![\d])",
    # Day, month and year in numbers: 12.3.2024, 12. 3. 2024, 12/03/24, 3-12-2024.
    r"(?<![\w.,])(?:0?[1-9]|[12]\d|3[01])(?:\.[ \t]?|/|-)(?:0?[1-9]|[12]\d|3[01])"
    r"(?:\.[ \t]?|/|-)(?:(?:19|20)\d{2}|\d{2})(?![\d]|[.,]\d)",
    # Month and year in numbers: 03/2024, 3.2024.
    r"(?<![\d./-])(?:0?[1-9]|1[0-2])[./](?:19|20)\d{2}(?![\d]|[./-]\d)",
    # Written months: 12 March 2024, 12th of March, 12. března 2024, 12-Mar-2024.
    rf"(?<![\w.]){_DAY}{_ORDINAL}[ \t]*(?:of[ \t]+)?[-/]?{_MONTH}(?:,?[ \t]*[-/]?{_YEAR})?"
    rf"(?![\w])",
    # March 12, 2024; March 12th; Mar. 12 2024.
    rf"(?<![\w]){_MONTH}[ \t]*{_DAY}(?:st|nd|rd|th)?(?![\d]){_UNIT_AHEAD}(?:,?[ \t]*{_YEAR})?"
    rf"(?![\w])",
    # March 2024, březen 2024.
    rf"(?<![\w]){_MONTH},?[ \t]*{_YEAR}(?![\w])",
]
_TIME_PATTERNS: list[str] = [
    r"(?<![\d:.])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:[ \t]?(?i:[ap]\.?m\.?)(?![\w]))?(?![\d:])",
    r"(?<![\w.:])(?:1[0-2]|0?[1-9])[ \t]?(?i:[ap]\.m\.|[ap]m)(?![\w])",
]
_PHONE_PATTERNS: list[str] = [
    # After a cue: "tel. 603 123 456", "Phone: (555) 019-9321".
    r"(?i:tel|phone|telephone|mobile|mob|cell|fax|telefon|mobil)\.?[ \t]*(?i:č\.)?[ \t]*:?[ \t]*"
    r"\+?[\d(][\d \t()/.-]{4,}\d",
    # International: +420 603 123 456, 00420 603123456.
    r"(?<![\w+])(?:\+|00)\d{1,3}[ \t.-]?(?:\(\d{1,4}\)[ \t.-]?)?(?:\d[ \t.-]?){6,12}\d(?![\w])",
    # National: (555) 019-9321, 603 123 456, 0601-234-567 (nine digits or more, see below).
    r"(?<![\w.,])(?:\(\d{2,4}\)[ \t.-]?|\d{2,4}[ \t.-])\d{2,4}(?:[ \t.-]\d{2,4}){1,3}"
    r"(?![\w]|[.,]\d)",
    # Local: 555-0199.
    r"(?<![\w.,-])\d{3}-\d{4}(?![\w]|[.,-]\d)",
]
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_ID_PATTERNS: list[str] = [
    r"(?<!\d)\d{6}[ \t]?/[ \t]?\d{3,4}(?!\d)",  # Czech birth number (rodné číslo)
    r"(?<![\d.,])\d{6,}(?![\d])",  # six digits or more
    r"(?<![\w])[A-Za-z]{1,8}-?\d{5,}[A-Za-z0-9]*(?![\w])",  # MRN12345, SYNACC55219
    # A number after an identifier cue: "ID: 4711", "MRN 1234", "RČ 4703121234".
    r"(?<![\w])(?i:id|mrn|pid|acc(?:ession)?(?:[ \t]+(?:no|number))?|hospital[ \t]+number|"
    r"case[ \t]+no|patient[ \t]+no|rč|r\.[ \t]?č|č\.[ \t]?p\.)\.?[ \t]*[:#]?[ \t]*"
    r"(?=[A-Za-z0-9/-]*\d)[A-Za-z0-9/-]{4,}(?![\w])",
]


@dataclass(frozen=True)
class _Pattern:
    name: str
    category: FreeTextCategoryValues
    regex: re.Pattern[str]
    group: str | None = None
    check: Callable[[str, re.Match[str]], bool] | None = None
    # Whether the pattern may match at all, from the text, its words in lower case and their
    # beginnings (see _candidates): a cheap test that spares most texts the search.
    guard: Callable[[str, _Words], bool] | None = None


# A capitalised word and a comma before the pair, or a comma and one after: a list
# ("Liver, Spleen, Kidneys"), not a name.
_LIST_BEFORE = re.compile(rf"[{_UP}](?:[{_UP}]+|[{_LOW}]+),[ \t]*$")
_LIST_AFTER = re.compile(rf"[ \t]*,[ \t]*[{_UP}]")


def _pair_is_name(text: str, m: re.Match[str]) -> bool:
    """A "Surname, Given" pair, not clinical words and not part of a comma list."""
    if m.group("family").lower() in _VOCABULARY or m.group("given").lower() in _VOCABULARY:
        return False
    return not (_LIST_BEFORE.search(text, 0, m.start()) or _LIST_AFTER.match(text, m.end()))


def _pn_is_name(text: str, m: re.Match[str]) -> bool:
    """A ``Family^Given`` form whose parts are words, not all clinical vocabulary."""
    parts = [p for p in m.group(0).split("^") if p]
    if any(not p.replace("-", "").replace("'", "").replace("’", "").isalpha() for p in parts):
        return False  # "Abdomen^01_Leber": a protocol, not a name
    return not any(p.lower() in _VOCABULARY or p.lower() in _NOT_NAME_SET for p in parts)


def _enough_digits(text: str, m: re.Match[str]) -> bool:
    """National phone numbers have nine digits or more (fewer are measurements or counts)."""
    return sum(c.isdigit() for c in m.group(0)) >= 9


class _Words(NamedTuple):
    """The words of a text in lower case, and every beginning of them of 2 to 12 letters."""

    words: frozenset[str]
    starts: frozenset[str]


class _Stems:
    """Whether a word of the text starts with one of the stems (lower case)."""

    def __init__(self, stems: str) -> None:
        self.stems = frozenset(stems.split())
        assert all(2 <= len(stem) <= _LONGEST_STEM for stem in self.stems)

    def __call__(self, text: str, words: _Words) -> bool:
        return not words.starts.isdisjoint(self.stems)


_LONGEST_STEM = 12
_TITLE_STEMS = _Stems(
    "mudr mddr mvdr pharmdr phdr rndr judr paeddr thdr thlic ing bc mgr doc prof dr drs mr mrs "
    "ms mx doctor professor miss sir dame herr frau nurse sister matron sestr primář pan paní "
    "slečn"
)
_POSTFIX_WORDS = frozenset("md rn phd ph csc drsc dis frcr frcp mbbs".split())
_RELATIVE_STEMS = _Stems(
    "wife husband spouse son daughter mother father mom mum dad partner brother sister grand "
    "aunt uncle niece nephew cousin fianc guardian step manžel syn dcer mat ot bratr sestr druh "
    "družk babičk dědeč vnuk vnučk tet strýc opatrovník"
)
_SIGNED_STEMS = _Stems(
    "dictated signed reported reviewed verified approved read transcribed typed referred "
    "requested ordered interpreted performed seen examined discussed popsal diktoval vyšetřil "
    "podepsal schválil přepsal vypracoval odeslal indikoval zapsal"
)
_ROLE_STEMS = _Stems(
    "signed signature radiolog physician referr attending consultant technologist radiographer "
    "reporter author operator nurse cc podpis lékař odesílající indikující ošetřující laborant "
    "sestr"
)
_PAIR = re.compile(rf"[{_UP}](?:[{_LOW}]+|[{_UP}]+),[ \t][{_UP}]")
_NAME_GUARDS: dict[str, Callable[[str, _Words], bool]] = {
    "title": _TITLE_STEMS,
    "postfix": lambda text, words: "M.D" in text or not words.words.isdisjoint(_POSTFIX_WORDS),
    "relative": _RELATIVE_STEMS,
    "signed": _SIGNED_STEMS,
    "role": lambda text, words: ":" in text and _ROLE_STEMS(text, words),
    "referring": lambda text, words: "referring" in words.words,
    "pn": lambda text, words: "^" in text,
    "pair": lambda text, words: _PAIR.search(text) is not None,
}


def _compile_names(capitals: bool) -> tuple[_Pattern, ...]:
    return tuple(
        _Pattern(
            name,
            _C.PERSON_NAME,
            re.compile(source),
            _NAME_GROUPS.get(name),
            {"pair": _pair_is_name, "pn": _pn_is_name}.get(name),
            _NAME_GUARDS[name],
        )
        for name, source in _name_patterns(capitals)
    )


def _numbers(
    sources: list[str],
    category: FreeTextCategoryValues,
    guard: Callable[[str, _Words], bool] | None = None,
) -> list[_Pattern]:
    return [_Pattern(str(category), category, re.compile(p), guard=guard) for p in sources]


_MONTH_WORDS = frozenset(m.lower() for m in (*_MONTHS_EN, *_MONTHS_CS))
_NUMBER_CUES = frozenset(
    "am pm a p tel phone telephone mobile mob cell fax telefon mobil id mrn pid acc accession "
    "hospital case patient rč r č".split()
)


def _has_month(text: str, words: _Words) -> bool:
    return not words.words.isdisjoint(_MONTH_WORDS)


def _has_number_cue(text: str, words: _Words) -> bool:
    return not words.words.isdisjoint(_NUMBER_CUES)


_NAMES = _compile_names(capitals=False)
_NAMES_CAPITALS = _compile_names(capitals=True)
# Number patterns by what must be in the text besides a digit: nothing more, a month name, or a
# cue word (tel., ID, am/pm).
_DIGITS_ONLY = tuple(
    _numbers(_DATE_PATTERNS[:4], _C.DATE)
    + _numbers(_TIME_PATTERNS[:1], _C.TIME)
    + [
        _Pattern(str(_C.PHONE), _C.PHONE, re.compile(p), None, _enough_digits if i == 1 else None)
        for i, p in enumerate(_PHONE_PATTERNS[1:])
    ]
    + _numbers(_ID_PATTERNS[:3], _C.IDENTIFIER)
)
_WITH_WORDS = tuple(
    _numbers(_DATE_PATTERNS[4:], _C.DATE, _has_month)
    + _numbers(_TIME_PATTERNS[1:], _C.TIME, _has_number_cue)
    + _numbers(_PHONE_PATTERNS[:1], _C.PHONE, _has_number_cue)
    + _numbers(_ID_PATTERNS[3:], _C.IDENTIFIER, _has_number_cue)
)
_EMAIL_PATTERN = _Pattern("email", _C.EMAIL, re.compile(_EMAIL))
# One search tells whether any of them may match (most texts with a digit, such as "Series 3"
# or "AXIAL 5MM", match none); the patterns then run one by one for the spans.
_ANY_DIGITS_ONLY = re.compile("|".join(f"(?:{p.regex.pattern})" for p in _DIGITS_ONLY))

_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")


def _candidates(text: str) -> list[_Pattern]:
    """The patterns that may match `text`, by their guards."""
    lower = frozenset(_WORD.findall(text.lower()))
    words = _Words(
        lower,
        frozenset(w[:n] for w in lower for n in range(2, min(len(w), _LONGEST_STEM) + 1)),
    )
    names = _NAMES_CAPITALS if text.isupper() else _NAMES
    patterns = [p for p in names if p.guard is None or p.guard(text, words)]
    if _DIGIT.search(text):
        if _ANY_DIGITS_ONLY.search(text):
            patterns += _DIGITS_ONLY
        patterns += [p for p in _WITH_WORDS if p.guard is None or p.guard(text, words)]
    if "@" in text:
        patterns.append(_EMAIL_PATTERN)
    return patterns


def find_phi(text: str) -> list[FreeTextFinding]:
    """Spans of `text` that look like a person name, date, time, phone number, e-mail address
    or identifier, sorted and merged where they overlap.

    Parameters
    ----------
    text : str
        One value of a free-text element, as decoded (case matters: names are capitalised).

    Returns
    -------
    list of FreeTextFinding
        Empty when nothing was found.
    """
    if not text:
        return []
    found: list[FreeTextFinding] = []
    for pattern in _candidates(text):
        for m in pattern.regex.finditer(text):
            if pattern.check is not None and not pattern.check(text, m):
                continue
            start, end = m.span(pattern.group) if pattern.group else m.span()
            if end > start:
                found.append(FreeTextFinding(start, end, pattern.category))
    if not found:
        return []
    found.sort(key=lambda f: (f.start, -f.end))
    merged = [found[0]]
    for finding in found[1:]:
        last = merged[-1]
        if finding.start < last.end:
            if finding.end > last.end:
                merged[-1] = FreeTextFinding(last.start, finding.end, last.category)
            continue
        merged.append(finding)
    return merged


def first_phi_category(text: str) -> FreeTextCategoryValues | None:
    """Category of the first span :func:`find_phi` finds in `text`, or ``None``."""
    found = find_phi(text)
    return found[0].category if found else None


def redact_phi(text: str) -> str:
    """`text` with every span :func:`find_phi` finds replaced by :data:`REDACTED`.

    Idempotent: the marker matches no pattern, so redacting again changes nothing.
    """
    found = find_phi(text)
    if not found:
        return text
    parts: list[str] = []
    position = 0
    for finding in found:
        parts.append(text[position : finding.start])
        parts.append(REDACTED)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)
