"""Tags keep the case the teacher typed ("ICU", "LI-RADS") and match case-insensitively: a tag
typed as "icu" is the existing "ICU", never a second tag."""

from __future__ import annotations

from archive.models import Tag

MAX_LENGTH = 64


def tag_named(name: str) -> Tag | None:
    """The tag of this name in any case, created as written when there is none; None if blank."""
    name = " ".join(name.split())[:MAX_LENGTH]
    if not name:
        return None
    existing = Tag.objects.filter(name__iexact=name).order_by("pk").first()
    return existing or Tag.objects.get_or_create(name=name)[0]


def tags_from_text(text: str) -> list[Tag]:
    """The tags of a comma-separated list, each once (whatever its case), in the list's order."""
    tags: dict[int, Tag] = {}
    for part in text.split(","):
        tag = tag_named(part)
        if tag is not None:
            tags.setdefault(tag.pk, tag)
    return list(tags.values())


__all__ = ["tag_named", "tags_from_text"]
