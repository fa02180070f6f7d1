"""A seeded fault schedule for the mirror site: which paths misbehave, and how.

The plan is a pure function of (rate, seed, path), so a test can ask the plan what a crawl
met. The server keeps the per-path request counts that let transient faults recover.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict

# Fail the first one or two requests of a path, then serve it normally.
TRANSIENT_FAULTS = (
    "http-500",
    "http-502",
    "http-503-retry-after",
    "http-429",
    "reset",
    "stall",
)
# Every request of the path gets the fault.
PERMANENT_FAULTS = (
    "truncated",
    "charset-cp1256",
    "charset-latin1-as-utf8",
    "charset-utf8-as-latin1",
    "invalid-utf8",
    "challenge",
    "redirect-loop",
    "redirect-offsite",
    "huge",
    "nested",
    "empty",
    "not-html",
)
PAGE_FAULTS = TRANSIENT_FAULTS + PERMANENT_FAULTS
FEED_FAULTS = ("not-xml", "http-503-retry-after")
ALL_FAULTS = tuple(dict.fromkeys(PAGE_FAULTS + FEED_FAULTS))

_ARTICLE_PATH = re.compile(r"^/node/\d+/(?!amp$)[^/?]+$")  # AMP copies stay clean
_FEED_PATH = re.compile(r"^/rss\.xml$|^/sitemap\.xml\?page=\d+$")


class PlannedFault(TypedDict):
    fault: str
    transient: bool
    failures: int | None  # requests that fail before the path recovers; None: never recovers


@dataclass(frozen=True)
class Fault:
    name: str
    failures: int | None

    @property
    def transient(self) -> bool:
        return self.failures is not None


class FaultPlan:
    """Which paths are faulty: each eligible path independently, with probability ``rate``."""

    def __init__(self, rate: float = 0.0, seed: int = 1) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {rate}")
        self.rate = rate
        self.seed = seed
        self._served: dict[str, int] = {}
        self._served_lock = threading.Lock()

    def fault_for(self, path: str) -> Fault | None:
        """The fault planned for ``path`` (with its query, for sitemap pages), if any."""
        choices: tuple[str, ...]
        if _ARTICLE_PATH.match(path):
            choices = PAGE_FAULTS
        elif _FEED_PATH.match(path):
            choices = FEED_FAULTS
        else:
            return None  # robots.txt, listings and /_mirror/ are never faulty
        # String seeds hash the same in every process, unlike hash().
        rng = random.Random(f"{self.seed}:{path}:fault")
        if rng.random() >= self.rate:
            return None
        name = rng.choice(choices)
        if name not in TRANSIENT_FAULTS:
            return Fault(name, None)
        # A stall already costs a client its full timeout; once is enough.
        return Fault(name, 1 if name == "stall" else rng.randint(1, 2))

    def strike(self, path: str) -> Fault | None:
        """The fault this request of ``path`` meets: None once a transient fault has recovered."""
        fault = self.fault_for(path)
        if fault is None or fault.failures is None:
            return fault
        with self._served_lock:
            served = self._served.get(path, 0)
            self._served[path] = served + 1
        return fault if served < fault.failures else None

    def describe(self, paths: list[str]) -> dict[str, PlannedFault]:
        """The plan for the faulty ones among ``paths``, as ``/_mirror/faults.json`` shows it."""
        plan: dict[str, PlannedFault] = {}
        for path in paths:
            fault = self.fault_for(path)
            if fault is not None:
                plan[path] = PlannedFault(
                    fault=fault.name, transient=fault.transient, failures=fault.failures
                )
        return plan


# --- what a faulty path serves instead of (or around) its page ---

STALL_SECONDS = 40.0
HUGE_BYTES = 50 * 1024 * 1024
NESTING_DEPTH = 5_000
ARABIC_CAPTION = "صورة من الرياض"
_CHUNK_BYTES = 64 * 1024
_CONTENT_START = '<div class="region-content">\n'

CHALLENGE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>\n"
    '<body><div class="challenge"><h1>Just a moment...</h1>\n'
    "<p>Checking your browser before accessing the site.</p>\n"
    "<noscript>Please enable JavaScript and cookies to continue.</noscript>\n"
    "</div></body></html>\n"
)


def error_page(status: int) -> str:
    return f"<html><body><h1>Error {status}</h1></body></html>\n"


def mislabelled_page(page: str, encoding: str) -> bytes:
    """The page in ``encoding``, to be served under another charset label. Arabic words in
    its head make cp1256 show in the bytes; the stories stay as they are (their curly
    quotes are what a wrong label garbles)."""
    keywords = f'<meta name="keywords" content="{ARABIC_CAPTION}">\n</head>'
    page = page.replace("</head>", keywords, 1)
    # The header's label is the only one (a meta charset would give the parser the truth).
    page = page.replace('<meta charset="utf-8">\n', "", 1)
    return page.encode(encoding, errors="xmlcharrefreplace")


# Never UTF-8: a UTF-16 byte-order mark's two bytes, then a lead byte whose continuation
# is missing (what a CMS leaves when it pastes bytes of another encoding into a story).
INVALID_UTF8 = b"\xff\xfe\xc3("
_FIRST_PARAGRAPH = '<div class="entry-content"><p>'


def invalid_utf8_page(page: str) -> bytes:
    """The page in UTF-8, as labelled, but with bytes that are no UTF-8 in the middle of
    its first story's first paragraph; the rest of the page is whole."""
    start = page.index(_FIRST_PARAGRAPH) + len(_FIRST_PARAGRAPH)
    end = page.index("</p>", start)
    cut = page.rfind(" ", start, (start + end) // 2) + 1 or start
    return page[:cut].encode("utf-8") + INVALID_UTF8 + b" " + page[cut:].encode("utf-8")


def nested_page(page: str) -> str:
    """The page inside thousands of unclosed elements, as a broken template leaves it."""
    opened = "<div>" * NESTING_DEPTH + "<b><i><span><font>\n"
    return page.replace("<body>\n", "<body>\n" + opened, 1)


def huge_page(page: str, size: int = HUGE_BYTES) -> Iterator[bytes]:
    """``size`` bytes of HTML, chunk by chunk: the page's start, then endless filler."""
    start = page.split(_CONTENT_START, 1)[0] + _CONTENT_START
    head = start.encode("utf-8")[:size]
    yield head
    remaining = size - len(head)
    line = b"<p>More of this story is loading.</p>\n"
    filler = line * (_CHUNK_BYTES // len(line))
    while remaining > 0:
        chunk = filler[:remaining]
        remaining -= len(chunk)
        yield chunk


def binary_body(path: str) -> bytes:
    """A few kB that start like a JPEG, the same for the same path."""
    rng = random.Random(f"{path}:binary")
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(4096) + b"\xff\xd9"
