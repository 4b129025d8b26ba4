"""A light Czech stemmer: the database backends' stand-in for Elasticsearch's ``czech_stem``.

Dolamic & Savoy's light stemmer (as in Lucene's ``CzechStemmer``, which Elasticsearch's
``czech`` analyzer runs): it strips case endings and possessive suffixes and normalises the last
consonant, so "zlomenina", "zlomeniny" and "zlomeninou" share one stem. PostgreSQL has no Czech
dictionary and SQLite's FTS5 no Czech stemmer, so the database backends apply this to the Czech
names and synonyms of a diagnosis when a case is indexed, and to the words of a query (see
``search.synonyms``); free text in Czech is matched by whole words there (README: "Czech").
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "stem", "stem_folded"]

_CASE_ENDINGS = (
    (7, ("atech",)),
    (6, ("ětem", "etem", "atům")),
    (
        5,
        (
            "ech", "ich", "ích", "ého", "ěmi", "emi", "ému", "ěte", "ete", "ěti", "eti", "ího",
            "iho", "ími", "ímu", "imu", "ách", "ata", "aty", "ých", "ama", "ami", "ové", "ovi",
            "ými",
        ),
    ),
    (4, ("em", "es", "ém", "ím", "ům", "at", "ám", "os", "us", "ým", "mi", "ou")),
)  # fmt: skip
_VOWELS = set("aeiouůyáéíýě")


def fold(text: str) -> str:
    """Lower case without diacritics: "Žebra" → "zebra"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _remove_case(w: str) -> str:
    for longer_than, endings in _CASE_ENDINGS:
        if len(w) > longer_than and w.endswith(endings):
            return w[: -len(next(e for e in endings if w.endswith(e)))]
    if len(w) > 3 and w[-1] in _VOWELS:
        return w[:-1]
    return w


def _remove_possessive(w: str) -> str:
    if len(w) > 5 and w.endswith(("ov", "in", "ův")):
        return w[:-2]
    return w


def _normalise(w: str) -> str:
    if w.endswith("čt"):
        return w[:-2] + "ck"
    if w.endswith("št"):
        return w[:-2] + "sk"
    if w and w[-1] in "cč":
        return w[:-1] + "k"
    if w and w[-1] in "zž":
        return w[:-1] + "h"
    if len(w) > 1 and w[-2] == "e":
        return w[:-2] + w[-1]
    if len(w) > 2 and w[-2] == "ů":
        return w[:-2] + "o" + w[-1]
    return w


def stem(word: str) -> str:
    """The light stem of one lower-case Czech word (diacritics kept)."""
    w = _remove_possessive(_remove_case(word.lower()))
    return _normalise(w) if w else w


def stem_folded(word: str) -> str:
    """The stem without diacritics, so a query typed without them meets the same stem."""
    return fold(stem(word))
