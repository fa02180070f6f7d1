"""The page stage: a fetched page's HTML becomes its page record (``newscrawl.records.page``).

Pure functions over an lxml tree; no Scrapy here. The visible text of the page, in
document order, is the primary evidence (see the site notes): each text block keeps
its tag, classes and container path so the story splitter can use markup as hints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from resiliparse.extract.html2text import extract_plain_text
from w3lib.encoding import html_to_unicode

from newscrawl.records.page import Block, PageRecord, path_segment

# Elements that start a new text block; everything else is inline text.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "time",
        "tr", "ul",
    }
)  # fmt: skip
# Never visible, or not text.
SKIPPED_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
        "canvas", "head", "select", "option", "math", "audio", "video", "map",
    }
)  # fmt: skip
# Attributes worth keeping on a block, as hints for the splitter.
KEPT_ATTRS = ("href", "datetime", "src", "id", "data-nid")
# Class names kept per element: enough that a widget's class follows layout classes.
MAX_CLASSES = 8


def collapse(text: str) -> str:
    """Whitespace (no-break spaces included) folded to single spaces."""
    return " ".join(text.split())


# A run of this many opening tags (comments and white space between them) is a broken
# template's nesting: libxml2 stops building the tree at depth 255 and drops the rest.
_DEEP_RUN = re.compile(
    r"(?:<(?:[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?|!--(?:(?!-->).)*--)>\s*){128,}", re.S
)
_DEEP_RUN_BYTES = re.compile(_DEEP_RUN.pattern.encode(), re.S)
_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_TAG_BYTES = re.compile(_TAG.pattern.encode())
_KEPT_OF_RUN = 16  # the innermost tags of a run, where the page's own markup starts


def _flatten_run(match: re.Match[Any]) -> Any:
    run = match.group(0)
    tags = (_TAG_BYTES if isinstance(run, bytes) else _TAG).findall(run)
    return run[:0].join(tags[-_KEPT_OF_RUN:])


def _too_deep(parser: etree.HTMLParser) -> bool:
    return any("Excessive depth" in error.message for error in parser.error_log)


def _tree(body: str | bytes, parser: etree.HTMLParser) -> etree._Element | None:
    """The tree libxml2 reads from ``body``; None when it finds no element in it. Plain
    lxml elements: lxml.html's element classes cost a Python call per element touched."""
    try:
        return etree.fromstring(body, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, LookupError):
        return None  # LookupError: an unknown codec


def parse_page_html(
    body: str | bytes, encoding: str | None = None
) -> tuple[etree._Element | None, list[str]]:
    """An lxml tree for ``body`` (None when there is no HTML in it), and what reading it
    met: ``deep_nesting`` when runs of unclosed tags had to be flattened first, and
    ``deep_nesting_cut`` when what lay deeper than libxml2 reads was lost all the same.

    ``encoding`` is the body's (the response's, from its headers, meta, BOM or a guess):
    libxml2 alone reads only ``<meta charset>`` and takes anything else for latin-1.
    """
    parser = etree.HTMLParser(encoding=encoding if isinstance(body, bytes) else None)
    root = _tree(body, parser)
    if root is None:
        return None, []
    if not _too_deep(parser):
        return root, []
    pattern: Any = _DEEP_RUN_BYTES if isinstance(body, bytes) else _DEEP_RUN
    flat_parser = etree.HTMLParser(encoding=encoding if isinstance(body, bytes) else None)
    flat = _tree(pattern.sub(_flatten_run, body), flat_parser)
    if flat is None:
        return root, ["deep_nesting_cut"]
    return flat, ["deep_nesting_cut" if _too_deep(flat_parser) else "deep_nesting"]


def parse_html(body: str | bytes) -> etree._Element | None:
    """An lxml tree for ``body``, or None when there is no HTML in it."""
    return parse_page_html(body)[0]


