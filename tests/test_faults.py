"""The hostile web: a crawl of a mirror whose pages misbehave loses no story, counts each
fault under its own name, quarantines what it cannot trust, and fails a dead site."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ftfy.badness import is_bad
from scrapy.utils.test import get_crawler

from newscrawl.cli.main import mirror_process
from newscrawl.cli.run import EXIT_FAILED, EXIT_OK
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.fetch.faults import PageFault, failure_kind, looks_like_challenge, repair_charset
from newscrawl.records.checks import text_faults
from newscrawl.records.story import StoryRecord
from newscrawl.validate.pipeline import ValidationPipeline
from newscrawl_mirror.faults import CHALLENGE_PAGE, INVALID_UTF8, mislabelled_page
from tests.conftest import Mirror
from tests.crawling import project_settings
from tests.records import story_line
from tests.test_dedup import served_stories, text_of

ROOT = Path(__file__).resolve().parent.parent
# A plan in which every page fault the mirror knows strikes some crawlable article.
ARTICLES, CONTENT_SEED, FAULT_SEED = 100, 8, 16
ARTICLE = re.compile(r"/node/\d+/[a-z-]+")
# What the crawler calls each of the mirror's faults.
KIND = {
    "http-500": "http_500",
    "http-502": "http_502",
    "http-503-retry-after": "http_503",
    "http-429": "http_429",
    "reset": "connection_reset",
    "stall": "timeout",
    "truncated": "truncated",
    "charset-cp1256": "charset",
    "charset-latin1-as-utf8": "charset",
    "charset-utf8-as-latin1": "charset",
    "invalid-utf8": "invalid_utf8",
    "challenge": "challenge",
    "redirect-loop": "redirect_loop",
    "redirect-offsite": "offsite_redirect",
    "huge": "too_large",
    "nested": "deep_nesting",
    "empty": "empty",
    "not-html": "not_html",
    "not-xml": "challenge",  # the mirror's not-XML feed is a challenge page
}
REPAIRED = {"charset-cp1256", "charset-latin1-as-utf8", "charset-utf8-as-latin1", "nested"}
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]
# A stall outlasts this; retries come quickly (Retry-After: 1 is still honoured).
FAST += ["-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_BACKOFF_BASE=0.1", "-s", "RETRY_BACKOFF_MAX=2"]
RETRIES = 3  # RETRY_TIMES in newscrawl's settings


def newscrawl_run(base_url: str, output: Path, *extra: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews"]
    command += ["-a", f"base_url={base_url}", "--output-dir", str(output), *FAST, *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stderr


def only_manifest(output: Path) -> dict[str, Any]:
    [path] = output.glob("arabnews/2*/*/*/*.manifest.json")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def pages_with(log: list[dict[str, Any]], fault: str) -> set[int]:
    """The article pages (nids) the mirror served with ``fault``."""
    return {
        int(entry["path"].split("/")[2])
        for entry in log
        if ARTICLE.fullmatch(entry["path"]) and entry["status"] == 200 and entry["fault"] == fault
    }


def published(output: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in output.glob("arabnews/2*/*/*/*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


@pytest.fixture(scope="module")
def faulty_mirror() -> Iterator[Mirror]:
    with mirror_process(
        ARTICLES, CONTENT_SEED, "--faults", "0.3", "--fault-seed", str(FAULT_SEED)
    ) as base_url:
        yield Mirror(base_url)


@pytest.fixture(scope="module")
def faulty_run(
    faulty_mirror: Mirror, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, Path, list[dict[str, Any]]]:
    """One run of `newscrawl run` over the faulty mirror, and what the mirror served."""
    output = tmp_path_factory.mktemp("faulty")
    code, log = newscrawl_run(faulty_mirror.base_url, output)
    return code, log, output, faulty_mirror.requests()


@pytest.mark.slow
def test_a_site_with_30_percent_faulty_pages_is_crawled_successfully(
    faulty_run: tuple[int, str, Path, list[dict[str, Any]]],
) -> None:
    code, log, output, served = faulty_run
    assert code == EXIT_OK, log[-3000:]
    manifest = only_manifest(output)
    assert manifest["status"] == "ok"
    assert manifest["counts"]["pages_lost"] > 0  # the permanent faults cost pages
    # Every page whose charset was repaired was read right: only the story each page
    # with bytes that are no UTF-8 holds them in was kept aside.
    assert manifest["counts"]["stories_quarantined"] == len(pages_with(served, "invalid-utf8"))
    assert manifest["quarantined"] is not None


@pytest.mark.slow
def test_every_story_of_every_page_served_whole_is_written_once(
    faulty_mirror: Mirror, faulty_run: tuple[int, str, Path, list[dict[str, Any]]]
) -> None:
    _, _, output, log = faulty_run
    whole = {
        int(entry["path"].split("/")[2])
        for entry in log
        if ARTICLE.fullmatch(entry["path"])
        and entry["status"] == 200
        and (entry["fault"] is None or entry["fault"] in REPAIRED)
    }
    expected = served_stories(faulty_mirror, whole)
    # A page with bytes that are no UTF-8 in its own story gives the stories after it.
    broken = pages_with(log, "invalid-utf8")
    around = served_stories(faulty_mirror, broken)
    expected = {**{n: s for n, s in around.items() if n not in broken}, **expected}
    records = published(output)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())
    assert len({r["key"] for r in records}) == len(records)


@pytest.mark.slow
def test_no_record_holds_challenge_text_or_mojibake(
    faulty_run: tuple[int, str, Path, list[dict[str, Any]]],
) -> None:
    records = published(faulty_run[2])
    assert records
    for record in records:
        texts = [record["title"], *record["summary"], *record["body"], record["caption"] or ""]
        for text in texts:
            assert "\ufffd" not in text
            assert not is_bad(text), text
            for legacy in ("cp1252", "cp1256"):  # what broken UTF-8 guessed as either gives
                assert INVALID_UTF8.decode(legacy, errors="ignore") not in text, text
            assert not looks_like_challenge(text.encode()), text
            assert "Just a moment" not in text


@pytest.mark.slow
def test_each_fault_is_counted_under_its_own_name(
    faulty_mirror: Mirror, faulty_run: tuple[int, str, Path, list[dict[str, Any]]]
) -> None:
    _, _, output, log = faulty_run
    faults = only_manifest(output)["faults"]
    plan = faulty_mirror.get("/_mirror/faults.json")
    requested = {entry["path"] for entry in log}
    met = {plan[path]["fault"] for path in requested & set(plan)}
    assert met >= {f for f in KIND if f != "not-xml"}  # the plan hits every page fault
    expected: dict[str, Counter[str]] = {}
    for path in requested & set(plan):
        name, failures = plan[path]["fault"], plan[path]["failures"]
        counts = expected.setdefault(KIND[name], Counter())
        if failures is not None:  # transient: fails that often, then the retry gets it
            counts["seen"] += failures
            counts["recovered"] += 1
        elif name in REPAIRED:
            counts["seen"] += 1
            counts["repaired"] += 1
        elif name == "invalid-utf8":  # read, U+FFFD for the bytes: its story quarantined
            counts["seen"] += 1
            counts["lost"] += 0
            counts["repaired"] += 0
        else:  # permanent: the page is lost; a truncated body is retried first
            counts["seen"] += RETRIES + 1 if name == "truncated" else 1
            counts["lost"] += 1
    for kind, counts in expected.items():
        assert kind in faults, kind
        assert {o: faults[kind][o] for o in counts} == dict(counts), kind


@pytest.mark.slow
def test_a_site_that_answers_only_5xx_fails_the_run_with_the_reason(tmp_path: Path) -> None:
    with mirror_process(20, 3, "--outage", "503") as base_url:
        code, log = newscrawl_run(base_url, tmp_path, "-s", "RETRY_TIMES=1")
    assert code == EXIT_FAILED, log[-3000:]
    [line] = [line for line in log.splitlines() if "Run " in line and " failed: " in line]
    assert "Pages fetched: no page could be fetched" in line
    assert "HTTP 503" in line


# The pure parts.


def test_challenge_pages_are_told_from_articles() -> None:
    assert looks_like_challenge(CHALLENGE_PAGE.encode())
    assert looks_like_challenge(
        b"<html><head><title>Attention Required! | Cloudflare</title></head></html>"
    )
    assert looks_like_challenge(b"<html><body><script src='/cf_chl_opt.js'></script></body>")
    article = b"<html><head><title>Markets rally | Arab News</title></head><body><p>Up.</p>"
    assert not looks_like_challenge(article)
    # Near misses: what ordinary pages and feeds carry.
    near_misses = [
        b"<html><head><title>Access denied: Gaza aid convoy turned back | Arab News</title>",
        b"<html><body><form><div class='g-recaptcha' data-sitekey='x'></div></form>"
        b"<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script><p>Up.</p>",
        b"<html><body><p>He paused. \xe2\x80\x9cJust a moment...\xe2\x80\x9d</p></body></html>",
        b"<html><body><p>Please enable JavaScript and cookies to watch this video.</p>",
        # An article that writes about challenge pages is far longer than one.
        article + b"<p>Checking your browser before accessing.</p>" + b"<p>More.</p>" * 9000,
    ]
    for page in near_misses:
        assert not looks_like_challenge(page), page[:80]


@pytest.mark.parametrize(
    ("encoding", "label"), [("cp1256", "utf-8"), ("latin-1", "utf-8"), ("utf-8", "iso-8859-1")]
)
def test_a_mislabelled_charset_is_read_in_the_encoding_it_is_in(encoding: str, label: str) -> None:
    page = "<html><head></head><body><p>“Quoted,” she said at the café — it’s done.</p>"
    body = mislabelled_page(page, encoding)
    repaired = repair_charset(body, label, ("cp1256", "cp1252"))
    assert repaired is not None
    assert repaired.kind == "charset"
    text = repaired.text
    # latin-1 has no curly quotes: the page writes them as character references.
    assert "she said at the café" in text
    assert ("“Quoted,”" in text) != ("&#8220;Quoted,&#8221;" in text)
    assert "\ufffd" not in text
    assert repair_charset(page.encode("utf-8"), "utf-8", ("cp1256",)) is None  # right label


@pytest.mark.slow
def test_bytes_that_are_no_utf8_put_their_story_in_quarantine_not_in_the_output(
    faulty_mirror: Mirror, faulty_run: tuple[int, str, Path, list[dict[str, Any]]]
) -> None:
    _, _, output, log = faulty_run
    broken = pages_with(log, "invalid-utf8")
    assert broken
    truth = {article["nid"]: article for article in faulty_mirror.truth()}
    [path] = output.glob("arabnews/quarantine/*.jsonl")
    kept = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = published(output)
    for nid in broken:
        story = truth[nid]
        [line] = [k for k in kept if f"/node/{nid}/" in k["record"]["page_url"]]
        assert line["reason"] == "broken-text"
        assert line["errors"][0].startswith("replacement character in")
        record = line["record"]
        assert record["title"] == story["title"]
        # Read as UTF-8, each broken byte run one U+FFFD; nothing around them lost.
        assert record["body"][0].replace("\ufffd\ufffd\ufffd( ", "") == story["body"][0]
        assert record["body"][1:] == story["body"][1:]
        assert not [
            r for r in records if f"/node/{nid}/" in r["page_url"] and r["title"] == story["title"]
        ]
    assert len(kept) == len(broken)


def test_bytes_that_are_no_utf8_in_a_utf8_page_are_read_as_replacement_characters() -> None:
    page = "<html><body><p>“Quoted,” she said at the café — it’s done.</p>".encode()
    body = page + b"<p>The deal " + INVALID_UTF8 + b" was signed.</p></body></html>"
    repaired = repair_charset(body, "utf-8", ("cp1256", "cp1252"))
    assert repaired is not None
    assert repaired.kind == "invalid_utf8"
    assert repaired.encoding == "utf-8"
    assert "“Quoted,” she said at the café — it’s done." in repaired.text
    assert "The deal \ufffd\ufffd\ufffd( was signed." in repaired.text
    # A page in a legacy encoding breaks UTF-8 at each of its letters: still repaired.
    legacy = mislabelled_page(page.decode() + "<p>صورة من الرياض، الرياض؟</p>", "cp1256")
    guessed = repair_charset(legacy, "utf-8", ("cp1256", "cp1252"))
    assert guessed is not None
    assert (guessed.kind, guessed.encoding) == ("charset", "cp1256")
    assert "صورة من الرياض، الرياض؟" in guessed.text


@pytest.mark.slow
def test_a_site_that_loses_too_many_pages_fails_the_run_naming_them(
    faulty_mirror: Mirror, tmp_path: Path
) -> None:
    code, log = newscrawl_run(
        faulty_mirror.base_url, tmp_path, "-s", "NEWSCRAWL_MAX_LOST_PAGES=0.05"
    )
    assert code == EXIT_FAILED, log[-3000:]
    [line] = [line for line in log.splitlines() if "Run " in line and " failed: " in line]
    assert "Lost pages: " in line
    assert "above NEWSCRAWL_MAX_LOST_PAGES=0.05" in line
    assert "truncated x" in line or "offsite_redirect x" in line  # the commonest named


def test_pages_are_read_in_the_encoding_their_response_says() -> None:
    from newscrawl.page.walk import parse_page_html, text_blocks

    text = "“Quoted,” she said at the café — صورة من الرياض"
    body = f"<html><head></head><body><p>{text}</p></body></html>"  # no meta charset
    for encoding in ("utf-8", "cp1256"):
        data = body.encode(encoding, errors="xmlcharrefreplace")
        root, _ = parse_page_html(data, encoding)
        assert root is not None
        assert [b.text for b in text_blocks(root)] == [text], encoding


def test_content_too_deep_to_read_is_counted_as_cut() -> None:
    from newscrawl.page.walk import parse_page_html

    # Unclosed tags with text between them: no run to flatten, and libxml2 stops at 255.
    page = "<html><body>" + "".join(f"<div><p>Paragraph {n}.</p>" for n in range(400))
    _, found = parse_page_html(page.encode(), "utf-8")
    assert found == ["deep_nesting_cut"]


def test_failures_are_named_by_kind() -> None:
    from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, ResponseDataLossError

    assert failure_kind(DownloadTimeoutError()) == "timeout"
    assert failure_kind(ResponseDataLossError()) == "truncated"
    assert failure_kind(PageFault("challenge", "a challenge page")) == "challenge"
    assert failure_kind(IgnoreRequest("Forbidden by robots.txt")) is None
    assert failure_kind(IgnoreRequest("max redirections reached")) == "redirect_loop"


def story(**changes: Any) -> StoryRecord:
    fields: dict[str, Any] = {
        "id": "arabnews:1", "site": "arabnews", "language": "en", "position": 0,
        "page_url": "http://127.0.0.1/node/1/world", "url": None, "title": "Markets rally",
        "summary": [], "dateline": None, "body": ["Shares rose on Tuesday."], "caption": None,
        "image_url": None, "updated": story_line(1)["updated"], "updated_machine": None,
        "published": None,
        "fetched_at": "2025-03-01T00:00:00+00:00",
    }  # fmt: skip
    fields.update(changes)
    return StoryRecord(**fields)


def test_broken_text_is_told_from_text_in_any_language() -> None:
    assert text_faults({"title": "Le président a dit « non »", "body": ["صورة من الرياض"]}) is None
    assert text_faults({"title": "“Quoted” — done", "body": ["Müller’s café"]}) is None
    found = text_faults({"title": "â€œQuotedâ€\x9d", "body": []})
    assert found is not None
    assert found[0] == "broken-text"
    assert text_faults({"title": "ok", "body": ["lost \ufffd byte"]}) is not None


def test_quarantined_records_are_kept_with_the_reason(crawl_output: Path) -> None:
    crawler = get_crawler(ArabNewsSpider, project_settings())
    crawler.spider = crawler._create_spider()
    pipeline = ValidationPipeline.from_crawler(crawler)
    broken = story(body=["The dealâ€™s terms"])
    with pytest.raises(Exception, match="quarantined"):
        pipeline.process_item(broken)
    invalid = story(body=[])  # the schema wants at least one paragraph
    with pytest.raises(Exception, match="quarantined"):
        pipeline.process_item(invalid)
    assert pipeline.process_item(story()) is not None  # a good record goes on
    pipeline.spider_closed()
    [path] = (crawl_output / "arabnews" / "quarantine").glob("*.jsonl")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["reason"] for line in lines] == ["broken-text", "invalid"]
    assert lines[0]["record"]["body"] == ["The dealâ€™s terms"]
    assert any("body" in error for error in lines[1]["errors"])
    assert crawler.stats is not None
    assert crawler.stats.get_value("newscrawl/quarantined") == 2
    assert crawler.stats.get_value("newscrawl/validation/invalid") == 1
