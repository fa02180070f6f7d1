"""Extraction on real news pages: newscrawl next to trafilatura and htmldate, one run.

    python benchmarks/extraction.py [--data ../shared/data] [--limit N] [--json FILE]

Two sets of real single-story pages with hand-made ground truth (see the set's own
README.md): ``aeb/`` (article bodies) and ``htmldate-mediacloud/`` (publication days).
On the same pages, in the same process, it runs newscrawl (page record, then
``stories_from_page``; the first story is the page's) and the peers
(``trafilatura.extract`` for the body, ``htmldate.find_date`` with extensive search for
the date), and prints:

- body precision / recall / F1 with the AEB metric (multisets of word 4-gram shingles of
  ``\\w+`` tokens; precision and recall are means over pages, F1 from those two means);
- exact-day date accuracy on mediacloud, with how many pages got no date or a wrong one;
- stories per page (0 / 1 / 2+) over both sets (every page holds one story);
- milliseconds per page and newscrawl's time as a share of trafilatura's;
- title accuracy where a set's ground truth has titles (neither of these two has).

With ``--candidates`` it also scores the main-content extractors newscrawl chose among
(resiliparse, which it uses, readability-lxml and jusText, beside trafilatura), each
alone on the AEB pages: body figures and ms per page.

The peers are a benchmark extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.page.walk import saved_page_record
from newscrawl.records.story import StoryRecord
from newscrawl.sites import SiteProfile, get_site
from newscrawl.stories.content import stories_from_page
from newscrawl.stories.timestamps import given_anchor

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
TOKEN = re.compile(r"\w+")
FETCHED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    """The AEB metric's shingles: word 4-grams of the text's ``\\w+`` tokens, counted."""
    tokens = TOKEN.findall(text)
    if len(tokens) < size:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def precision_recall(extracted: str, truth: str) -> tuple[float, float]:
    """One page's precision and recall under the AEB metric."""
    got, want = shingles(extracted), shingles(truth)
    if not got and not want:
        return 1.0, 1.0
    if not got:
        return 0.0, 0.0
    tp = sum((got & want).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


@dataclass
class Scores:
    """One extractor's figures over a set."""

    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    seconds: float = 0.0
    pages: int = 0
    days_right: int = 0
    days_missing: int = 0
    days_wrong: int = 0
    stories: Counter[str] = field(default_factory=Counter)

    def f1(self) -> tuple[float, float, float]:
        if not self.precisions:
            return 0.0, 0.0, 0.0
        p = sum(self.precisions) / len(self.precisions)
        r = sum(self.recalls) / len(self.recalls)
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def ms_per_page(self) -> float:
        return 1000 * self.seconds / self.pages if self.pages else 0.0


def decode(data: bytes) -> str:
    """A page's text: UTF-8 where it is, else the charset its markup declares."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        declared = re.search(rb"charset=[\"']?([\w-]+)", data[:4096])
        try:
            return data.decode(declared[1].decode() if declared else "cp1252", "replace")
        except LookupError:
            return data.decode("cp1252", "replace")


def newscrawl_stories(data: bytes, url: str, site: SiteProfile) -> list[StoryRecord]:
    page = saved_page_record(
        data, url=url, fetched_at=FETCHED.isoformat(), site=site.name, markup=True
    )
    return list(stories_from_page(page, site, anchor=given_anchor(FETCHED)).stories)


def story_day(story: StoryRecord, timezone_name: str = "UTC") -> str | None:
    """The day of a story's publication time as the page printed it: the day an ISO 8601
    or RFC 2822 time prints (in its own offset or zone), else the day in the timezone its text was
    read in (the site's); else the same for its updated time."""
    for stamp in (story.published, story.updated_machine, story.updated):
        if not stamp or not stamp.get("value"):
            continue
        raw = str(stamp.get("raw") or "").strip()
        if printed := _ISO_DAY.match(raw):
            return "-".join(printed.groups())
        if _RFC_2822.match(raw):  # "Wed, 28 Oct 2020 22:22:49 GMT": the day it prints
            return f"{parsedate_to_datetime(raw):%Y-%m-%d}"
        read = datetime.fromisoformat(str(stamp["value"])).astimezone(ZoneInfo(timezone_name))
        return f"{read:%Y-%m-%d}"
    return None


# The day an ISO 8601 time prints, in its extended or basic form, whatever follows it
# (an offset, a zone's name).
_ISO_DAY = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?=[Tt ]|$)")
# An RFC 2822 time with its zone, as feeds and some JSON-LD print it.
_RFC_2822 = re.compile(
    r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})?"
    r" (?:[+-]\d{4}|GMT|UT|UTC)\Z"
)