# An ISO 8601 date and time, as a tooltip may print a relative time's ("2020-09-20T14:20Z").
_ISO_TIME = re.compile(r"\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_TOOLTIP_TIME_LENGTH = 60


def _is_data_row(row: etree._Element) -> bool:
    """A table row of two or more short cells of inline text (no blocks, images or line
    breaks): a row of data, not a layout table's row (a menu cell beside a story cell)."""
    cells = [cell for cell in row if isinstance(cell.tag, str)]
    return (
        len(cells) >= 2
        and all(cell.tag in ("td", "th") for cell in cells)
        and not any(
            isinstance(d.tag, str) and (d.tag in BLOCK_TAGS or d.tag in ("img", "br"))
            for cell in cells
            for d in cell.iterdescendants()
        )
        and all(sum(map(len, cell.itertext())) <= _DATA_CELL_LENGTH for cell in cells)
    )


# Longer than this, a cell holds text of its own, not a datum.
_DATA_CELL_LENGTH = 120


def _is_hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if not style:
        return False
    style = style.replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


# A path on the page's own site that urljoin would keep as it is: no fragment, no
# parameters, no white space, no empty query (urljoin drops one).
_SITE_PATH = re.compile(r"/(?!/)[\w\-./%~+,:@!$'()*=&]*(?:\?[\w\-./%~+,:@!$'()*=&]+)?\Z")


@lru_cache(maxsize=1024)  # a page repeats its own links (a menu twice, a footer)
def _absolute(base_url: str, href: str) -> str | None:
    """``href`` made absolute, or None when it is no URL (``http://[`` makes urljoin raise)."""
    if "/." not in href and "[" not in href and "]" not in href:  # no dot segment, no IPv6
        if href.startswith(("https://", "http://")):
            return href  # absolute already
        if _SITE_PATH.match(href) and (origin := _origin(base_url)):
            return origin + href  # the site's own path, as urljoin makes it
    try:
        return urljoin(base_url, href)
    except ValueError:
        return None


@lru_cache(maxsize=256)
def _origin(url: str) -> str | None:
    """``https://host`` of an http(s) URL with no IPv6 host, else None."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if scheme not in ("http", "https") or not host or "[" in host:
        return None
    return f"{scheme}://{host}"


def _classes(el: etree._Element) -> tuple[str, ...]:
    value = el.get("class")
    return tuple(value.split()[:MAX_CLASSES]) if value else ()


class _BlockWalker:
    """Walks an element tree in document order, emitting text blocks."""

    def __init__(self, base_url: str, main: MainContent | None) -> None:
        self.base_url = base_url
        self.main = main
        self.blocks: list[Block] = []
        self.tooltip: str | None = None  # an ISO time an element of the run has as title

    def walk(self, el: etree._Element, path: tuple[str, ...], classes: tuple[str, ...]) -> None:
        run: list[str] = []
        links: list[tuple[str, str]] = []
        if el.tag == "tr" and _is_data_row(el):
            # A row of a data table reads as one line, its cells side by side.
            for cell in el:
                if isinstance(cell.tag, str) and not _is_hidden(cell):
                    self._collect(cell, path, run, links, el, classes)
                    run.append(" ")
            links.clear()  # a row is no link of its own
            self._flush(el, path, run, links, classes)
            return
        self._collect(el, path, run, links, el, classes)
        if run or links:
            self._flush(el, path, run, links, classes)

    def _collect(
        self,
        el: etree._Element,
        path: tuple[str, ...],
        run: list[str],
        links: list[tuple[str, str]],
        owner: etree._Element,
        owner_classes: tuple[str, ...],
    ) -> None:
        """Add the inline text under ``el`` to ``run``; block children flush and recurse.
        White space opening a run is left out (it would be collapsed away). An element's
        text and tail are read once each: lxml decodes them anew on every read."""
        text = el.text
        if text and (run or not text.isspace()):
            run.append(text)
        index = 0
        for child in el:
            tag = child.tag
            tail = child.tail
            if not isinstance(tag, str):  # comments, processing instructions
                if tail and (run or not tail.isspace()):
                    run.append(tail)
                continue
            child_index = index
            index += 1
            if tag in SKIPPED_TAGS or _is_hidden(child):
                pass
            elif tag in BLOCK_TAGS:
                if run or links:
                    self._flush(owner, path, run, links, owner_classes)
                classes = _classes(child)
                self.walk(child, (*path, path_segment(tag, classes, child_index)), classes)
            elif tag == "img":
                if run or links:
                    self._flush(owner, path, run, links, owner_classes)
                src = child.get("src")
                url = _absolute(self.base_url, src) if src else None
                if url:
                    self.blocks.append(
                        Block(
                            text=collapse(child.get("alt") or ""),
                            tag="img",
                            classes=_classes(child),
                            path=path,
                            attrs={"src": url},
                        )
                    )
            elif tag == "br":
                run.append(" ")
            else:
                start = len(run)
                if (told := child.get("title")) and _ISO_TIME.match(told):
                    self.tooltip = told.strip()
                if len(child):
                    self._collect(child, path, run, links, owner, owner_classes)
                elif leaf := child.text:  # a leaf: most inline elements
                    run.append(leaf)
                href = child.get("href") if tag == "a" else None
                if (
                    href
                    and not href.startswith(("#", "javascript:"))  # not in-page widgets
                    and (url := _absolute(self.base_url, href))
                ):
                    links.append((url, collapse("".join(run[start:]))))
            if tail and (run or not tail.isspace()):
                run.append(tail)

    def _flush(
        self,
        el: etree._Element,
        path: tuple[str, ...],
        run: list[str],
        links: list[tuple[str, str]],
        classes: tuple[str, ...],
    ) -> None:
        text = collapse("".join(run))
        # The whole block is one link: the block's own href.
        only_link = links[0][0] if len(links) == 1 and links[0][1] == text else None
        run.clear()
        links.clear()
        # A "2 hours ago" with its time in a tooltip, on the block or an inline element.
        tooltip, self.tooltip = self.tooltip, None
        if not text:
            return
        names = el.keys()  # most blocks have no attribute at all
        attrs = {k: v for k in KEPT_ATTRS if k in names and (v := el.get(k))} if names else {}
        if "title" in names and (told := el.get("title")) and _ISO_TIME.match(told):
            tooltip = told.strip()
        # Only a short block is a time with a tooltip: a paragraph stays a paragraph
        # ("The vote came <abbr title=...>yesterday</abbr> after ...").
        if "datetime" not in attrs and tooltip and len(text) <= _TOOLTIP_TIME_LENGTH:
            attrs["datetime"] = tooltip
        if "href" in attrs:
            href = _absolute(self.base_url, attrs["href"])
            if href is None:
                del attrs["href"]
            else:
                attrs["href"] = href
        if only_link:
            attrs["href"] = only_link
        self.blocks.append(
            Block(
                text=text,
                tag=el.tag,
                classes=classes,
                path=path,
                attrs=attrs,
                main=self.main is None or self.main.holds(text),
            )
        )


def text_blocks(
    root: etree._Element, base_url: str = "", main: MainContent | None = None
) -> list[Block]:
    """The visible text blocks of a page, in document order; links made absolute; those
    outside ``main`` (the page's main content, when known) marked ``main=False``."""
    body = root.find("body")
    if body is None:
        body = root
    walker = _BlockWalker(base_url, main)
    walker.walk(body, (), _classes(body))
    return walker.blocks


# A block this long is main content when its text stands inside the main content
# (resiliparse joins what the block walker splits, and the other way round), and a
# longer one when it opens with this many characters of it (the two print white space
# and punctuation between inline elements a little differently).
_WITHIN_MAIN = 20
_OPENS_MAIN = 50


@dataclass(frozen=True, slots=True)
class MainContent:
    """A page's main content: its lines, case-folded with their white space collapsed,
    and those lines joined."""

    lines: frozenset[str]
    joined: str

    def holds(self, text: str) -> bool:
        """Whether a block's text (its white space collapsed) is part of the main content.
        Empty blocks are (resiliparse prints no text for images and the like)."""
        key = text.casefold()  # case folding makes no white space: folded as the lines
        if not key or key in self.lines or (len(key) >= _WITHIN_MAIN and key in self.joined):
            return True
        if len(key) < _OPENS_MAIN:
            return False
        # A long block: its opening, middle or end (resiliparse may leave out a first
        # line the block walker joined to the text, or a last one).
        middle = (len(key) - _OPENS_MAIN) // 2
        return any(
            part in self.joined
            for part in (key[:_OPENS_MAIN], key[middle : middle + _OPENS_MAIN], key[-_OPENS_MAIN:])
        )


def main_content(root: etree._Element, markup: str | None = None) -> MainContent | None:
    """The page's main content as resiliparse's main-content extraction finds it, or None
    where it finds none (then every block counts as main; the splitter also reads a page
    whole where what is marked main holds next to no text).

    resiliparse judges blocks by link and text density, size, position and tag and class
    vocabulary; measured on real pages beside trafilatura, readability-lxml and jusText
    (``benchmarks/extraction.py --candidates``) it is the fastest by far. ``markup`` is
    the page as sent, which resiliparse reads faster than the tree serialized again.
    """
    text = extract_plain_text(
        markup if markup is not None else etree.tostring(root, encoding="unicode", method="html"),
        main_content=True,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        list_bullets=False,
    )
    lines = [" ".join(line.split()) for line in text.casefold().splitlines()]
    found = frozenset(line for line in lines if line)
    return MainContent(found, " ".join(lines)) if found else None


def plain_text_blocks(text: str) -> list[Block]:
    """Blocks of a plain-text page (one line each; blank lines kept as empty blocks).

    Blank lines are separators in plain page text, so they are kept for the splitter.
    """
    return [Block(text=collapse(line)) for line in text.splitlines()]


def head_metadata(
    root: etree._Element, base_url: str = ""
) -> tuple[dict[str, str], dict[str, str], list[Any]]:
    """(meta, links, jsonld) of the page head. They describe the first story only."""
    meta: dict[str, str] = {}
    links: dict[str, str] = {}
    jsonld: list[Any] = []
    for el in root.iter("meta", "link", "script"):  # one pass over the page, in order
        if el.tag == "meta":
            key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
            content = el.get("content")
            if key and content is not None and key not in meta:
                meta[key] = content.strip()
        elif el.tag == "link":
            href = el.get("href")
            url = _absolute(base_url, href.strip()) if href else None
            for rel in (el.get("rel") or "").lower().split():
                if url and rel in ("canonical", "shortlink", "amphtml", "alternate", "image_src"):
                    links.setdefault(rel, url)
        elif el.get("type") == "application/ld+json" and (found := _json_ld(el.text or "")):
            jsonld.append(found[0])
    return meta, links, jsonld


_JSON = json.JSONDecoder()


def _json_ld(text: str) -> tuple[Any] | None:
    """The value a JSON-LD script holds (in a tuple), or None where it holds none: broken
    JSON-LD is common and never fatal. Text after the value (a stray closing brace, a
    second object) is left out, so that the value is read all the same."""
    text = text.strip()
    try:
        return (_JSON.raw_decode(text)[0],)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
        return None


def build_page_record(
    *,
    url: str,
    status: int,
    root: etree._Element,
    fetched_at: str,
    response_date: str | None,
    response_age: int | None,
    site: str,
    listed: dict[str, str] | None = None,
    markup: str | None = None,
) -> PageRecord:
    """The page record of one fetched article page; ``markup`` is its text as sent, when
    ``root`` was parsed from it unrepaired (else the tree is serialized again)."""
    meta, links, jsonld = head_metadata(root, url)
    og_url = meta.get("og:url")
    title_el = root.find(".//title")
    title = collapse("".join(map(str, title_el.itertext()))) if title_el is not None else None
    return PageRecord(
        url=url,
        # Made absolute like the head's links: stories parse it as a URL.
        canonical_url=links.get("canonical") or (_absolute(url, og_url) if og_url else None),
        status=status,
        fetched_at=fetched_at,
        response_date=response_date,
        response_age=response_age,
        site=site,
        language=page_language(root, meta, jsonld),
        title=title or None,
        meta=meta,
        links=links,
        jsonld=jsonld,
        blocks=text_blocks(root, url, main_content(root, markup)),
        listed=listed,
    )


# A language code as pages print it: "nl", "pt-BR", "en_US" (not a name: "Dutch").
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_LANGUAGE_META = ("content-language", "Content-Language", "language", "og:locale", "inLanguage")


def page_language(root: etree._Element, meta: dict[str, str], jsonld: list[Any]) -> str | None:
    """The page's language: its ``lang``, else the first language code its head declares
    (Content-Language, a language meta tag, og:locale, JSON-LD ``inLanguage``)."""
    declared = [root.get("lang"), root.get("xml:lang")]
    declared += [meta.get(key) for key in _LANGUAGE_META]
    declared += [e.get("inLanguage") for e in jsonld if isinstance(e, dict)]
    for value in declared:
        if isinstance(value, str) and _LANGUAGE_CODE.fullmatch(code := value.strip()):
            return code
    return None


# Article types of schema.org a page's JSON-LD may name.
ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
     "OpinionNewsArticle", "LiveBlogPosting", "Report", "ReviewNewsArticle"}
)  # fmt: skip


