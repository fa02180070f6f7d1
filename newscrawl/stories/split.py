"""Split one page's text blocks into the separate stories it holds.

A pure function over plain data (no Scrapy). It works from the page's shape, the way
a reader sees it, so it needs no selector to find a boundary:

* each story opens with a **header zone**: its headline printed two or more times
  (page title, share widget, h1), image captions (often twice), widget lines
  (``Short Url``, ``Follow``) and one time line (``Updated 35 min 7 sec ago``);
* after the zone come summary lines (bulleted, or short lines without a final period)
  and then the body paragraphs, the first usually opening with a dateline.

Markup, where the page has it, confirms and enriches: story containers (several
``<article>``-like elements, one headline each) become the boundaries, headings mark
headlines, ``<figcaption>`` marks captions, ``<time>`` marks time lines, and classes
such as ``share`` or ``newsletter`` mark widgets. Plain page text (no markup) splits on
shape alone.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from functools import lru_cache
from itertools import pairwise

from newscrawl.records.page import Block, segment_element, segment_name
from newscrawl.sites.hints import DEFAULT_HINTS, SplitHints
from newscrawl.stories.timestamps import (
    MAX_TEXT_LENGTH,
    given_anchor,
    opens_as_time_line,
    parse_timestamp,
)
from newscrawl.text import normalize

# A short line that may be a date printed alone ("Tue, 14 Jan 2020", "07.10.2020 12:30"):
# it holds a year (a clock time alone names no day). Only such lines are read as times
# (reading is costly).
DATE_ALONE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
MAX_DATE_ALONE = 48
# Whether a line reads as a time does not depend on when: any anchor after every date does.
_READING_ANCHOR = given_anchor(datetime(3000, 1, 1, tzinfo=timezone.utc))
# Errors of text that reads as a time, though too vague for a record ("Updated May 2024").
_VAGUE_TIME_ERRORS = frozenset({"ambiguous", "too-coarse"})
# Summary bullet glyphs (dashes are not: body paragraphs open with them too).
BULLET = re.compile(r"^[\u2022\u00b7\u25aa\u25cf\u25e6\u2023\u2219]\s*")
# A dateline opening a body paragraph: "BAGHDAD: ", "PORT SUDAN: ", "Stockholm: ",
# "ATHÈNES: ", "الرياض: ". Upper-case words, or one to three capitalised words (or Arabic
# words), then a colon.
_UPPER = r"[A-ZÀ-ÖØ-Þ]"
_CAPITALS = rf"{_UPPER}[A-ZÀ-ÖØ-Þ'’.\-/]*(?:[ ,]+{_UPPER}[A-ZÀ-ÖØ-Þ'’.\-/]*){{0,3}}"
_CAPITALISED = rf"{_UPPER}[a-zà-ÿ'’\-]+(?: {_UPPER}[a-zà-ÿ'’\-]+){{0,2}}"
_COLON = r"\s*:\s+(?=\S)"
# In Arabic script (no capitals): one or two words before the colon ("الرياض: ", "مكة
# المكرمة: "), not a verb of saying ("قال الوزير: " is a quote).
_ARABIC_WORDS = (
    r"(?!(?:قال|قالت|أضاف|أضافت|أكد|أكدت|ذكر|ذكرت|أوضح|أوضحت|صرح|صرحت|كتب|كتبت|يقول|تقول)\b)"
    r"[\u0621-\u064a\u066e-\u06d3]+(?: [\u0621-\u064a\u066e-\u06d3]+)?"
)
DATELINE = re.compile(rf"^(?P<dateline>{_CAPITALS}|{_CAPITALISED}|{_ARABIC_WORDS}){_COLON}")
# Only a dateline in capitals tells a body's first paragraph from a summary line, which
# may open with a capitalised word and a colon too ("Minister: talks resume in May").
CAPITALS_DATELINE = re.compile(rf"^{_CAPITALS}{_COLON}")
# A photo credit closing a caption: "(AFP)", "(REUTERS)", "(AN photo by X)".
CAPTION_CREDIT = re.compile(r"\((?:[A-Z][\w .,'’/&-]{1,60})\)\s*$")
# A credit that names itself one: "(Image: GETTY)", "(Photo: Jane Doe/AP)".
LABELLED_CREDIT = re.compile(r"\((?:image|photo|picture|credit)s?:[^()]{1,60}\)\s*$", re.I)
SENTENCE_END = (".", "!", "?", "…", '."', ".”", ".’", "!”", "?”")
# Summary lines printed with neither a bullet nor markup: the site prints one to three.
MAX_PLAIN_SUMMARY = 6


class Kind(Enum):
    BLANK = "blank"
    TIME = "time"
    BYLINE = "byline"
    WIDGET = "widget"
    IMAGE = "image"
    BULLET = "bullet"
    TEXT = "text"


@dataclass(slots=True)
class Line:
    index: int
    text: str
    key: str  # the text normalized for comparing repeats
    kind: Kind
    block: Block
    heading: bool = False
    caption_tag: bool = False
    summary_hint: bool = False
    repeated: bool = False  # the same text stands within the window (a header repeat)
    after_furniture: bool = False  # page furniture (nav, footer...) stands right before

    @property
    def header_widget(self) -> bool:
        """A widget line that tells a story header: one in the page's main content (a
        share bar there is the story's; one outside it may be the page's own)."""
        return self.kind is Kind.WIDGET and self.block.main

    @property
    def parent(self) -> tuple[str, ...]:
        return self.block.path[:-1]

    @property
    def header_like(self) -> bool:
        """Can stand in a header zone."""
        return (
            self.kind in (Kind.BLANK, Kind.TIME, Kind.BYLINE, Kind.WIDGET, Kind.IMAGE)
            or self.heading
            or self.caption_tag
            or (self.kind is Kind.TEXT and self.repeated)
        )


@dataclass
class StoryParts:
    """One story as the splitter found it (page-level fields are added later)."""

    title: str
    summary: list[str] = field(default_factory=list)
    dateline: str | None = None
    body: list[str] = field(default_factory=list)
    caption: str | None = None
    image_url: str | None = None
    updated_raw: str | None = None
    updated_datetime: str | None = None  # a <time datetime> next to the time line
    links: list[str] = field(default_factory=list)  # hrefs in the header zone
    authors: list[str] = field(default_factory=list)  # from the story's byline
    # Share of the body's lines that are each one link (a list of teasers, not a story).
    linked: float = 0.0


@dataclass
class Split:
    """What the splitter made of a page: stories, and why anything was left out."""

    stories: list[StoryParts]
    skipped: list[str] = field(default_factory=list)  # one reason per region not kept
    mode: str = "shape"  # "containers" when markup containers gave the boundaries
    # The first story opens at the headline the page's head names (see split_blocks).
    head: bool = False


def _segment(segment: str) -> tuple[str, frozenset[str]]:
    """A path segment's tag and class-name words ("div.share-widget[3]")."""
    return _element(segment_name(segment))


@lru_cache(maxsize=16384)
def _element(name: str) -> tuple[str, frozenset[str]]:
    tag, classes = segment_element(name)
    return tag, _class_words(classes)


