"""Facet definitions shared by every backend, the views and the API.

A facet's value is what is stored in the document (a choice code, a diagnosis name, a tag name);
its label is what people read. Unknown facets and values in a request are dropped, not errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from archive.models import AgeGroup, BodyRegion, Level, Modality, OrganSystem, Sex
from archive.vocabulary.selectors import hierarchy


@dataclass(frozen=True)
class FacetDefinition:
    name: str
    label: str
    # Value → label for coded facets; None for open vocabularies (diagnosis, tags).
    choices: Callable[[], Mapping[str, str]] | None = None
    multi_valued: bool = False
    max_values: int = 50
    # A level of a hierarchy: the facet one level up, and each value's value there.
    parent_facet: str = ""
    parent_of: Callable[[str], str] | None = None

    def label_for(self, value: str) -> str:
        if self.choices is None:
            return value
        return str(self.choices().get(value, value))

    def accepts(self, value: str) -> bool:
        if not value or len(value) > 200:
            return False
        return self.choices is None or value in self.choices()


def _choices(enum) -> Callable[[], Mapping[str, str]]:
    # Built once: every facet value of every search asks for its label (the labels are lazy
    # translations, read in the language of the request when shown).
    built: dict[str, str] = {}

    def choices() -> Mapping[str, str]:
        if not built:
            built.update(enum.choices)
        return built

    return choices


def _icd10_level(codes: str) -> Callable[[], Mapping[str, str]]:
    """Chapters or blocks of the ICD-10 catalogue: code → "code title" (built once per
    catalogue: every facet value of every search asks)."""
    built: dict[int, Mapping[str, str]] = {}

    def choices() -> Mapping[str, str]:
        tree = hierarchy()
        found = built.get(id(tree))
        if found is None:
            built.clear()
            found = {c: f"{c} {tree.title.get(c, '')}".strip() for c in getattr(tree, codes)}
            built[id(tree)] = found
        return found

    return choices


def _chapter_of_block(block: str) -> str:
    return hierarchy().chapter_of_block.get(block, "")


FACETS: tuple[FacetDefinition, ...] = (
    FacetDefinition("modality", _("Modality"), _choices(Modality)),
    FacetDefinition("body_region", _("Body region"), _choices(BodyRegion)),
    FacetDefinition("organ_system", _("Organ system"), _choices(OrganSystem)),
    FacetDefinition("diagnosis", _("Diagnosis")),
    # ICD-10 chapter → block: two levels counted like any facet (a case is counted under its
    # diagnosis's chapter and block); selecting blocks of one chapter narrows within it.
    FacetDefinition("icd_chapter", _("ICD-10 chapter"), _icd10_level("chapters")),
    FacetDefinition(
        "icd_block",
        _("ICD-10 block"),
        _icd10_level("blocks"),
        max_values=300,
        parent_facet="icd_chapter",
        parent_of=_chapter_of_block,
    ),
    FacetDefinition("level", _("Difficulty"), _choices(Level)),
    FacetDefinition("age_group", _("Patient age group"), _choices(AgeGroup)),
    FacetDefinition("sex", _("Sex"), _choices(Sex)),
    FacetDefinition("tags", _("Tags"), multi_valued=True),
)
FACETS_BY_NAME = {f.name: f for f in FACETS}
FACET_NAMES = tuple(FACETS_BY_NAME)


def parse_filters(params: Mapping) -> dict[str, tuple[str, ...]]:
    """Facet selections from a ``QueryDict`` (or a plain mapping of lists)."""
    out: dict[str, tuple[str, ...]] = {}
    for facet in FACETS:
        if hasattr(params, "getlist"):
            raw = params.getlist(facet.name)
        else:
            raw = params.get(facet.name) or []
            raw = [raw] if isinstance(raw, str) else list(raw)
        values = tuple(dict.fromkeys(v.strip() for v in raw if facet.accepts(v.strip())))
        if values:
            out[facet.name] = values[:20]
    return out
