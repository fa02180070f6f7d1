"""Tests of the mirror site's fault injection: the seeded plan and each fault over real HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from newscrawl_mirror import FEED_FAULTS, PAGE_FAULTS, FaultPlan, MirrorServer, MirrorSite
from newscrawl_mirror.faults import (
    ARABIC_CAPTION,
    HUGE_BYTES,
    INVALID_UTF8,
    NESTING_DEPTH,
    TRANSIENT_FAULTS,
)
from newscrawl_mirror.server import build_parser

STARTED_AT = datetime(2025, 2, 6, 9, 0, 0, tzinfo=timezone.utc)
# A clock standing still: the same path renders the same bytes on every server.
SERVER_NOW = STARTED_AT + timedelta(seconds=90)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def page(server: MirrorServer, path: str) -> bytes:
    """A page's bytes with the server's port taken out, to compare pages of two servers."""
    return request(server, path).body.replace(f":{server.port}".encode(), b":PORT")


def request(server: MirrorServer, path: str, timeout: float = 5.0) -> Reply:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, headers, response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def site() -> MirrorSite:
    return MirrorSite(articles=200, seed=1, started_at=STARTED_AT)


@pytest.fixture(scope="module")
def plain(site: MirrorSite) -> Iterator[MirrorServer]:
    with MirrorServer(site, clock=SERVER_NOW.timestamp) as running:
        yield running


@pytest.fixture(scope="module")
def faulty(site: MirrorSite) -> Iterator[MirrorServer]:
    """Every page and feed faulty; each test uses its own paths, so counts do not mix."""
    with MirrorServer(site, clock=SERVER_NOW.timestamp, faults=FaultPlan(1.0, 1)) as running:
        yield running


def paths_with(server: MirrorServer, fault: str) -> list[str]:
    plan = server.fault_plan()
    paths = [path for path, planned in plan.items() if planned["fault"] == fault]
    assert paths, f"no path has {fault!r}"
    return paths


def article_paths(site: MirrorSite) -> list[str]:
    return [article.path for article in site.all_articles()]


# --- the plan ---


def test_plan_is_deterministic_for_a_seed(site: MirrorSite) -> None:
    paths = [*article_paths(site), "/rss.xml", "/sitemap.xml?page=1"]
    first = FaultPlan(0.4, 7).describe(paths)
    assert first == FaultPlan(0.4, 7).describe(paths)
    assert first != FaultPlan(0.4, 8).describe(paths)
    assert first


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.3, 0.5, 1.0])
def test_plan_honours_the_rate(rate: float) -> None:
    plan = FaultPlan(rate, 3)
    paths = [f"/node/{nid}/world" for nid in range(1, 1001)]
    faulty = sum(plan.fault_for(path) is not None for path in paths)
    assert abs(faulty / 1000 - rate) <= 0.05


def test_plan_uses_every_fault_and_only_allowed_ones() -> None:
    plan = FaultPlan(1.0, 1)
    page_faults = {plan.fault_for(f"/node/{nid}/sport") for nid in range(1, 1001)}
    assert {fault.name for fault in page_faults if fault} == set(PAGE_FAULTS)
    feed_faults = {plan.fault_for(f"/sitemap.xml?page={n}") for n in range(1, 200)}
    assert {fault.name for fault in feed_faults if fault} == set(FEED_FAULTS)
    for fault in page_faults | feed_faults:
        assert fault is not None
        assert fault.transient == (fault.name in TRANSIENT_FAULTS)
        assert fault.failures in ((1, 2) if fault.transient else (None,))


@pytest.mark.parametrize(
    "path", ["/robots.txt", "/_mirror/truth.json", "/", "/world", "/node/2600001/amp", "/search"]
)
def test_plan_never_touches_other_paths(path: str) -> None:
    assert FaultPlan(1.0, 1).fault_for(path) is None


def test_plan_rejects_a_bad_rate() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(1.5, 1)


@pytest.mark.slow
def test_faults_json_lists_the_plan(site: MirrorSite, faulty: MirrorServer) -> None:
    served = json.loads(request(faulty, "/_mirror/faults.json").body)
    assert served == faulty.fault_plan()
    assert set(served) == set(article_paths(site)) | {"/rss.xml", "/sitemap.xml?page=1"}
    plan = FaultPlan(1.0, 1)
    for path, planned in served.items():
        fault = plan.fault_for(path)
        assert fault is not None
        assert planned == {
            "fault": fault.name,
            "transient": fault.transient,
            "failures": fault.failures,
        }


@pytest.mark.slow
def test_faults_json_is_empty_with_faults_off(plain: MirrorServer) -> None:
    assert json.loads(request(plain, "/_mirror/faults.json").body) == {}


# --- faults off, and fault-free requests ---


@pytest.mark.slow
def test_faults_off_pages_are_byte_identical(site: MirrorSite, plain: MirrorServer) -> None:
    with MirrorServer(site, clock=SERVER_NOW.timestamp, faults=FaultPlan(0.0, 1)) as zero:
        for path in [*article_paths(site)[:20], "/rss.xml", "/sitemap.xml?page=1", "/"]:
            expected = request(plain, path)
            got = request(zero, path)
            assert got.status == expected.status == 200
            assert page(zero, path) == page(plain, path)
            assert got.headers["content-type"] == expected.headers["content-type"]


@pytest.mark.slow
def test_fault_free_paths_serve_the_normal_page(site: MirrorSite, plain: MirrorServer) -> None:
    with MirrorServer(site, clock=SERVER_NOW.timestamp, faults=FaultPlan(0.5, 2)) as half:
        planned = half.fault_plan()
        clean = [path for path in article_paths(site) if path not in planned]
        assert len(clean) > 50
        for path in clean[:20]:
            assert page(half, path) == page(plain, path)
        log = half.requests()
    assert [entry["fault"] for entry in log] == [None] * 20


@pytest.mark.slow
def test_access_log_has_no_fault_field_with_faults_off(site: MirrorSite) -> None:
    with MirrorServer(site, clock=SERVER_NOW.timestamp) as server:
        request(server, article_paths(site)[0])
        assert ["fault" in entry for entry in server.requests()] == [False]


# --- transient faults ---


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["http-500", "http-502", "http-503-retry-after", "http-429"])
def test_transient_http_errors_recover(
    fault: str, faulty: MirrorServer, plain: MirrorServer
) -> None:
    path = paths_with(faulty, fault)[0]
    failures = faulty.fault_plan()[path]["failures"]
    assert failures in (1, 2)
    status = {"http-500": 500, "http-502": 502, "http-503-retry-after": 503, "http-429": 429}
    for _ in range(failures):
        reply = request(faulty, path)
        assert reply.status == status[fault]
        if fault in ("http-503-retry-after", "http-429"):
            assert reply.headers["retry-after"] == "1"
    assert page(faulty, path) == page(plain, path)
    logged = [entry["fault"] for entry in faulty.requests() if entry["path"] == path]
    assert logged == [fault] * failures + [None]


@pytest.mark.slow
def test_reset_closes_without_a_response_then_recovers(
    faulty: MirrorServer, plain: MirrorServer
) -> None:
    path = paths_with(faulty, "reset")[0]
    failures = faulty.fault_plan()[path]["failures"]
    assert failures is not None
    for _ in range(failures):
        with pytest.raises(http.client.RemoteDisconnected):
            request(faulty, path)
    assert page(faulty, path) == page(plain, path)
    logged = [(e["status"], e["fault"]) for e in faulty.requests() if e["path"] == path]
    assert logged == [(0, "reset")] * failures + [(200, None)]


@pytest.mark.slow
def test_stall_times_out_once_then_serves(faulty: MirrorServer, plain: MirrorServer) -> None:
    path = paths_with(faulty, "stall")[0]
    with pytest.raises(TimeoutError):
        request(faulty, path, timeout=1.0)
    assert page(faulty, path) == page(plain, path)


@pytest.mark.slow
def test_stall_ends_when_the_server_stops(site: MirrorSite) -> None:
    server = MirrorServer(site, clock=SERVER_NOW.timestamp, faults=FaultPlan(1.0, 1)).start()
    path = paths_with(server, "stall")[0]
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("GET", path)
        server.stop()
        # Closed at once (by the stalled handler giving up, or by the listening socket
        # closing first), where a stall that outlived stop() would end in a timeout.
        with pytest.raises(ConnectionError):
            connection.getresponse()
    finally:
        connection.close()


# --- permanent faults ---


@pytest.mark.slow
def test_truncated_closes_mid_body(faulty: MirrorServer, plain: MirrorServer) -> None:
    path = paths_with(faulty, "truncated")[0]
    full = request(plain, path).body.replace(f":{plain.port}".encode(), f":{faulty.port}".encode())
    for _ in range(2):
        with pytest.raises(http.client.IncompleteRead) as error:
            request(faulty, path)
        assert error.value.partial == full[: len(full) // 2]
        assert error.value.expected == len(full) - len(full) // 2


@pytest.mark.slow
def test_charset_cp1256_is_labelled_utf8(faulty: MirrorServer) -> None:
    path = paths_with(faulty, "charset-cp1256")[0]
    reply = request(faulty, path)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert ARABIC_CAPTION in reply.body.decode("cp1256")
    mojibake = reply.body.decode("utf-8", errors="replace")
    assert ARABIC_CAPTION not in mojibake
    assert "\ufffd" in mojibake


@pytest.mark.slow
def test_charset_latin1_is_labelled_utf8(faulty: MirrorServer, plain: MirrorServer) -> None:
    path = paths_with(faulty, "charset-latin1-as-utf8")[0]
    reply = request(faulty, path)
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert b"\xa9 Arab News" in reply.body  # the footer's © in latin-1
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    assert "© Arab News" in reply.body.decode("latin-1")


@pytest.mark.slow
def test_charset_utf8_is_labelled_latin1(faulty: MirrorServer) -> None:
    path = paths_with(faulty, "charset-utf8-as-latin1")[0]
    reply = request(faulty, path)
    assert reply.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert ARABIC_CAPTION in reply.body.decode("utf-8")
    assert ARABIC_CAPTION not in reply.body.decode("latin-1")  # what the label makes of it


@pytest.mark.slow
def test_invalid_utf8_breaks_the_first_paragraph_of_a_utf8_page(
    faulty: MirrorServer, plain: MirrorServer
) -> None:
    path = paths_with(faulty, "invalid-utf8")[0]
    reply = request(faulty, path)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    assert reply.body.count(INVALID_UTF8) == 1
    # Taken out again, the page is the plain one; the bytes lie in the first paragraph.
    assert page(faulty, path).replace(INVALID_UTF8 + b" ", b"") == page(plain, path)
    first = reply.body.split(b'<div class="entry-content"><p>', 1)[1].split(b"</p>", 1)[0]
    assert INVALID_UTF8 in first


@pytest.mark.slow
def test_outage_answers_every_page_with_its_status(site: MirrorSite) -> None:
    with MirrorServer(site, clock=SERVER_NOW.timestamp, outage=503) as down:
        for path in ["/", "/rss.xml", "/sitemap.xml", article_paths(site)[0], "/saudiarabia"]:
            reply = request(down, path)
            assert (reply.status, reply.headers["retry-after"]) == (503, "1"), path
        assert request(down, "/robots.txt").status == 200
        assert request(down, "/_mirror/truth.json").status == 200


def test_outage_option_takes_a_5xx_status_only() -> None:
    assert build_parser().parse_args(["--outage", "502"]).outage == 502
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--outage", "404"])


@pytest.mark.slow
def test_challenge_page_has_no_story(faulty: MirrorServer, plain: MirrorServer) -> None:
    path = paths_with(faulty, "challenge")[0]
    reply = request(faulty, path)
    assert reply.status == 200
    text = reply.body.decode("utf-8")
    assert "Just a moment..." in text
    assert "Checking your browser" in text
    assert 'class="region-content"' in request(plain, path).body.decode()
    assert 'class="region-content"' not in text


@pytest.mark.slow
def test_redirect_loop_points_at_itself(faulty: MirrorServer) -> None:
    path = paths_with(faulty, "redirect-loop")[0]
    for _ in range(3):
        reply = request(faulty, path)
        assert reply.status == 301
        assert reply.headers["location"] == f"{faulty.base_url}{path}"


@pytest.mark.slow
def test_redirect_offsite_names_another_host(faulty: MirrorServer) -> None:
    path = paths_with(faulty, "redirect-offsite")[0]
    reply = request(faulty, path)
    assert reply.status == 301
    location = urlsplit(reply.headers["location"])
    assert location.hostname == "localhost"
    assert location.port == faulty.port
    assert location.path == path


@pytest.mark.slow
def test_huge_streams_without_end(faulty: MirrorServer) -> None:
    path = paths_with(faulty, "huge")[0]
    connection = http.client.HTTPConnection(faulty.host, faulty.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == str(HUGE_BYTES)
        first = response.read(2 * 1024 * 1024)
        assert len(first) == 2 * 1024 * 1024
        assert first.startswith(b"<!DOCTYPE html>")
    finally:
        connection.close()


@pytest.mark.slow
def test_nested_wraps_the_real_page(faulty: MirrorServer, plain: MirrorServer) -> None:
    path = paths_with(faulty, "nested")[0]
    text = page(faulty, path).decode("utf-8")
    normal = page(plain, path).decode("utf-8")
    assert "<div>" * NESTING_DEPTH in text
    assert text.replace("<div>" * NESTING_DEPTH + "<b><i><span><font>\n", "") == normal


@pytest.mark.slow
def test_empty_page(faulty: MirrorServer) -> None:
    reply = request(faulty, paths_with(faulty, "empty")[0])
    assert (reply.status, reply.headers["content-length"], reply.body) == (200, "0", b"")


@pytest.mark.slow
def test_not_html_is_binary(faulty: MirrorServer) -> None:
    reply = request(faulty, paths_with(faulty, "not-html")[0])
    assert reply.status == 200
    assert reply.headers["content-type"] == "image/jpeg"
    assert reply.body.startswith(b"\xff\xd8\xff")
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")


# --- feeds and sitemaps ---


def seed_giving(path: str, fault: str) -> int:
    return next(
        seed
        for seed in range(1, 1000)
        if (planned := FaultPlan(1.0, seed).fault_for(path)) and planned.name == fault
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/rss.xml", "/sitemap.xml?page=1"])
def test_feed_not_xml(path: str, site: MirrorSite) -> None:
    plan = FaultPlan(1.0, seed_giving(path, "not-xml"))
    with MirrorServer(site, clock=SERVER_NOW.timestamp, faults=plan) as server:
        for _ in range(2):
            reply = request(server, path)
            assert reply.status == 200
            assert reply.headers["content-type"].startswith("text/html")
            assert b"Just a moment..." in reply.body
            assert not reply.body.startswith(b"<?xml")


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/rss.xml", "/sitemap.xml?page=1"])
def test_feed_503_recovers(path: str, site: MirrorSite, plain: MirrorServer) -> None:
    plan = FaultPlan(1.0, seed_giving(path, "http-503-retry-after"))
    failures = plan.fault_for(path)
    assert failures is not None
    assert failures.failures is not None
    with MirrorServer(site, clock=SERVER_NOW.timestamp, faults=plan) as server:
        for _ in range(failures.failures):
            reply = request(server, path)
            assert (reply.status, reply.headers["retry-after"]) == (503, "1")
        assert page(server, path) == page(plain, path)
        # robots.txt and the sitemap index are never faulty.
        assert request(server, "/robots.txt").status == 200
        assert request(server, "/sitemap.xml").body.startswith(b"<?xml")


# --- command line ---


def test_cli_fault_options() -> None:
    args = build_parser().parse_args(["--faults", "0.2", "--fault-seed", "5"])
    assert (args.faults, args.fault_seed) == (0.2, 5)
    defaults = build_parser().parse_args([])
    assert (defaults.faults, defaults.fault_seed) == (0.0, 1)


@pytest.mark.parametrize("argv", [["--faults", "1.5"], ["--faults", "x"], ["--fault-seed", "-1"]])
def test_cli_rejects_bad_fault_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert "error" in capsys.readouterr().err