@lru_cache(maxsize=16384)
def _class_words(classes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w.lower() for c in classes for w in _CLASS_WORD.findall(c))


# The words of a class name: split on - and _, and where camel case starts a word
# ("InlineImage-imageEmbedCaption": inline, image, embed, caption).
_CLASS_WORD = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|[A-Z]|\d+")


@lru_cache(maxsize=4096)  # siblings share their parent's, a site's pages their templates'
def _path_tags(path: tuple[str, ...]) -> frozenset[str]:
    """The tags of a block's element and all its ancestors."""
    if not path:
        return frozenset()
    return _path_tags(path[:-1]) | {_segment(path[-1])[0]}


def _own_words(path: tuple[str, ...]) -> frozenset[str]:
    """The class-name words of a block's element and its parent."""
    return _segments_words(path[-2:])


@lru_cache(maxsize=4096)  # a site's pages share their templates' element pairs
def _segments_words(segments: tuple[str, ...]) -> frozenset[str]:
    words = frozenset[str]()
    for segment in segments:
        words |= _segment(segment)[1]
    return words


def _is_time_line(text: str, languages: tuple[str, ...]) -> bool:
    """A line that opens like a time line in one of the page's languages and reads as a
    time: "Updated 35 min 7 sec ago", "Publié le 14 juillet 2021", "آخر تحديث منذ 3
    ساعات", but not "Published in 2019, the plan set a target." The labels are those the
    timestamp reader knows (``newscrawl.stories.timestamps.opens_as_time_line``)."""
    if len(text) > MAX_TEXT_LENGTH or not opens_as_time_line(text, languages):
        return False
    return _reads_as_time(text, languages)


# How many lines after a headline a date printed alone may stand.
_DATE_REACH = 6


def _dates_alone(lines: list[Line], title: Line | None, languages: tuple[str, ...]) -> list[Line]:
    """The first date printed alone among ``lines`` (not the headline), if any, as a line
    holding just the date ("Unica.md, 20 septembrie 2020" gives "20 septembrie 2020")."""
    if not languages:
        return []
    for line in lines:
        if line is not title and line.kind is Kind.TEXT and len(line.text) <= MAX_DATED_LINE:
            part = _date_part(line.text, languages)
            if part is not None:
                return [replace(line, text=part)]
    return []


# What may stand before a date printed alone: a source or a weekday, then a separator
# ("Unica.md, 20 septembrie 2020", "/ jueves 2 de abril de 2020"); and after it, a
# separator and words with no digit: a section, a source, a credit ("2020年07月03日 |
# Hiking", "22/11/2020 - 04:30 - Source: a wire - Photo: a name").
_BEFORE_DATE = re.compile(r"^[^\d]{0,40}?(?:,|\||·|/|—|–|\s-)\s*")
_AFTER_DATE = re.compile(r"\s+(?:\||·|—|–|-)\s+[^\d]{0,80}$")
MAX_DATED_LINE = 80
_TRAILING_WORDS = 3


def _date_part(text: str, languages: tuple[str, ...]) -> str | None:
    """The part of a short line that is a date, if one is: the whole line, else what
    follows a source's name or a weekday."""
    if DATE_ALONE.search(text) is None:
        return None  # no year: no date printed alone
    candidates = [text]
    if found := _BEFORE_DATE.match(text):
        candidates.append(text[found.end() :])
    if found := _AFTER_DATE.search(text):
        candidates.append(text[: found.start()])
    # Words with no digit after the date, with no separator before them ("March 11,
    # 2020 add comment"): the date without them.
    for candidate in candidates[:]:
        words = candidate.split()
        for cut in range(1, min(_TRAILING_WORDS, len(words) - 1) + 1):
            if any(c.isdigit() for c in words[-cut]):
                break
            candidates.append(" ".join(words[:-cut]))
    for candidate in candidates:
        if (
            len(candidate) <= MAX_DATE_ALONE
            and DATE_ALONE.search(candidate) is not None
            and _reads_as_time(candidate, languages)
        ):
            return candidate
    return None


@lru_cache(maxsize=4096)  # pages print the same few time lines ("Updated 31 sec ago")
def _reads_as_time(text: str, languages: tuple[str, ...]) -> bool:
    found = parse_timestamp(text, anchor=_READING_ANCHOR, timezone="UTC", languages=languages)
    return found.value is not None or found.error in _VAGUE_TIME_ERRORS


# How many blocks from a headline (an h1, or a heading in the main content) a story's
# time, byline or header widgets outside the main content may stand.
_HEADER_REACH = 6
# How many other text lines may stand between a headline and a summary line outside the
# main content (a caption printed twice, a credit).
_SUMMARY_REACH = 4


# A byline: "By Jane Doe", "Von Max Muster und Erika Mustermann", "Par Jean Dupont",
# "Por María López", "Di Mario Rossi", "By JANE DOE, Associated Press".
BYLINE = re.compile(
    r"^(?:by|von|par|por|di|door|av|af)\s*:?\s+(?P<names>[^\W\d_][^.!?]{1,100})$", re.IGNORECASE
)
MAX_BYLINE = 120
# Words of class names that mark an author line.
BYLINE_CLASSES = frozenset({"byline", "author", "authors", "writer"})
# Between two names in a byline.
_NAME_SEPARATOR = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\ben\b|\bog\b)\s*")
# What a byline may print after its names: the wire or the outlet.
_AFFILIATION = re.compile(
    r"^(?:the\s+)?(?:associated\s+press|ap|reuters|afp|dpa|ansa|efe|bloomberg|staff|"
    r"staff\s+writer|correspondent|special\s+to\s+.*|for\s+.*)$",
    re.IGNORECASE,
)


def _is_byline(text: str, words: frozenset[str]) -> bool:
    """A short line that names the story's authors: "By Jane Doe", or a name in an
    element whose class marks it as the byline. Never a headline or a paragraph."""
    if len(text) > MAX_BYLINE or text.endswith(SENTENCE_END):
        return False
    found = BYLINE.match(text)
    if found is not None:  # "By Jane Doe", or a wire's name alone ("By Associated Press")
        return all(name[:1].isupper() for name in byline_names(text))
    return bool(words & BYLINE_CLASSES) and len(text.split()) <= 8 and text[:1].isupper()


def byline_names(text: str) -> list[str]:
    """The names a byline prints ("By Jane Doe and John Roe, Reuters": the two names;
    "By Associated Press": the wire)."""
    found = BYLINE.match(text)
    names = found["names"] if found else text
    kept: list[str] = []
    wires: list[str] = []
    for name in _NAME_SEPARATOR.split(names):
        name = name.strip(" -–—|·:")
        if name and name not in kept:
            (wires if _AFFILIATION.match(name) else kept).append(name)
    return kept or wires[:1]  # a wire alone ("By Associated Press") is the author


def _authors(lines: list[Line]) -> list[str]:
    """The names on a story's byline lines (by its headline), in order, each once."""
    names: list[str] = []
    for line in lines:
        if line.kind is Kind.BYLINE:
            names += [name for name in byline_names(line.text) if name not in names]
    return names


