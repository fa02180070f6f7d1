"""What goes wrong on the hostile web, named: each fault a crawl meets has one kind.

Pure functions over bytes and exceptions (no Scrapy components here): the downloader
middlewares and the spider's errback use them to count every fault under
``newscrawl/faults/<outcome>/<kind>``, where the outcome is ``seen`` (each faulty
attempt), ``recovered`` (the page came in on a retry), ``repaired`` (the page was read
after a fix: its charset, its nesting) or ``lost`` (the page could not be read).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from scrapy.exceptions import IgnoreRequest

# Exceptions of a download, by class name (Twisted's and Scrapy's), and their kind.
_EXCEPTION_KINDS = {
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DownloadCancelledError": "too_large",
    "ResponseDataLossError": "truncated",
    "_DataLoss": "truncated",
    "DownloadFailedError": "connection_reset",
    "ResponseNeverReceived": "connection_reset",
    "ResponseFailed": "connection_reset",
    "ConnectionLost": "connection_reset",
    "ConnectionDone": "connection_reset",
    "ConnectionResetError": "connection_reset",
    "DownloadConnectionRefusedError": "connection_refused",
    "ConnectionRefusedError": "connection_refused",
    "CannotResolveHostError": "dns",
    "DNSLookupError": "dns",
}


class PageFault(IgnoreRequest):
    """A response that is no page to read (a challenge, an empty body, ...): its kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def exception_kind(exception: BaseException) -> str:
    """The fault kind of a download exception (``error_<Name>`` when not a known one)."""
    name = type(exception).__name__
    return _EXCEPTION_KINDS.get(name, f"error_{name}")


def status_kind(status: int) -> str:
    return f"http_{status}"


def failure_kind(exception: BaseException) -> str | None:
    """The kind of a request's final failure; None when it is no fault (robots.txt said no)."""
    if isinstance(exception, PageFault):
        return exception.kind
    response = getattr(exception, "response", None)  # HttpError: retries spent on a status
    if response is not None and hasattr(response, "status"):
        return status_kind(int(response.status))
    if isinstance(exception, IgnoreRequest):
        text = str(exception)
        if "robots.txt" in text:
            return None
        if "max redirections" in text:
            return "redirect_loop"
        if "DOWNLOAD_MAXSIZE" in text:  # too large once decompressed
            return "too_large"
        if "offsite" in text.lower():
            return "offsite_redirect"
        return "ignored"
    return exception_kind(exception)


# --- bot challenges ---

# The whole <title> of the challenge and block pages CDNs and bot managers serve with
# status 200 (an article's title carries the site's name too, so it never matches).
_CHALLENGE_TITLES = re.compile(
    rb"<title[^>]*>\s*(just a moment\.\.\.|attention required! \| cloudflare|access denied|"
    rb"are you a robot\?|please wait\.\.\.|ddos-guard|one more step|"
    rb"pardon our interruption|verify you are human)\s*</title>",
    re.IGNORECASE,
)
# Markup and words only challenge pages carry (looked for in the lowercased page, as
# plain substring tests: far cheaper than a case-blind regex over every page). Script
# hosts that ordinary pages load too (Cloudflare's bot detection, reCAPTCHA) are no sign.
_CHALLENGE_MARKS = (
    b"cf_chl_",
    b"cf-browser-verification",
    b"_incapsula_resource",
    b"px-captcha",
    b"captcha-delivery",
    b"checking your browser before accessing",
    b"enable javascript and cookies to continue",
)
# A challenge page is a few kB; an article that merely mentions one is far longer.
_CHALLENGE_MAX_BYTES = 64 * 1024


def looks_like_challenge(body: bytes) -> bool:
    """Is this HTML a bot-challenge or block page rather than the page asked for?"""
    if len(body) > _CHALLENGE_MAX_BYTES:
        return False
    if _CHALLENGE_TITLES.search(body, 0, 8192):
        return True
    lowered = body.lower()
    return any(mark in lowered for mark in _CHALLENGE_MARKS)


# --- charsets ---

_LATIN = ("latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252", "ascii")


class CharsetRepair(NamedTuple):
    """A body read otherwise than its label says, and the fault that made it so."""

    text: str
    encoding: str
    # "charset": the label is wrong (the text is read in the body's real encoding);
    # "invalid_utf8": the label is right, but some bytes are no UTF-8 (each read as U+FFFD).
    kind: str


def repair_charset(body: bytes, declared: str, candidates: Sequence[str]) -> CharsetRepair | None:
    """How to read a ``body`` that is not in its ``declared`` encoding; None when it is.

    A body that does not decode as the utf-8 it claims is either UTF-8 with some bytes
    broken (it has valid multi-byte characters, more than broken ones): read as UTF-8,
    each broken byte run a U+FFFD, which the quarantine catches; or in another encoding
    altogether: read in the most plausible of ``candidates`` (charset-normalizer judges).
    Reading broken UTF-8 as cp1252 would publish the broken bytes as mojibake (ÿþÃ().
    A body labelled latin-1 that is valid utf-8 with non-ASCII bytes in it is utf-8 (the
    reverse mistake).
    """
    codec = declared.lower().replace("_", "-")
    if codec in ("utf-8", "utf8"):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return _broken_utf8(body) or _best_guess(body, candidates)
        return None
    if codec in _LATIN and not body.isascii():
        try:
            return CharsetRepair(body.decode("utf-8"), "utf-8", "charset")
        except UnicodeDecodeError:
            return None
    return None


def _broken_utf8(body: bytes) -> CharsetRepair | None:
    """The body read as UTF-8 with U+FFFD for its broken bytes, when it is UTF-8 at heart.

    A page in a legacy encoding (cp1256, latin-1) almost never holds a valid multi-byte
    UTF-8 sequence, and breaks UTF-8 at nearly every non-ASCII letter; a UTF-8 page with
    a few bad bytes is the other way round.
    """
    text = body.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    broken = replaced - body.count("\ufffd".encode())  # U+FFFD the page itself held
    whole = len(text) - len(text.encode("ascii", errors="ignore")) - replaced
    if whole <= broken:
        return None
    return CharsetRepair(text, "utf-8", "invalid_utf8")


def _best_guess(body: bytes, candidates: Sequence[str]) -> CharsetRepair | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=list(candidates)).best()
    if best is None:
        return None
    return CharsetRepair(str(best), str(best.encoding), "charset")
