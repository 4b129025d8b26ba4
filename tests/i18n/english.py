"""What counts as English left on a Czech page: one rule for the browser journey
(tests/browser/test_authoring_journey.py) and the page walk (tests/i18n/test_czech_pages.py).

A list of words of the English interface rather than a dictionary: whole words, any case, never
one Czech shares ("student", "to", "no", "on", "do", "by", "pan" – Mr. – and "a" are Czech
words; "test", "status" and "quiz"-less "kvíz" too). Names and codes (CT, MR, DICOM, MKN-10,
usernames) are no words of the list."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ENGLISH = re.compile(
    r"\b(the|and|with|this|series|image|images|case|cases|delete|comment|comments|publish|"
    r"unpublish|return|submit|start|students|caption|captions|search|review|upload|edit|"
    r"save|rename|move|history|findings|diagnosis|language|log out|my progress|axial|coronal|"
    r"sagittal|window|play|zoom|length|angle|invert|reset|download|key|"
    # Words every English sentence of the interface has one of.
    r"of|for|is|are|not|you|your|from|or|yes|has|have|can|cannot|will|there|here|what|"
    r"which|who|when|only|none|all|new|add|remove|change|view|show|hide|select|selected|"
    r"back|next|previous|more|cancel|close|open|answer|question|collection|collections|"
    r"class|classes|teacher|teachers|assignment|assignments|result|results|progress|"
    r"bookmark|bookmarks|page|password|username|user|users|title|date|draft|returned|"
    r"submitted|published|revision|revisions|file|files|uploads|anonymized|quiz|"
    r"filter|filters|action|actions|home|sign|login|logout|please|welcome|at|reason|"
    r"processed|label|created|updated|name|description|study|studies|uploaded|received|"
    r"failed|error|kept|discard|retry|node|nodes)\b",
    re.I,
)

#: Attributes a user reads or hears (tooltips, screen readers, placeholders, image text).
SHOWN_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class _Text(HTMLParser):
    """The text of a page as a user gets it: no scripts, styles or JSON data islands, and
    nothing marked as English on purpose (``lang="en"``: the switcher's "English")."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []  # tags whose content is skipped, innermost last

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._skip:
            if tag == self._skip[-1] and tag not in VOID:
                self._skip.append(tag)
            return
        lang = (attrs.get("lang") or "").lower()
        if tag in {"script", "style", "template"} or lang.startswith("en"):
            if tag not in VOID:
                self._skip.append(tag)
            return
        for name in SHOWN_ATTRIBUTES:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    """The page's text pieces (text nodes and shown attributes), in page order."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.parts


#: Not words of the interface, whatever the language: addresses (a placeholder's example
#: link) and the names printed on the keys of a keyboard (the presenter's shortcuts).
NOT_WORDS = re.compile(r"https?://\S+|\bPage (?:Up|Down)\b|\bHome/End\b")


def english_left(pieces: list[str] | str) -> list[str]:
    """The pieces of text holding an English word of the interface."""
    if isinstance(pieces, str):
        pieces = [pieces]
    return [p for p in pieces if ENGLISH.search(NOT_WORDS.sub(" ", p))]


def english_words(text: str) -> list[str]:
    return sorted({m.group(0).lower() for m in ENGLISH.finditer(text)})