def _kept_outside_main(
    block: Block,
    text: str,
    words: frozenset[str],
    hints: SplitHints,
    languages: tuple[str, ...],
    lines: list[Line],
    near_headline: bool,
) -> bool:
    """Lines outside the page's main content that still belong to a story: its headline
    (h1); by a headline, its time line, a date printed alone, its byline and the widget
    lines the site prints in its header (``Short Url`` links to the story); and its
    summary right under its headline. A time or byline by no headline (a sidebar's
    teasers) stays out."""
    if block.tag == "h1":
        return True
    if near_headline and (
        block.tag == "time"
        or text.casefold() in hints.widget_lines
        or _is_byline(text, words)
        or _is_time_line(text, languages)
        or (len(text) <= MAX_DATED_LINE and _date_part(text, languages) is not None)
    ):
        return True
    if not words & hints.summary_classes:
        return False
    texts = 0
    for line in reversed(lines):
        if line.heading:
            return True
        if line.summary_hint or line.caption_tag or line.kind is not Kind.TEXT:
            continue  # the summary so far, the photo and its caption, a time line
        texts += 1
        if texts > _SUMMARY_REACH or len(line.text) >= PARAGRAPH_LENGTH:
            return False
    return False


# A paragraph of the main content, and how many blocks apart two may stand with what
# lies between them still theirs (an embedded post, a quote the main-content stage left
# out).
_PARAGRAPH = 80
_PARAGRAPH_GAP = 8
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _between_paragraphs(blocks: Sequence[Block], paragraphs: list[int], position: int) -> bool:
    """Whether the block stands between two paragraphs of the main content, close by and
    inside the element that holds them both."""
    after = bisect_left(paragraphs, position)
    if after == 0 or after == len(paragraphs) or blocks[position].tag in _HEADINGS:
        return False  # a heading left out may open a teaser: it stays out
    before, next_ = paragraphs[after - 1], paragraphs[after]
    if next_ - before > _PARAGRAPH_GAP or any(
        blocks[n].tag == "time" for n in range(before + 1, next_)
    ):  # a post with its own time beside a time line would read as a story of its own
        return False
    shared = _shared_depth(blocks[before].path, blocks[next_].path)
    path = blocks[position].path
    return len(path) > shared and path[:shared] == blocks[before].path[:shared]


def _furniture_sections(
    blocks: Sequence[Block], words: frozenset[str]
) -> Callable[[tuple[str, ...]], bool]:
    """Whether a block path stands in a furniture section: an element with one of the
    class ``words`` that holds no headline (a class high up around the whole story, such
    as "has-comments", says nothing)."""
    headline_paths = {b.path[:n] for b in blocks if b.tag == "h1" for n in range(len(b.path) + 1)}
    known: dict[tuple[str, ...], bool] = {(): False}

    def section(path: tuple[str, ...]) -> bool:
        found = known.get(path)
        if found is None:
            found = known[path] = section(path[:-1]) or (
                bool(_segment(path[-1])[1] & words) and path not in headline_paths
            )
        return found

    any_word = _any_of(words).search

    def inside(path: tuple[str, ...]) -> bool:
        # One look at the path's text first: most hold none of the words.
        return any_word(" ".join(path).lower()) is not None and section(path)

    return inside


@lru_cache(maxsize=64)
def _any_of(words: frozenset[str]) -> re.Pattern[str]:
    """A pattern found where any of ``words`` stands in a text, within a word or not."""
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))) or "(?!)")


def _quoted_after_paragraph(blocks: Sequence[Block], paragraphs: list[int], position: int) -> bool:
    """Whether a block of a quote (an embedded post) follows a paragraph of the main
    content closely, in the element that holds that paragraph: the story quotes it, even
    where no paragraph follows."""
    before = bisect_left(paragraphs, position) - 1
    if before < 0 or position - paragraphs[before] > _PARAGRAPH_GAP:
        return False
    holder = blocks[paragraphs[before]].path[:-1]
    path = blocks[position].path
    if path[: len(holder)] != holder:
        return False
    # A quote with a time of its own (a post's date) would read as a story of its own.
    quote = next(
        (n for n in range(len(holder), len(path)) if _segment(path[n])[0] == "blockquote"), None
    )
    if quote is None:  # the paragraph stands in the quote itself
        return False
    end = position
    while end < len(blocks) and blocks[end].path[: quote + 1] == path[: quote + 1]:
        end += 1
    return not any(blocks[n].tag == "time" for n in range(paragraphs[before] + 1, end))


def _classify(
    blocks: Sequence[Block], hints: SplitHints, marked: bool, languages: tuple[str, ...]
) -> list[Line]:
    """The page's lines, with what each is; on a ``marked`` page (its main content known)
    lines outside the main content are left out, save a story's own header lines."""
    lines: list[Line] = []
    furniture = False
    # On a marked page a <form> is no furniture: ASP.NET sites wrap the whole page in one.
    furniture_tags = hints.furniture_tags - {"form"} if marked else hints.furniture_tags
    headlines = [
        n for n, b in enumerate(blocks) if b.tag == "h1" or (b.main and b.tag in ("h2", "h3"))
    ]
    paragraphs = (
        [n for n, b in enumerate(blocks) if b.main and b.tag == "p" and len(b.text) >= _PARAGRAPH]
        if marked
        else []
    )
    in_furniture = _furniture_sections(blocks, hints.section_classes)
    for position, block in enumerate(blocks):
        if block.tag != "img" and in_furniture(block.path):
            furniture = True
            continue
        tags = _path_tags(block.path)
        # Class words of the block's own element and its parent only: a class high up
        # ("article-share-wrap", "node-lead" around a whole story) says nothing of a line.
        words = _own_words(block.path)
        if block.classes:
            words = words | _class_words(block.classes)
        text = block.text.strip()
        if tags & furniture_tags and not (
            marked and "aside" in tags and (block.tag == "time" or _is_byline(text, words))
        ):  # a story's time and byline may stand in an <aside> beside it
            furniture = True
            continue
        if (
            marked
            and not block.main
            and not _between_paragraphs(blocks, paragraphs, position)
            and not ("blockquote" in tags and _quoted_after_paragraph(blocks, paragraphs, position))
        ):
            nearest = bisect_left(headlines, position - _HEADER_REACH)
            near = nearest < len(headlines) and headlines[nearest] <= position + _HEADER_REACH
            if not _kept_outside_main(block, text, words, hints, languages, lines, near):
                continue
        if block.tag == "img":
            kind = Kind.IMAGE
        elif not text:
            kind = Kind.BLANK
        elif block.tag == "time" or "datetime" in block.attrs or _is_time_line(text, languages):
            if "blockquote" in tags:
                continue  # a quoted post's date: no time of a story, nor its text
            kind = Kind.TIME
        elif _is_byline(text, words):
            kind = Kind.BYLINE
        elif text.casefold() in hints.widget_lines or (
            words & hints.widget_classes
            and block.tag != "h1"
            and not (marked and len(text) >= PARAGRAPH_LENGTH)
        ):
            # An h1, and a paragraph of the page's main content, stay text whatever their
            # wrapper's class says ("header--no-promo", "article-share-wrap").
            kind = Kind.WIDGET
        elif BULLET.match(text):
            kind = Kind.BULLET
        else:
            kind = Kind.TEXT
        lines.append(
            Line(
                index=len(lines),
                text=text,
                key=normalize(text),
                kind=kind,
                block=block,
                heading=block.tag in ("h1", "h2"),
                caption_tag=block.tag == "figcaption" or "caption" in words,
                summary_hint=block.tag == "li" or bool(words & hints.summary_classes),
                after_furniture=furniture,
            )
        )
        furniture = False
    return lines


