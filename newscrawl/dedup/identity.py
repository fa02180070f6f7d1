"""Story identity: which story a record is (its key) and what it says (its fingerprint).

Pure functions. The key comes from the best evidence the page gave; the fingerprint
from the story's normalized text, so it stays the same when only volatile text changes
(the ``Updated ... ago`` line, white space, quote styles).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from newscrawl.text import clean_url, normalize

# Relative times ("35 min 7 sec ago") change from fetch to fetch; "2 hours" in a
# sentence does not, and stays part of the story.
RELATIVE_TIME = re.compile(
    r"\b(?:\d+\s*(?:sec|second|min|minute|hour|hr|day|week|month|year)s?\s*)+ago\b",
    re.IGNORECASE,
)
SHINGLE_WORDS = 5


def story_key(record: Mapping[str, Any]) -> str:
    """The story's identity, from the best evidence the record holds.

    The site's own article id (``arabnews:2600001``), else the story's own URL, else
    the page's canonical URL for the page's first story, else its id (a hash of site,
    normalized title and first paragraph).
    """
    story_id = str(record["id"])
    if ":sha256:" not in story_id:
        return story_id
    url = record.get("url")
    if url:
        return f"{record['site']}:url:{clean_url(str(url))}"
    return story_id


def _volatile_free(text: str) -> str:
    if "ago" in text.lower():  # what RELATIVE_TIME needs (most text has none: a quick look)
        text = RELATIVE_TIME.sub(" ", text)
    return normalize(text)


def fingerprint(record: Mapping[str, Any]) -> str:
    """A hash of what the story says: title, summary, dateline, body, caption.

    Times are left out (an ``Updated ... ago`` line changes on every fetch), and the
    text is normalized (case, white space, quote styles, relative-time digits).
    """
    parts: list[str] = [str(record.get("title") or "")]
    parts += [str(s) for s in record.get("summary") or []]
    parts.append(str(record.get("dateline") or ""))
    parts += [str(p) for p in record.get("body") or []]
    parts.append(str(record.get("caption") or ""))
    return _fingerprint(tuple(parts))


# A story is asked for its fingerprint again and again: once on each page that carries
# it (a site appends the same few stories to many pages), and by each stage.
@lru_cache(maxsize=256)
def _fingerprint(parts: tuple[str, ...]) -> str:
    text = "\x1e".join(_volatile_free(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def shingles(paragraphs: Iterable[str], size: int = SHINGLE_WORDS) -> set[bytes]:
    """Overlapping word n-grams of the normalized text, for near-duplicate sketches."""
    words = _volatile_free(" ".join(paragraphs)).split()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}
