"""Text clean-up shared by every story field: one normal form for downstream datasets."""

from __future__ import annotations

import re
import unicodedata

# Zero-width characters and soft hyphens: invisible on the page, noise in a dataset.
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str) -> str:
    """NFC, no invisible characters, white space (no-break spaces too) folded."""
    return " ".join(INVISIBLE.sub("", unicodedata.normalize("NFC", text)).split())


def clean_optional(text: str | None) -> str | None:
    """``clean_text`` for an optional field; an empty result becomes None."""
    if text is None:
        return None
    return clean_text(text) or None


def clean_lines(lines: list[str]) -> list[str]:
    """``clean_text`` on each line, dropping lines left empty."""
    return [cleaned for line in lines if (cleaned := clean_text(line))]