def _mark_repeats(lines: list[Line], window: int) -> dict[str, list[int]]:
    """Mark text lines whose text stands again within ``window`` non-blank lines."""
    seen: dict[str, list[int]] = defaultdict(list)
    rank: list[int] = []  # position among non-blank lines
    count = 0
    for line in lines:
        rank.append(count)
        if line.kind is not Kind.BLANK:
            count += 1
        if line.kind is Kind.TEXT and len(line.key) >= 3:
            seen[line.key].append(line.index)
    for positions in seen.values():
        for a, b in pairwise(positions):
            if rank[b] - rank[a] <= window:
                lines[a].repeated = lines[b].repeated = True
    return seen


@dataclass(frozen=True, order=True)
class Zone:
    """A story's header zone: lines ``start`` to ``end``, both included."""

    start: int
    end: int

    def lines(self, lines: list[Line]) -> list[Line]:
        return lines[self.start : self.end + 1]


def _linked(lines: list[Line], a: int, b: int) -> bool:
    """May two occurrences of one text belong to the same header zone?

    With the story's time line between them (page title before it, h1 after), only
    header-like lines may stand between, save one caption printed once: before the time
    line, or anywhere with a credit such as "(AFP)". Without one, only blank, widget and
    image lines may: anything else is a story's body, and the two occurrences are two
    stories that share a headline. This holds for any text, a headline ending in a
    period ("... led by the U.S.") included.
    """
    between = lines[a + 1 : b]
    times = [ln.index for ln in between if ln.kind is Kind.TIME]
    if not times:
        quiet = (Kind.BLANK, Kind.BYLINE, Kind.WIDGET, Kind.IMAGE)
        return all(ln.kind in quiet or ln.key == lines[a].key for ln in between)
    if len(times) > 1:
        return False  # a header holds one time line
    loud = [ln for ln in between if not ln.header_like]
    if len(loud) > 1 or (
        loud and loud[0].index > times[0] and not CAPTION_CREDIT.search(loud[0].text)
    ):
        return False
    # A header holds one headline: another text printed on both sides of the time line
    # is that headline, and these copies (a story printed twice) stand around its header.
    before = {ln.key for ln in between if ln.kind is Kind.TEXT and ln.index < times[0]}
    return not any(
        ln.kind is Kind.TEXT and ln.key in before for ln in between if ln.index > times[0]
    )


def _is_signal(line: Line) -> bool:
    """A line that only a story header holds: time, widget, image, heading, caption."""
    return (
        line.kind in (Kind.TIME, Kind.IMAGE)
        or line.header_widget
        or line.heading
        or line.caption_tag
    )


def _has_signal(lines: list[Line], zone: Zone) -> bool:
    """Does a header signal stand in the zone, or a strong one right beside it?

    A text repeated with none around (a paragraph printed twice in a body) is no story
    header. Beside the zone only a time line, an image or a caption counts: widgets
    (related links, share blocks) also follow a body, and a headline precedes one.
    """
    if any(_is_signal(ln) for ln in lines[zone.start : zone.end + 1]):
        return True
    beside = [_neighbour(lines, zone.start, -1), _neighbour(lines, zone.end, 1)]
    return any(
        ln is not None and (ln.kind in (Kind.TIME, Kind.IMAGE) or ln.caption_tag) for ln in beside
    )


def _neighbour(lines: list[Line], index: int, step: int) -> Line | None:
    """The nearest non-blank line before (step -1) or after (step 1) ``index``."""
    index += step
    while 0 <= index < len(lines):
        if lines[index].kind is not Kind.BLANK:
            return lines[index]
        index += step
    return None


def _extend(lines: list[Line], zone: Zone) -> Zone:
    """Grow a zone over the time, widget, image, caption and blank lines around it."""
    start, end = zone.start, zone.end
    while start > 0 and (_is_signal(lines[start - 1]) or lines[start - 1].kind is Kind.BLANK):
        start -= 1
    while end + 1 < len(lines) and (
        _is_signal(lines[end + 1]) or lines[end + 1].kind is Kind.BLANK
    ):
        end += 1
    while lines[start].kind is Kind.BLANK and start < end:
        start += 1
    return Zone(start, end)


def _zone_score(zone_lines: list[Line]) -> float:
    counts: dict[str, int] = defaultdict(int)
    for line in zone_lines:
        if line.kind is Kind.TEXT:
            counts[line.key] += 1
    most = max(counts.values(), default=0)
    has_time = any(ln.kind is Kind.TIME for ln in zone_lines)
    has_widget = any(ln.header_widget for ln in zone_lines)
    # A heading alone is a subheading in a body: it counts only beside other header signs.
    heading = any(ln.heading for ln in zone_lines) and (has_time or has_widget or most >= 2)
    return (
        2.0 * has_time
        + 1.0 * has_widget
        + 2.0 * heading
        + (2.0 if most >= 3 else 1.0 if most == 2 else 0.0)
        + 0.5 * any(ln.kind is Kind.IMAGE or ln.caption_tag for ln in zone_lines)
    )


def _repeat_spans(lines: list[Line], seen: dict[str, list[int]]) -> list[tuple[str, Zone]]:
    """Spans from the first to the last of a text's linked repeats, with that text."""
    spans: list[tuple[str, Zone]] = []
    for key, positions in seen.items():
        run = [positions[0]]
        for a, b in pairwise([*positions, -1]):
            if b >= 0 and lines[a].repeated and lines[b].repeated and _linked(lines, a, b):
                run.append(b)
                continue
            if len(run) > 1:
                spans.append((key, Zone(run[0], run[-1])))
            run = [b]
    return spans


