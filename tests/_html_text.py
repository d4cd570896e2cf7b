"""What a reader sees of a page foncier writes: its text, popups and tooltips, embedded pages."""

from __future__ import annotations

import html
import json
import re

#: Words that must never reach a reader (missing values shown as such).
MISSING_WORDS = re.compile(r"(?<![\w.])(nan|None|NaN|<NA>|null|undefined)(?![\w])")
_EMBEDDED = re.compile(r'srcdoc="([^"]*)"', re.DOTALL)
_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_HIDDEN = re.compile(r"<(script|style|title)[^>]*>.*?</\1>", re.DOTALL | re.IGNORECASE)
#: Popup and tooltip texts of the map's GeoJSON features (JSON strings holding HTML).
_FEATURE_TEXT = re.compile(r'"(?:popup|tooltip)":\s*("(?:[^"\\]|\\.)*")')
_TAG = re.compile(r"<[^>]+>")


def text_of(fragment: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub(" ", fragment))


def visible_texts(page: str) -> list[str]:
    """Every piece of text a reader can see on a page, its popups and embedded pages."""
    texts: list[str] = []
    for embedded in _EMBEDDED.findall(page):
        texts += visible_texts(html.unescape(embedded))
    page = _EMBEDDED.sub("", page)
    for script in _SCRIPT.findall(page):
        texts += [text_of(json.loads(m)) for m in _FEATURE_TEXT.findall(script)]
    texts.append(text_of(_HIDDEN.sub(" ", page)))
    return texts


def missing_words(page: str) -> list[str]:
    """Each place where a missing value shows on the page, with some context."""
    hits = []
    for text in visible_texts(page):
        for m in MISSING_WORDS.finditer(text):
            hits.append(text[max(0, m.start() - 60) : m.end() + 20].replace("\n", " "))
    return hits
