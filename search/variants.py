"""Other ways of writing the same words: what doctors and students type for a term.

Every backend gets the same forms (``search.synonyms`` adds them to the synonym groups, to the
terms indexed with a diagnosis and to the words of a database query):

* British and American spellings: haemorrhage/hemorrhage, oedema/edema, oesophagus/esophagus,
  tumour/tumor, paediatric/pediatric, ischaemia/ischemia, necrotising/necrotizing...;
* Latin and Greek plurals: pneumothorax/pneumothoraces, embolus/emboli, metastasis/metastases,
  carcinoma/carcinomata, diverticulum/diverticula, vertebra/vertebrae, appendix/appendices,
  arthritis/arthritides, ganglion/ganglia;
* eponyms with and without the possessive: "Crohn's disease" = "Crohns disease" = "Crohn
  disease" (an apostrophe-s is dropped by the tokenizer, see :func:`strip_possessives`);
* the same words without diacritics (Czech typed on an English keyboard).

Rules, not lists of words, so a diagnosis a teacher adds tomorrow gets its forms too; a rule
may make a form nobody writes ("sini"), which then simply matches nothing.
"""

from __future__ import annotations

import re

from .czech import fold

__all__ = [
    "EPONYM_HEADS",
    "american",
    "plural_forms",
    "spelling_forms",
    "strip_possessives",
    "variants",
]

# (British, American) fragments; where "start" the fragment must begin the word.
_SPELLINGS: tuple[tuple[str, str, bool], ...] = (
    ("haem", "hem", True),
    ("ischaem", "ischem", False),
    ("aemia", "emia", False),
    ("aemic", "emic", False),
    ("paed", "ped", True),
    ("orthopaed", "orthoped", False),
    ("oedem", "edem", False),
    ("oesophag", "esophag", False),
    ("oestr", "estr", True),
    ("diarrhoea", "diarrhea", False),
    ("dyspnoea", "dyspnea", False),
    ("apnoea", "apnea", False),
    ("foet", "fet", True),
    ("coeliac", "celiac", False),
    ("caec", "cec", True),
    ("faec", "fec", True),
    ("aetiol", "etiol", True),
    ("gynaec", "gynec", False),
    ("anaesth", "anesth", False),
    ("leucocyt", "leukocyt", False),
    ("sulph", "sulf", False),
    ("tumour", "tumor", False),
    ("colour", "color", False),
    ("fibre", "fiber", False),
    ("centre", "center", False),
    ("litre", "liter", False),
    ("ising", "izing", False),
    ("isation", "ization", False),
    ("ised", "ized", False),
)

# (singular ending, plural ending), most specific first; each also read backwards.
_PLURALS: tuple[tuple[str, str], ...] = (
    ("thorax", "thoraces"),
    ("itis", "itides"),
    ("sis", "ses"),
    ("oma", "omata"),
    ("ma", "mata"),
    ("ix", "ices"),
    ("ex", "ices"),
    ("ax", "aces"),
    ("us", "i"),
    ("um", "a"),
    ("on", "a"),
    ("a", "ae"),
)
_MIN_WORD = 5

#: Words after which a name is an eponym: "Crohn disease", "Colles fracture".
EPONYM_HEADS = frozenset(
    "disease syndrome sign tumour tumor sarcoma lymphoma fracture cyst diverticulum palsy "
    "lesion phenomenon aneurysm ulcer node nodes".split()
)

_POSSESSIVE = re.compile(r"(\w)['’](?:s\b|(?=\s|$))", re.UNICODE)


def strip_possessives(text: str) -> str:
    """ "Crohn's disease" → "Crohn disease", "Graves' disease" → "Graves disease"."""
    return _POSSESSIVE.sub(r"\1", text or "")


def _spellings(word: str) -> tuple[str, str]:
    """(British, American) spelling of ``word``."""
    british, american = word, word
    for gb, us, at_start in _SPELLINGS:
        if at_start:
            if american.startswith(gb):
                american = us + american[len(gb) :]
            if british.startswith(us) and not british.startswith(gb):
                british = gb + british[len(us) :]
        else:
            american = american.replace(gb, us)
            if us in british and gb not in british:
                british = british.replace(us, gb)
    return british, american


def spelling_forms(word: str) -> list[str]:
    """The British and the American spelling of ``word`` (those different from it)."""
    return [w for w in dict.fromkeys(_spellings(word)) if w != word]


def plural_forms(word: str) -> list[str]:
    """Latin/Greek singular ↔ plural of ``word`` (and the English "-omas")."""
    if len(word) < _MIN_WORD or not word.isalpha():
        return []
    out, matched = [], []
    for singular, plural in _PLURALS:
        for have, make in ((plural, singular), (singular, plural)):
            # A general rule gives way to a specific one: "-omata" is not "-a" + "e".
            if word.endswith(have) and len(word) - len(have) >= 3:
                if not any(len(m) > len(have) and m.endswith(have) for m in matched):
                    out.append(word[: -len(have)] + make)
                    matched.append(have)
    if word.endswith("oma"):
        out.append(word + "s")
    elif word.endswith("omas"):
        out.append(word[:-1])
    return [w for w in dict.fromkeys(out) if w != word]


def _eponym_forms(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    out = []
    for i, (word, head) in enumerate(zip(words, words[1:], strict=False)):
        if head in EPONYM_HEADS and word.isalpha() and len(word) >= 3:
            other = word[:-1] if word.endswith("s") else word + "s"
            out.append((*words[:i], other, *words[i + 1 :]))
    return out


def variants(words: tuple[str, ...], *, czech: bool = False) -> list[tuple[str, ...]]:
    """Other forms of a phrase (lower-case words): spellings and plurals of each word, eponym
    possessives, and all of those without diacritics. ``words`` itself is not included. A
    Czech phrase (``czech``) gets only its form without diacritics: the English and Latin
    rules would make words Czech does not have."""
    if not words:
        return []
    forms: dict[tuple[str, ...], None] = {}
    if czech:
        forms[tuple(fold(w) for w in words)] = None
        forms.pop(words, None)
        return list(forms)
    for i, word in enumerate(words):
        for other in (*spelling_forms(word), *plural_forms(word)):
            forms[(*words[:i], other, *words[i + 1 :])] = None
    # Every word in one spelling at once ("haemorrhagic oedema" → "hemorrhagic edema").
    for spelling in (0, 1):
        forms[tuple(_spellings(w)[spelling] for w in words)] = None
    for form in [words, *forms]:
        for eponym in _eponym_forms(form):
            forms[eponym] = None
    for form in [words, *forms]:
        folded = tuple(fold(w) for w in form)
        forms[folded] = None
    forms.pop(words, None)
    return list(forms)


def american(words: tuple[str, ...]) -> tuple[str, ...]:
    """The phrase in American spelling (the WHO titles are British: "haemorrhage")."""
    return tuple(_spellings(w)[1] for w in words)