def _find_zones(lines: list[Line], seen: dict[str, list[int]]) -> list[Zone]:
    """Header zones in document order: one per story."""
    # Each time line heads one story: the tightest repeat around it (page title before,
    # h1 after) is its header; a looser one around the same time line (a summary line
    # two stories share) is not a header at all.
    zones: list[Zone] = []
    claimed: set[int] = set()
    spans = [span for _, span in _repeat_spans(lines, seen) if _has_signal(lines, span)]
    for span in sorted(spans, key=lambda z: z.end - z.start):
        times = {ln.index for ln in span.lines(lines) if ln.kind is Kind.TIME}
        if not times & claimed:
            claimed |= times
            zones.append(span)
    # A headline printed once still has a time line (or a heading) next to it.
    covered = {i for span in zones for i in range(span.start, span.end + 1)}
    for line in lines:
        if (line.kind is Kind.TIME or line.heading) and line.index not in covered:
            above = _neighbour(lines, line.index, -1)
            start = line.index
            if line.kind is Kind.TIME and above is not None and above.kind is Kind.TEXT:
                start = above.index  # the headline just above the time line
            zones.append(Zone(start, line.index))
    merged: list[Zone] = []
    for span in sorted(_extend(lines, zone) for zone in zones):
        if merged and span.start <= merged[-1].end + 1:
            merged[-1] = Zone(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    accepted = [z for z in merged if _zone_score(z.lines(lines)) >= 2.0]
    return _split_double_zones(lines, accepted)


def _split_double_zones(lines: list[Line], zones: list[Zone]) -> list[Zone]:
    """A zone holding two time lines with a text between them (the second story's
    headline) is two stories' zones run together: cut it. Two time lines with no text
    between them are one header's ("Updated ...", "Posted ...")."""
    result: list[Zone] = []
    for zone in zones:
        times = [ln.index for ln in zone.lines(lines) if ln.kind is Kind.TIME]
        # Each cut falls between the last time line of one header and the first of the next.
        cuts = [
            (previous, current)
            for previous, current in pairwise(times)
            if any(ln.kind is Kind.TEXT for ln in lines[previous + 1 : current])
        ]
        if not cuts:
            result.append(zone)
            continue
        start = zone.start
        for previous, current in cuts:
            cut = previous + 1
            while cut < current and lines[cut].kind in (Kind.WIDGET, Kind.BLANK):
                cut += 1
            result.append(Zone(start, cut - 1))
            start = cut
        result.append(Zone(start, zone.end))
    return result


def _containers(lines: list[Line], zones: list[Zone]) -> list[list[Line]] | None:
    """Lines grouped by story container, when the markup has one container per story.

    The headlines (the headings of the header zones, else h1s) are compared by their
    ancestors: where they part below a common ancestor, each branch is one story.
    Headlines that part only at themselves are flat siblings: no containers.
    """
    headings = [h for zone in zones if (h := _last_heading(zone.lines(lines)))] or [
        ln for ln in lines if ln.block.tag == "h1"
    ]
    if len(headings) < 2:
        return None
    paths = [h.block.path for h in headings]
    depth = 0
    while all(len(p) > depth for p in paths) and len({p[depth] for p in paths}) == 1:
        depth += 1
    if any(len(p) <= depth + 1 for p in paths):
        return None
    keys = [p[: depth + 1] for p in paths]
    if len(set(keys)) != len(keys):
        return None  # two headlines in one container: the containers are not stories
    groups: dict[tuple[str, ...], list[Line]] = {key: [] for key in keys}
    for line in lines:
        group = groups.get(line.block.path[: depth + 1])
        if group is not None:
            group.append(line)
    return [groups[key] for key in keys]


def _last_heading(zone_lines: list[Line]) -> Line | None:
    """A zone's headline heading: the h1 after the page title and share widgets."""
    return next((ln for ln in reversed(zone_lines) if ln.heading), None)


def _date_or_time(text: str, languages: tuple[str, ...]) -> bool:
    """A short line with a digit that reads as a date or a time."""
    return (
        len(text) <= MAX_DATE_ALONE
        and any(c.isdigit() for c in text)
        and _reads_as_time(text, languages or ("en",))
    )


def _headline(zone_lines: list[Line], languages: tuple[str, ...] = ()) -> Line | None:
    heading = _last_heading(zone_lines)
    if heading is not None:
        return heading
    # A date or a time printed alone ("Tue, 14 Jan 2020", "6:14 a.m.") is never a headline.
    texts = [
        ln
        for ln in zone_lines
        if ln.kind is Kind.TEXT and not ln.caption_tag and not _date_or_time(ln.text, languages)
    ]
    if not texts:
        return None
    counts: dict[str, int] = defaultdict(int)
    last: dict[str, int] = {}
    for line in texts:
        counts[line.key] += 1
        last[line.key] = line.index
    times = [ln.index for ln in zone_lines if ln.kind is Kind.TIME]
    after_time = {k for k, i in last.items() if times and i > times[0]}
    # Most printed wins; a tie goes to a text printed after the time line (the h1),
    # then to the one printed last (captions come before the headline's h1).
    key = max(counts, key=lambda k: (counts[k], k in after_time, last[k]))
    if counts[key] == 1:
        plain = [ln for ln in texts if not CAPTION_CREDIT.search(ln.text)]
        return plain[0] if plain else texts[0]
    return next(ln for ln in texts if ln.key == key)


def _caption(zone_lines: list[Line], title_key: str) -> Line | None:
    candidates = [ln for ln in zone_lines if ln.kind is Kind.TEXT and ln.key != title_key]
    time = next((ln.index for ln in zone_lines if ln.kind is Kind.TIME), -1)
    for test in (
        lambda ln: ln.caption_tag,
        lambda ln: ln.repeated,
        lambda ln: bool(CAPTION_CREDIT.search(ln.text)),
        lambda ln: ln.index < time,  # printed once, between the headline and the time line
    ):
        found = [ln for ln in candidates if test(ln)]
        if found:
            return found[0]
    return None


def _groups(content: list[Line], skip_keys: set[str]) -> list[list[Line]]:
    """Content lines in groups: split at blank lines, or where the parent element changes."""
    groups: list[list[Line]] = [[]]
    previous: Line | None = None
    for line in content:
        if line.kind is Kind.BLANK:
            groups.append([])
            continue
        if line.kind not in (Kind.TEXT, Kind.BULLET) or line.key in skip_keys:
            continue
        if previous is not None and line.parent != previous.parent:
            groups.append([])
        groups[-1].append(line)
        previous = line
    return [g for g in groups if g]


def _is_plain_summary(group: list[Line], rest: list[Line]) -> bool:
    """Summary lines printed without a bullet: a few short lines, no dateline, and either no
    final period or an excerpt of a later paragraph (the site's summaries are)."""
    if len(group) > MAX_PLAIN_SUMMARY or CAPITALS_DATELINE.match(group[0].text):
        return False
    later = " ".join(ln.key for ln in rest)
    later_keys = {ln.key for ln in rest}
    for line in group:
        if len(line.text) > 400:
            return False
        excerpt = line.key.rstrip(".") in later and line.key not in later_keys
        if line.text.endswith(SENTENCE_END) and not excerpt:
            return False
    return True


def _summary_and_body(groups: list[list[Line]]) -> tuple[list[Line], list[Line]]:
    flat = [ln for g in groups for ln in g]
    if not flat:
        return [], []
    summary: list[Line] = []
    for line in flat:
        if line.kind is Kind.BULLET or (
            line.summary_hint and not CAPITALS_DATELINE.match(line.text)
        ):
            summary.append(line)
        else:
            break
    if not summary and len(groups) >= 2 and _is_plain_summary(groups[0], flat[len(groups[0]) :]):
        summary = groups[0]
    if not summary:
        # No blank line or markup between summary and body: take the leading lines (a
        # few at most) that both lack a final period and are excerpts of later paragraphs.
        later = "\n".join(ln.key for ln in flat)  # keys hold no newline: no match spans two
        offset = 0
        for line in flat[: min(MAX_PLAIN_SUMMARY + 1, len(flat) - 1)]:
            offset += len(line.key) + 1
            if line.text.endswith(SENTENCE_END) or CAPITALS_DATELINE.match(line.text):
                break
            if later.find(line.key.rstrip("."), offset) < 0:
                break
            summary.append(line)
        if len(summary) > MAX_PLAIN_SUMMARY:
            summary = []  # a run this long is a list in the body
    return summary, flat[len(summary) :]


def _shared_depth(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many leading elements two block paths share."""
    depth = 0
    while depth < min(len(a), len(b)) and a[depth] == b[depth]:
        depth += 1
    return depth


def _end_body(body: list[Line], content: list[Line], title: Line) -> list[Line]:
    """The body up to where the story's text ends: at a widget line, page furniture or
    a block outside the element holding the body (related links, sign-up boxes).

    The body's element is the branch of its first paragraph below where it parts from
    the headline. Inside an element of its own (``div.entry-content``), widgets and
    furniture are skipped: adverts and pull quotes stand between paragraphs.
    """
    if not body:
        return body
    path = body[0].block.path
    shared = _shared_depth(path, title.block.path)
    own = len(path) > shared + 1  # paragraphs in a wrapper, not siblings of the headline
    scope = path[: shared + 1] if own else path[:shared]
    for line in content:
        if line.index <= body[0].index:
            continue
        outside = line.block.path[: len(scope)] != scope
        if outside or (not own and (line.kind is Kind.WIDGET or line.after_furniture)):
            return [ln for ln in body if ln.index < line.index]
    return body


# Lines a page prints in a story's body that are none of its text: a label and a colon
# before another story's headline ("Read more: ...", "[Related: ...]"), the credit for the
# reporting, an invitation to follow the site, an address to write to.
_LABEL_LINE = re.compile(
    r"^[\[(]?\s*(?:read more|related|see more|see also|also read|read also|more|lire aussi"
    r"|à lire aussi|voir aussi|leia também|veja também|lesen sie auch|mehr zum thema"
    r"|leggi anche|lee también|ver también|اقرأ أيضا|اقرأ أيضاً)\s*[:：]",
    re.IGNORECASE,
)
_CREDIT_LINE = re.compile(r"^(?:additional )?(?:reporting|editing|writing) by\b", re.IGNORECASE)
_FOLLOW_LINE = re.compile(
    r"^(?:follow|like us|chat with us|connect with us)\b.{0,120}"
    r"\b(?:facebook|twitter|instagram|youtube|linkedin|telegram|tiktok)\b",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An address given to write to: "Have a tip? Write to ...", "Email X at ...", "... may be
# reached at ...", or a line that is little more than the address.
_WRITE_TO = re.compile(
    r"\b(?:write|e-?mail|contact|reach(?:ed)?|tips?|send|letters?)\b", re.IGNORECASE
)
# Longer than this, a line is text of the story whatever it opens with.
_ASIDE_LINE_LENGTH = 300


def _is_aside_line(line: Line) -> bool:
    if line.caption_tag or "href" in line.block.attrs or LABELLED_CREDIT.search(line.text):
        return True
    text = line.text
    return len(text) < _ASIDE_LINE_LENGTH and bool(
        _LABEL_LINE.match(text)
        or _CREDIT_LINE.match(text)
        or _FOLLOW_LINE.match(text)
        or (
            "@" in text
            and (found := _EMAIL.search(text)) is not None
            and (len(text) < 2 * len(found[0]) or _WRITE_TO.search(text) is not None)
        )
    )


# What a page prints after a story's last paragraph, and no story's last line says: a
# newsletter or follow invitation, a cookie or copyright notice, the reporting credits.
_CLOSING_CALL = re.compile(
    r"^(?:©|copyright\b|citation:)"
    r"|\bsubscribe to\b|\bsign up (?:for|to)\b|\b(?:delivered to|in) your inbox\b"
    r"|\ball rights reserved\b|\b(?:this (?:web)?site|we) uses? cookies\b"
    r"|\bcontributed (?:to this report|reporting)\b|\bshare it with\b|\blike this story\b",
    re.IGNORECASE,
)
# A call told by the word it opens with ("Subscribe now", "Listen to the podcast"), which
# a story's own sentence can open with too ("Listen closely and ..."): a call only when
# the line is that one sentence.
_CLOSING_CALL_OPENING = re.compile(
    r"^(?:subscribe|sign up|get (?:the|our)\b.*\b(?:newsletter|inbox)|join us|listen"
    r"|download|click here|like us|follow us|follow (?:him|her|me|them) on)\b",
    re.IGNORECASE,
)
_NEXT_SENTENCE = re.compile(r"[.!?…][\"'”’)]*\s+\S")


# Words one of which each of _CLOSING_CALL's notices holds: a line holding none is no
# such notice, told without the pattern's slow search (regular expressions that ignore
# case try each of its openings at every character).
_CLOSING_CALL_WORDS = (
    "©", "copyright", "citation:", "subscribe to", "sign up", "inbox", "all rights reserved",
    "cookies", "contributed", "share it with", "like this story",
)  # fmt: skip


def _is_closing_call(text: str) -> bool:
    if len(text) >= _ASIDE_LINE_LENGTH:
        return False
    folded = text.casefold()
    return bool(
        (any(word in folded for word in _CLOSING_CALL_WORDS) and _CLOSING_CALL.search(text))
        or (_CLOSING_CALL_OPENING.match(text) and not _NEXT_SENTENCE.search(text))
    )


def _without_closing_calls(body: list[Line]) -> list[Line]:
    """The body without the short closing calls and notices (``_is_closing_call``) that
    end it; the first line stays whatever it says."""
    end = len(body)
    while end > 1 and _is_closing_call(body[end - 1].text):
        end -= 1
    return body[:end]


def _story_text(body: list[Line]) -> list[Line]:
    """A body's lines that are the story's text: without what stands beside it, a
    caption printed twice, or the calls and notices that close it."""
    return _without_closing_calls(_without_caption_repeats(_without_asides(body)))


def _without_asides(body: list[Line]) -> list[Line]:
    """The body without what stands beside its text: captions its markup names (a
    ``<figcaption>``, a caption class) or that say they are one ("(Image: AP)"), lines
    that are one link each (a related story, "Read more"), and the lines of
    ``_is_aside_line``: "Related: ...", "Reporting by ...", "Follow us on Twitter", an
    email address to write to. A body of nothing else (a photo gallery) keeps them."""
    kept = [ln for ln in body if not _is_aside_line(ln)]
    return kept or body


def _without_caption_repeats(body: list[Line]) -> list[Line]:
    """The body with a caption printed twice in a row kept once (photo galleries print
    each caption twice); any other line printed twice stays, as the page printed it."""
    kept: list[Line] = []
    for line in body:
        caption = line.caption_tag or CAPTION_CREDIT.search(line.text)
        if not (caption and kept and kept[-1].key == line.key):
            kept.append(line)
    return kept


def _parse_story(
    region: list[Line],
    zone: Zone,
    marked: bool = False,
    languages: tuple[str, ...] = ("en",),
    lead: Sequence[Line] = (),
) -> StoryParts | str:
    """One story from its region (header zone first); a reason string when there is none.

    On a ``marked`` page (its main content known, furniture already left out) the body
    runs to the region's end; else it ends where its element does (see ``_end_body``).
    ``lead`` are the lines just before the region, where a page's first story may print
    its date (above its headline).
    """
    zone_lines = [ln for ln in region if zone.start <= ln.index <= zone.end]
    content = [ln for ln in region if ln.index > zone.end]
    title = _headline(zone_lines, languages)
    if title is None:
        return "no headline"
    caption = _caption(zone_lines, title.key)
    times = [ln for ln in zone_lines if ln.kind is Kind.TIME]
    if not times:  # a time line printed after the summary still belongs to the story
        times = [ln for ln in content[:4] if ln.kind is Kind.TIME]
    skip = {title.key} | ({caption.key} if caption else set())
    if not times:  # a date printed alone by the headline ("Tue, 14 Jan 2020")
        times = _dates_alone([*zone_lines, *content[:_DATE_REACH], *lead], title, languages)
        skip |= {ln.key for ln in times}
    images = [ln for ln in zone_lines + content if ln.kind is Kind.IMAGE]
    summary, body = _summary_and_body(_groups(content, skip))
    if not marked:
        body = _end_body(body, content, title)
    body = _story_text(body)
    if not body:
        return "no body"
    parts = _story_parts(
        title.text, summary, body, times, images, [*zone_lines, *content[:_DATE_REACH]]
    )
    parts.caption = caption.text if caption else None
    parts.links = [href for ln in zone_lines if (href := ln.block.attrs.get("href"))]
    return parts


def _story_parts(
    title: str,
    summary: list[Line],
    body: list[Line],
    times: list[Line],
    images: list[Line],
    header: list[Line],
) -> StoryParts:
    """A story's parts from its lines: bullets off its summary, the dateline its body
    opens with, its first image and time line, and the authors its ``header`` names."""
    match = DATELINE.match(body[0].text)
    return StoryParts(
        title=title,
        summary=[BULLET.sub("", ln.text) for ln in summary],
        dateline=match["dateline"].strip(" ,") if match else None,
        body=[ln.text for ln in body],
        image_url=images[0].block.attrs.get("src") if images else None,
        updated_raw=times[0].text if times else None,
        updated_datetime=times[0].block.attrs.get("datetime") if times else None,
        authors=_authors(header),
        linked=sum("href" in ln.block.attrs for ln in body) / len(body),
    )


def _fallback_zone(lines: list[Line]) -> Zone | None:
    """For a page with no header zone: its first heading, else its first text line."""
    for test in (lambda ln: ln.heading, lambda ln: ln.kind is Kind.TEXT):
        found = [ln for ln in lines if test(ln)]
        if found:
            return Zone(found[0].index, found[0].index)
    return None


# A word, as headlines and descriptions are compared.
WORD = re.compile(r"\w+")
# Share of a headline's words that must stand in the head's title for the two to match.
HEAD_MATCH = 0.7
# What may follow a headline in a page's <title>: "Headline | Site", "Headline - Site".
_TITLE_SUFFIXES = (" | ", " - ", " – ", " — ", " :: ", " « ")


def matches_head(title: str, head_titles: Sequence[str]) -> bool:
    """Is ``title`` the headline the page's head names (og:title, <title>, JSON-LD)?
    Matched by content, not to the letter: a head title often carries the site's name,
    or a shortened form, so most of the headline's words standing in it is enough."""
    key = normalize(title)
    words = set(WORD.findall(key))
    for head in map(normalize, head_titles):
        if head == key or head.startswith(tuple(key + sep for sep in _TITLE_SUFFIXES)):
            return True
        shared = words & set(WORD.findall(head))
        if len(words) >= 3 and len(shared) >= HEAD_MATCH * len(words):
            return True
    return False


def _head_anchor(lines: list[Line], head_titles: Sequence[str]) -> tuple[Line | None, bool]:
    """The page's own headline: the heading (else the first text line) that the head's
    title names, else the page's first h1; and whether the head names it. Whatever stands
    before it is page furniture: navigation, a section's teasers, a sidebar."""
    texts = [ln for ln in lines if ln.kind is Kind.TEXT and len(ln.key) <= 300]
    headings = [ln for ln in texts if ln.block.tag in ("h1", "h2", "h3")]
    for candidates in ([h for h in headings if h.block.tag == "h1"], headings, texts):
        found = next((ln for ln in candidates if matches_head(ln.text, head_titles)), None)
        if found is not None:
            return found, True
    # An h1 the head does not name heads the page's story only where it stands before
    # the page's first paragraph (one after it is a sidebar's).
    h1 = next((ln for ln in headings if ln.block.tag == "h1"), None)
    paragraph = next((ln for ln in lines if _is_paragraph(ln)), None)
    if h1 is not None and (paragraph is None or h1.index < paragraph.index):
        return h1, False
    return None, False


def _is_paragraph(line: Line) -> bool:
    """A line of a story's text, not of its header."""
    return (
        line.kind is Kind.TEXT
        and line.block.tag not in HEADING_TAGS
        and len(line.text) >= PARAGRAPH_LENGTH
    )


# A line this long after a headline is a paragraph of its story: the header has ended.
PARAGRAPH_LENGTH = 120
# No headline is longer.
MAX_HEADLINE = 250
# Main content this short (characters of text) is the main-content stage missing the
# story: the page is read whole instead.
MIN_MAIN_TEXT = 200
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _anchored(lines: list[Line], zones: list[Zone], anchor: Line) -> list[Zone]:
    """The header zones from the page's own headline on, its own zone first."""
    own = next((z for z in zones if z.start <= anchor.index <= z.end), None)
    own = own or _extend(lines, Zone(anchor.index, anchor.index))
    # The header runs to the first paragraph: zones before it (a section label, the
    # time line, a share bar) are the headline's own.
    paragraph = next(
        (ln.index for ln in lines[anchor.index + 1 :] if _is_paragraph(ln)), len(lines)
    )
    later: list[Zone] = []
    for zone in zones:
        if zone.start <= own.end:
            continue
        if zone.start < paragraph and not later:
            own = Zone(own.start, max(own.end, zone.end))
        else:
            later.append(zone)
    return [own, *later]


def split_blocks(
    blocks: Sequence[Block],
    hints: SplitHints = DEFAULT_HINTS,
    head_titles: Sequence[str] = (),
    languages: tuple[str, ...] = ("en",),
) -> Split:
    """Split a page's text blocks (in document order) into the stories it holds.

    ``head_titles`` are the headline as the page's head names it (og:title, <title>,
    JSON-LD ``headline``): the page's first story opens at the heading they name.
    ``languages`` are those the page's times and dates are printed in.
    """
    marked = any(not block.main for block in blocks)
    lines = _classify(blocks, hints, marked, languages)
    if marked and sum(len(line.text) for line in lines) < MIN_MAIN_TEXT:
        # The main content found is next to nothing: the page is read whole.
        marked = False
        lines = _classify(blocks, hints, marked, languages)
    # A page read as a whole (its main content known, or HTML with a head naming its
    # story): what follows its first story must prove to be a story.
    judged = marked or (bool(head_titles) and any(block.tag for block in blocks))
    seen = _mark_repeats(lines, hints.window)
    zones = _find_zones(lines, seen)
    result = Split(stories=[])
    regions: list[tuple[list[Line], Zone]] = []
    anchor, result.head = _head_anchor(lines, head_titles) if head_titles else (None, False)
    if anchor is not None and not (zones and zones[0].start <= anchor.index <= zones[0].end):
        zones = _anchored(lines, zones, anchor)
        result.mode = "anchored"
    containers = _containers(lines, zones) if result.mode != "anchored" else None
    if containers is not None:
        result.mode = "containers"
        zone_ends = [z.end for z in zones]  # zones are disjoint and in document order
        for container in containers:
            first, last = container[0].index, container[-1].index
            # The first zone ending inside or after the container, if it starts inside.
            nearest = bisect_left(zone_ends, first)
            zone: Zone | None = None
            if nearest < len(zones) and zones[nearest].start <= last:
                found = zones[nearest]
                zone = Zone(max(found.start, first), min(found.end, last))
            zone = zone or _fallback_zone(container)
            if zone is None:
                result.skipped.append("container without text")
                continue
            regions.append((container, zone))
    else:
        if not zones:
            fallback = _fallback_zone(lines)
            zones = [fallback] if fallback else []
        ends = [z.start for z in zones[1:]] + [len(lines)]
        regions = [(lines[z.start : end], z) for z, end in zip(zones, ends, strict=False)]
    for region, zone in regions:
        first = region[0].index if region and not result.stories else 0
        lead = lines[max(0, first - _DATE_REACH) : first]
        story = _parse_story(region, zone, marked, languages if marked else (), lead)
        if isinstance(story, str):
            result.skipped.append(story)
        elif judged and result.stories:
            _append_or_fold(result, story)
        else:
            result.stories.append(story)
    if not result.stories and judged and head_titles:
        page_story = _page_story(lines, anchor, head_titles, languages)
        if page_story is not None:
            result.stories.append(page_story)
            result.mode = "main-content"
    return result


# What an appended story has that a page's furniture after a story has not ("Comments",
# "Related Articles", "Most viewed", a list of teaser links): a headline of a few words,
# a body of some length, and paragraphs rather than links.
MIN_HEADLINE_WORDS = 4
MIN_HEADLINE_CHARACTERS = 12  # for scripts written without spaces
MIN_APPENDED_BODY = 300  # characters: one paragraph this long, or
MIN_APPENDED_PARAGRAPHS = (2, 150)  # two paragraphs this long in all, or
MIN_TIMED_BODY = 100  # a sentence under a header with its own time line
MAX_LINKED_BODY = 0.5


def _full_body(body: list[str], timed: bool) -> bool:
    size = sum(map(len, body))
    paragraphs, least = MIN_APPENDED_PARAGRAPHS
    return (
        size >= MIN_APPENDED_BODY
        or (len(body) >= paragraphs and size >= least)
        or (timed and size >= MIN_TIMED_BODY)
    )


# A first story's body is the lead-in of the text after a widget's heading when it is
# under this many characters and the text this many times as long.
_LEAD_IN = 600
_LEAD_IN_RATIO = 3


def _short_beside(body: list[str], after: list[str]) -> bool:
    size = sum(map(len, body))
    return size < _LEAD_IN and sum(map(len, after)) >= _LEAD_IN_RATIO * max(size, 1)


def _append_or_fold(result: Split, story: StoryParts) -> None:
    """Keep a story found after the page's first one, on a page read as a whole, only if
    it is one.
    A "headline" that reads as a paragraph (a sentence, or as long as one) was a false
    boundary in the story before, whose text it goes back into; a section heading of the
    page's furniture ends the stories."""
    sentence = story.title.endswith(SENTENCE_END) and len(story.title) >= PARAGRAPH_LENGTH
    if sentence or len(story.title) > MAX_HEADLINE:
        result.stories[-1].body.extend([story.title, *story.summary, *story.body])
        result.skipped.append("paragraph taken for a headline")
        return
    words = len(story.title.split())
    short = words < MIN_HEADLINE_WORDS and (story.title.isascii() or words > 1)
    first = result.stories[-1]
    if (
        len(result.stories) == 1
        and (short or len(story.title) < MIN_HEADLINE_CHARACTERS)
        and _short_beside(first.body, story.body)
        and story.linked <= MAX_LINKED_BODY
    ):
        # A widget's heading between the page's headline and its text ("Breaking News
        # Emails", "Key points"): the text, its time and byline are the first story's,
        # and the few lines before the widget were its header's (a summary, the widget's).
        first.summary.extend(first.body)
        first.body, first.dateline, first.linked = story.body, story.dateline, story.linked
        if first.updated_raw is None:
            first.updated_raw, first.updated_datetime = story.updated_raw, story.updated_datetime
        first.authors = first.authors or story.authors
        result.skipped.append("a widget's heading inside the first story")
        return
    if (
        short
        or len(story.title) < MIN_HEADLINE_CHARACTERS
        or not _full_body(story.body, timed=story.updated_raw is not None)
        or story.linked > MAX_LINKED_BODY
    ):
        result.skipped.append("page furniture after a story")
        return
    result.stories.append(story)


def head_headline(head_titles: Sequence[str]) -> str:
    """The headline a page's head names, without the site name a <title> carries
    ("Headline | Site"): the first part before a separator, where it holds most of it."""
    title = head_titles[0].strip()
    for sep in _TITLE_SUFFIXES:
        first = title.split(sep)[0].strip()
        if len(first) >= 0.5 * len(title):
            title = first
    return title


def _page_story(
    lines: list[Line], anchor: Line | None, head_titles: Sequence[str], languages: tuple[str, ...]
) -> StoryParts | None:
    """A page with no story header of its own (no time line or heading beside its
    headline): one story, the page's main content under the headline its head names."""
    title = anchor.text if anchor is not None else head_headline(head_titles)
    start = anchor.index + 1 if anchor is not None else 0
    times = [ln for ln in lines[start : start + _DATE_REACH] if ln.kind is Kind.TIME]
    times = times or _dates_alone(lines[start : start + _DATE_REACH], anchor, languages)
    skip = {normalize(title)} | {ln.key for ln in times}
    summary, body = _summary_and_body(_groups(lines[start:], skip))
    body = _story_text(body)
    if not body:
        return None
    images = [ln for ln in lines if ln.kind is Kind.IMAGE and ln.block.attrs.get("src")]
    return _story_parts(title, summary, body, times, images, lines[start : start + _DATE_REACH])