def count_stories(scores: Scores, found: int) -> None:
    scores.stories["0" if found == 0 else "1" if found == 1 else "2+"] += 1


def timed(scores: Scores, work: Callable[[], Any]) -> Any:
    clock = time.perf_counter()
    try:
        return work()
    finally:
        scores.seconds += time.perf_counter() - clock
        scores.pages += 1


def aeb_pages(data: Path, limit: int | None) -> Iterator[tuple[str, bytes, str]]:
    truth = json.loads((data / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for n, (page_id, entry) in enumerate(sorted(truth.items())):
        if limit is not None and n >= limit:
            return
        body = gzip.decompress((data / "aeb" / "html" / f"{page_id}.html.gz").read_bytes())
        yield str(entry.get("url") or f"https://aeb.invalid/{page_id}"), body, entry["articleBody"]


def mediacloud_pages(data: Path, limit: int | None) -> Iterator[tuple[str, bytes, str]]:
    folder = data / "htmldate-mediacloud"
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    for n, (url, entry) in enumerate(sorted(truth.items())):
        if limit is not None and n >= limit:
            return
        path = folder / "html" / f"{entry['file']}.gz"
        yield url, gzip.decompress(path.read_bytes()), entry["date"]


def run(data: Path, limit: int | None) -> dict[str, dict[str, Scores]]:
    import trafilatura
    from htmldate import find_date

    site = get_site("arabnews")
    results: dict[str, dict[str, Scores]] = {
        "aeb": {"newscrawl": Scores(), "trafilatura": Scores()},
        "mediacloud": {"newscrawl": Scores(), "htmldate": Scores(), "trafilatura": Scores()},
    }
    ours, theirs = results["aeb"]["newscrawl"], results["aeb"]["trafilatura"]
    for url, body, truth in aeb_pages(data, limit):
        stories = timed(ours, lambda: newscrawl_stories(body, url, site))  # noqa: B023
        count_stories(ours, len(stories))
        text = "\n".join(stories[0].body) if stories else ""
        for scores, extracted in ((ours, text),):
            p, r = precision_recall(extracted, truth)
            scores.precisions.append(p)
            scores.recalls.append(r)
        page_text = decode(body)
        peer = timed(theirs, lambda: trafilatura.extract(page_text, url=url) or "")  # noqa: B023
        p, r = precision_recall(peer, truth)
        theirs.precisions.append(p)
        theirs.recalls.append(r)
    ours = results["mediacloud"]["newscrawl"]
    dates, timing = results["mediacloud"]["htmldate"], results["mediacloud"]["trafilatura"]
    for url, body, day in mediacloud_pages(data, limit):
        stories = timed(ours, lambda: newscrawl_stories(body, url, site))  # noqa: B023
        count_stories(ours, len(stories))
        score_day(ours, story_day(stories[0], site.timezone) if stories else None, day)
        page_text = decode(body)
        found = timed(
            dates,
            lambda: find_date(page_text, url=url, extensive_search=True, original_date=True),  # noqa: B023
        )
        score_day(dates, found, day)
        timed(timing, lambda: trafilatura.extract(page_text, url=url))  # noqa: B023
    return results


def _resiliparse(page_text: str, url: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return str(extract_plain_text(page_text, main_content=True, alt_texts=False, links=False))


def _readability(page_text: str, url: str) -> str:
    import lxml.html
    from readability import Document

    summary = Document(page_text).summary(html_partial=True)
    return "".join(map(str, lxml.html.fromstring(summary).itertext())) if summary.strip() else ""


def _justext(page_text: str, url: str) -> str:
    import justext

    paragraphs = justext.justext(page_text.encode("utf-8"), justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _trafilatura(page_text: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(page_text, url=url) or ""


# Main-content extractors, each alone: what newscrawl chose its main-content stage from.
CANDIDATES: dict[str, Callable[[str, str], str]] = {
    "resiliparse": _resiliparse,
    "readability": _readability,
    "justext": _justext,
    "trafilatura": _trafilatura,
}


def run_candidates(data: Path, limit: int | None) -> dict[str, Scores]:
    pages = [(url, decode(body), truth) for url, body, truth in aeb_pages(data, limit)]
    results: dict[str, Scores] = {}
    for name, extract in CANDIDATES.items():
        scores = results[name] = Scores()
        for url, page_text, truth in pages:
            try:
                text = timed(scores, lambda: extract(page_text, url))  # noqa: B023
            except Exception:  # a candidate failing on a page scores that page empty
                text = ""
            p, r = precision_recall(text, truth)
            scores.precisions.append(p)
            scores.recalls.append(r)
    return results


def candidates_report(results: dict[str, Scores]) -> str:
    lines = ["main-content candidates alone (aeb)  body P  body R  body F1  ms/page"]
    for name, scores in results.items():
        p, r, f1 = scores.f1()
        lines.append(f"  {name:<34} {p:6.3f}  {r:6.3f}  {f1:7.3f}  {scores.ms_per_page():7.1f}")
    return "\n".join(lines)


def score_day(scores: Scores, found: str | None, day: str) -> None:
    if found is None:
        scores.days_missing += 1
    elif found[:10] == day:
        scores.days_right += 1
    else:
        scores.days_wrong += 1


def report(results: dict[str, dict[str, Scores]]) -> str:
    aeb, media = results["aeb"], results["mediacloud"]
    lines = ["set         extractor    body P  body R  body F1  day acc (none/wrong)  ms/page"]
    for name, scores in aeb.items():
        p, r, f1 = scores.f1()
        body = f"{p:6.3f}  {r:6.3f}  {f1:7.3f}"
        lines.append(f"aeb         {name:<12} {body}  {'':20}  {scores.ms_per_page():7.1f}")
    for name, scores in media.items():
        judged = scores.days_right + scores.days_missing + scores.days_wrong
        day = (
            f"{scores.days_right / judged:.3f} ({scores.days_missing}/{scores.days_wrong})"
            if judged
            else ""
        )
        lines.append(
            f"mediacloud  {name:<12} {'':6}  {'':6}  {'':7}  {day:<20}  {scores.ms_per_page():7.1f}"
        )
    stories = aeb["newscrawl"].stories + media["newscrawl"].stories
    total = sum(stories.values()) or 1
    lines.append(
        "newscrawl stories per page (both sets, one story each): "
        + ", ".join(f"{k}: {stories[k]} ({stories[k] / total:.0%})" for k in ("0", "1", "2+"))
    )
    ours = aeb["newscrawl"].seconds + media["newscrawl"].seconds
    peer = aeb["trafilatura"].seconds + media["trafilatura"].seconds
    lines.append(f"newscrawl time / trafilatura.extract time (same pages): {ours / peer:.3f}")
    lines.append("title accuracy: no titles in these sets' ground truth")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="default: ../shared/data")
    parser.add_argument("--limit", type=int, help="at most this many pages of each set")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--candidates", action="store_true", help="also score the main-content extractors alone"
    )
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if not (args.data / "aeb").is_dir() or not (args.data / "htmldate-mediacloud").is_dir():
        print(f"extraction benchmark: no data sets in {args.data}", file=sys.stderr)
        return 2
    try:
        results = run(args.data, args.limit)
        candidates = run_candidates(args.data, args.limit) if args.candidates else None
    except ImportError as exc:
        print(f"extraction benchmark: {exc}: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    print(report(results))
    if candidates is not None:
        print(candidates_report(candidates))
    if args.json is not None:
        figures = {
            f"{set_name}/{name}": {
                "f1": scores.f1(),
                "ms_per_page": scores.ms_per_page(),
                "days": [scores.days_right, scores.days_missing, scores.days_wrong],
                "stories": dict(scores.stories),
            }
            for set_name, by_name in results.items()
            for name, scores in by_name.items()
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
