"""Normal forms shared by every stage: of text, of URLs, of language tags.

A story's text has two: ``clean_text``, the form a dataset gets (NFC, no invisible
characters, single spaces), and ``normalize``, the form texts are compared in (repeats on
a page, story ids, fingerprints): NFC, case-folded, straight quotes, single spaces.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dateparser.data import languages_info

# Zero-width characters and soft hyphens: invisible on the page, noise in a dataset.
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"'})
_CURLY = re.compile("[‘’‚‛“”„]")  # str.translate walks every character: look first
# Query parameters that only track where a reader came from; they never change a story.
TRACKING_PARAMETERS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref|ref_src|"
    r"cmpid|ocid|share|s_cid|__twitter_impression)$",
    re.IGNORECASE,
)
_DATEPARSER_LANGUAGES = frozenset(languages_info.language_order)


def clean_text(text: str) -> str:
    """NFC, no invisible characters, white space (no-break spaces too) folded."""
    if not text.isascii():  # ASCII text is NFC, with no invisible character
        text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def clean_optional(text: str | None) -> str | None:
    """``clean_text`` for an optional field; an empty result becomes None."""
    if text is None:
        return None
    return clean_text(text) or None


def clean_lines(lines: list[str]) -> list[str]:
    """``clean_text`` on each line, dropping lines left empty."""
    return [cleaned for line in lines if (cleaned := clean_text(line))]


@lru_cache(maxsize=2048)  # a site's menus, footers and appended stories stand on every page
def normalize(text: str) -> str:
    """Text as compared for repeats: NFC, case-folded, straight quotes, single spaces."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        if _CURLY.search(text):
            text = text.translate(QUOTES)
    return " ".join(text.casefold().split())


def clean_url(url: str) -> str:
    """``url`` without tracking parameters, fragment, default port or trailing slash."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = sorted((k, v) for k, v in query if not TRACKING_PARAMETERS.match(k))
    netloc = parts.netloc.lower()
    if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, urlencode(kept), ""))


def language_code(tag: str) -> str:
    """The language of a language tag: ``de-AT``, ``pt_BR`` and ``EN`` read as de, pt, en."""
    return tag.strip().replace("_", "-").split("-")[0].lower()


def known_language(code: str) -> bool:
    """Can times be read in this language (a dateparser language code such as ``de``)?
    Looked up in dateparser's list: loading the language would cost far more."""
    return code in _DATEPARSER_LANGUAGES