def is_article(page: PageRecord) -> bool:
    """Whether a page's head leaves it an article: JSON-LD naming an Article type, or
    ``og:type`` article; a head that names neither leaves it one."""
    types: set[str] = set()

    def collect(entry: Any) -> None:
        if isinstance(entry, list):
            for item in entry:
                collect(item)
        elif isinstance(entry, dict):
            kind = entry.get("@type")
            if isinstance(kind, str):
                types.add(kind)
            elif isinstance(kind, list):  # scraped JSON-LD may hold anything in it
                types.update(k for k in kind if isinstance(k, str))
            collect(entry.get("@graph"))

    collect(page.jsonld)
    if types & ARTICLE_TYPES:
        return True
    og_type = (page.meta.get("og:type") or "").strip().lower()
    return not og_type or og_type == "article" or og_type.startswith("article:")


def plain_page_record(*, url: str, text: str, fetched_at: str, site: str) -> PageRecord:
    """The page record of a page saved as plain text (no markup, no HTTP headers)."""
    return PageRecord(
        url=url,
        canonical_url=None,
        status=200,
        fetched_at=fetched_at,
        response_date=None,
        response_age=None,
        site=site,
        language=None,
        title=None,
        meta={},
        links={},
        jsonld=[],
        blocks=plain_text_blocks(text),
    )


def _utf8_else_cp1252(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def saved_page_text(data: bytes) -> str:
    """A saved page's text, decoded as a browser would without HTTP headers: by its byte
    order mark, else the charset its markup declares, else UTF-8 where the bytes are
    UTF-8, else windows-1252."""
    return html_to_unicode(None, data, auto_detect_fun=_utf8_else_cp1252)[1]


def saved_page_record(
    data: bytes, *, url: str, fetched_at: str, site: str, markup: bool
) -> PageRecord:
    """The page record of a saved page: HTML when ``markup`` (and there is HTML in it),
    else plain page text. No HTTP headers: relative times count back from ``fetched_at``."""
    text = saved_page_text(data)
    root, repairs = parse_page_html(text) if markup else (None, [])
    if root is None:
        return plain_page_record(url=url, text=text, fetched_at=fetched_at, site=site)
    return build_page_record(
        url=url,
        status=200,
        root=root,
        fetched_at=fetched_at,
        response_date=None,
        response_age=None,
        site=site,
        markup=None if repairs else text,
    )
