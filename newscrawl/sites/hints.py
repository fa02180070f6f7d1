"""What a site profile may tell the story splitter (``newscrawl.stories.split``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class SplitHints:
    """What a site profile may tell the splitter. The defaults fit Arab News."""

    # Widget lines that are never story text (compared case-insensitively).
    widget_lines: frozenset[str] = frozenset(
        {
            "short url", "follow", "share", "print", "email", "comments", "read more",
            "whatsapp", "advertisement", "story continues below advertisement",
            "continue reading below", "skip advertisement", "watch live",
        }
    )  # fmt: skip
    # Class-name words (split on - and _) that mark widgets and page furniture.
    widget_classes: frozenset[str] = frozenset(
        {
            "share", "sharing", "social", "follow", "newsletter", "subscribe", "related",
            "ad", "advert", "advertisement", "ads", "promo", "breadcrumb", "breadcrumbs",
            "comment", "comments", "cookie", "cookies", "consent", "gdpr",
        }
    )  # fmt: skip
    # Class-name words of a section that is furniture at any depth below what holds the
    # headline: comments ("comments-area", "commentlist", a comment's "li.comment"),
    # cookie banners and pop-ups, author bios, most-popular and related-story lists,
    # copyright notices.
    section_classes: frozenset[str] = frozenset(
        {
            "comment", "comments", "commentlist", "cookie", "cookies", "consent", "gdpr",
            "popup", "modal", "bio", "popular", "copyright", "related",
        }
    )  # fmt: skip
    # Class-name words that mark a story's summary (standfirst) lines.
    summary_classes: frozenset[str] = frozenset(
        {"summary", "standfirst", "excerpt", "teaser", "lead", "lede", "bullets", "highlights"}
    )
    # Elements that are page furniture, never a story.
    furniture_tags: frozenset[str] = frozenset({"nav", "footer", "aside", "form"})
    # Lines of the same text this close (in non-blank lines) belong to one header zone.
    window: int = 14

    def adding(self, **more: Sequence[str]) -> SplitHints:
        """These hints with more words in the named sets (a site's own widget lines and
        classes come on top of the defaults, they do not replace them)."""
        known = {f.name for f in fields(self) if isinstance(getattr(self, f.name), frozenset)}
        if unknown := sorted(set(more) - known):
            raise ValueError(f"unknown split hint(s): {', '.join(unknown)}")
        return replace(
            self,
            **{
                name: getattr(self, name) | {word.casefold() for word in words}
                for name, words in more.items()
            },
        )


DEFAULT_HINTS = SplitHints()
