"""A real HTTP server for the mirror site, plus the ``newscrawl mirror`` command line."""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict, cast
from urllib.parse import parse_qs, urlsplit

from newscrawl_mirror.content import EDITIONS, MirrorSite
from newscrawl_mirror.faults import (
    CHALLENGE_PAGE,
    HUGE_BYTES,
    STALL_SECONDS,
    Fault,
    FaultPlan,
    PlannedFault,
    binary_body,
    error_page,
    huge_page,
    invalid_utf8_page,
    mislabelled_page,
    nested_page,
)
from newscrawl_mirror.render import (
    LISTING_PAGES,
    OtherSite,
    alias_base_url,
    render_amp_page,
    render_article_page,
    render_home_page,
    render_listing_page,
    render_not_found_page,
    render_robots,
    render_rss,
    render_search_page,
    render_sitemap_index,
    render_sitemap_page,
    sitemap_page_count,
)

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
CONTROL_PREFIX = "/_mirror/"

_NODE_PATH = re.compile(r"^/node/(\d+)(?:/([^/]+))?$")
_EDIT_PATH = re.compile(r"^/_mirror/edit/(\d+)$")


class _LoggedRequestFields(TypedDict):
    method: str
    path: str
    host: str
    status: int
    time: float  # when the request was answered, seconds since the epoch


class LoggedRequest(_LoggedRequestFields, total=False):
    # Only when the server has a fault plan: the fault this request met, None if none.
    fault: str | None


class _Response:
    """What a route hands back; the handler turns it into bytes on the wire."""

    __slots__ = ("body", "chunks", "content_type", "cut_at", "fault", "headers", "length", "status")

    def __init__(
        self,
        status: int,
        body: str | bytes,
        content_type: str = HTML,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.content_type = content_type
        self.headers = headers or {}
        # Fault injection only: the name logged, a streamed body, a connection cut short.
        self.fault: str | None = None
        self.length = len(self.body)
        self.chunks: Iterable[bytes] | None = None
        self.cut_at: int | None = None


def _no_reply(fault: str) -> _Response:
    """A request answered by closing the connection: the handler sends nothing."""
    response = _Response(0, b"")
    response.fault = fault
    return response


def _json_response(payload: object, status: int = 200) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False), JSON)


class _MirrorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Crawlers open many connections at once; the default backlog of 5 refuses some.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], mirror: MirrorServer) -> None:
        self.mirror = mirror
        super().__init__(address, _MirrorHandler)


class _MirrorHandler(BaseHTTPRequestHandler):
    # Keep-alive saves a TCP handshake per page when a crawler fetches thousands of them.
    protocol_version = "HTTP/1.1"
    server_version = "ArabNewsMirror/1.0"
    # Headers and body go out as separate writes; Nagle would delay the second one.
    disable_nagle_algorithm = True
    # Idle keep-alive connections give their thread back after this many seconds.
    timeout = 30
    request_now = 0
    fault: str | None = None

    def version_string(self) -> str:
        return self.server_version

    @property
    def mirror(self) -> MirrorServer:
        return cast(_MirrorHTTPServer, self.server).mirror

    def parse_request(self) -> bool:
        # One clock reading per request: the Date header and the rendered times agree.
        self.request_now = int(self.mirror.clock())
        self.fault = None
        return super().parse_request()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.request_now if timestamp is None else timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the access log lives in memory (``/_mirror/requests.json``)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "")
        if path.startswith(CONTROL_PREFIX):
            return
        # Malformed requests are answered before the request line is fully parsed.
        headers = getattr(self, "headers", None)
        entry = LoggedRequest(
            method=getattr(self, "command", None) or "",
            path=path,
            host=headers.get("Host", "") if headers is not None else "",
            status=int(code) if isinstance(code, int) else 0,
            time=time.time(),
        )
        if self.mirror.faults is not None:
            entry["fault"] = self.fault
        self.mirror.record(entry)

    def do_GET(self) -> None:
        self._send(self._route_get())

    def do_HEAD(self) -> None:
        self._send(self._route_get())

    def do_POST(self) -> None:
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.isdigit():
            self.close_connection = True  # the body's end is unknown, so the stream is lost
            self._send(_json_response({"error": "bad Content-Length"}, 400))
            return
        length = int(raw_length)
        payload = self.rfile.read(length) if length > 0 else b""
        self._send(self._route_post(urlsplit(self.path).path, payload))

    def _send(self, response: _Response) -> None:
        self.fault = response.fault
        if response.status == 0:
            self.close_connection = True
            self.log_request(0)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(response.length))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.cut_at is not None:
            self.close_connection = True  # the rest of the promised body never comes
            self.wfile.write(response.body[: response.cut_at])
        elif response.chunks is not None:
            self._stream(response.chunks)
        else:
            self.wfile.write(response.body)

    def _stream(self, chunks: Iterable[bytes]) -> None:
        try:
            for chunk in chunks:
                if self.mirror.stopping.is_set():
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
        except OSError:
            self.close_connection = True  # the client stopped reading; nothing to clean up

    def _route_get(self) -> _Response:
        mirror = self.mirror
        site = mirror.site
        base_url = mirror.base_url
        url = urlsplit(self.path)
        path = url.path

        if mirror.outage is not None and path != "/robots.txt" and not path.startswith("/_mirror/"):
            retry_after = {"Retry-After": str(mirror.retry_after)}
            return _Response(mirror.outage, error_page(mirror.outage), headers=retry_after)
        node = _NODE_PATH.match(path)
        if node is not None:
            return self._node(int(node.group(1)), node.group(2))
        if path in LISTING_PAGES:
            return _Response(200, render_listing_page(site, path, base_url))
        if path == "/":
            return _Response(200, render_home_page(site, base_url))
        if path == "/robots.txt":
            robots = render_robots(site, base_url, mirror.crawl_delay)
            return _Response(200, robots, "text/plain; charset=utf-8")
        if path == "/rss.xml":
            rss = render_rss(site, base_url, mirror.other_site)
            return self._with_fault(
                path, lambda: _Response(200, rss, "application/rss+xml; charset=utf-8")
            )
        if path == "/sitemap.xml":
            return self._sitemap(url.query)
        if path == "/search":
            return _Response(200, render_search_page(site, base_url))
        if path == "/_mirror/truth.json":
            return _json_response(site.truth())
        if path == "/_mirror/requests.json":
            return _json_response(mirror.requests())
        if path == "/_mirror/faults.json":
            return _json_response(mirror.fault_plan())
        if path == "/_mirror/other-site.json":
            other = mirror.other_site
            return _json_response(asdict(other) if other is not None else {})
        return self._not_found()

    def _not_found(self) -> _Response:
        return _Response(404, render_not_found_page(self.mirror.site, self.mirror.base_url))

    def _node(self, nid: int, tail: str | None) -> _Response:
        site = self.mirror.site
        base_url = self.mirror.base_url
        article = site.article(nid)
        if article is None:
            return self._not_found()
        if tail == "amp":
            return _Response(200, render_amp_page(article, base_url))
        if tail != article.section:
            # Bare /node/<nid> (and a wrong section slug) go to the canonical slug path.
            location = f"{base_url}{article.path}"
            body = f'<html><body><a href="{location}">Moved</a></body></html>'
            return _Response(301, body, headers={"Location": location})
        other = self.mirror.other_site
        if other is not None and nid == other.redirected:
            location = other.url(article)  # the same host, another port: another site
            body = f'<html><body><a href="{location}">Found</a></body></html>'
            return _Response(302, body, headers={"Location": location})

        headers: dict[str, str] = {}
        age = site.cached_age(nid)
        if age is not None:
            # A cached copy cannot predate the newest update of any story on the page.
            newest = max(story.updated_at for story in site.page_stories(nid))
            age = max(0, min(age, self.request_now - int(newest.timestamp())))
            headers["Age"] = str(age)
        rendered_at = datetime.fromtimestamp(self.request_now - (age or 0), timezone.utc)
        return self._with_fault(
            article.path,
            lambda: _Response(
                200,
                render_article_page(site, nid, base_url, rendered_at, self.mirror.other_site),
                headers=headers,
            ),
        )

    def _sitemap(self, query: str) -> _Response:
        site = self.mirror.site
        base_url = self.mirror.base_url
        pages = parse_qs(query).get("page")
        if not pages:
            return _Response(
                200, render_sitemap_index(site, base_url), "application/xml; charset=utf-8"
            )
        if not pages[0].isdigit():
            return self._not_found()
        page = int(pages[0])
        sitemap = render_sitemap_page(site, page, base_url, self.mirror.other_site)
        if sitemap is None:
            return self._not_found()
        return self._with_fault(
            f"/sitemap.xml?page={page}",
            lambda: _Response(200, sitemap, "application/xml; charset=utf-8"),
        )

    def _with_fault(self, path: str, normal: Callable[[], _Response]) -> _Response:
        """The normal response of ``path``, unless its planned fault strikes this request."""
        plan = self.mirror.faults
        fault = plan.strike(path) if plan is not None else None
        if fault is None:
            return normal()
        if fault.name == "stall":
            # Interruptible, so stopping the server does not wait out the stall.
            if self.mirror.stopping.wait(STALL_SECONDS):
                return _no_reply(fault.name)
            response = normal()
        else:
            response = self._faulty(fault, path, normal)
        response.fault = fault.name
        return response

    def _faulty(self, fault: Fault, path: str, normal: Callable[[], _Response]) -> _Response:
        name = fault.name
        retry_after = {"Retry-After": str(self.mirror.retry_after)}
        if name == "reset":
            return _no_reply(name)
        if name in ("http-500", "http-502"):
            status = int(name[5:])
            return _Response(status, error_page(status))
        if name == "http-503-retry-after":
            return _Response(503, error_page(503), headers=retry_after)
        if name == "http-429":
            return _Response(429, error_page(429), headers=retry_after)
        if name in ("challenge", "not-xml"):
            return _Response(200, CHALLENGE_PAGE)
        if name in ("redirect-loop", "redirect-offsite"):
            base_url = self.mirror.base_url
            if name == "redirect-offsite":
                base_url = alias_base_url(base_url)
            location = f"{base_url}{path}"
            body = f'<html><body><a href="{location}">Moved</a></body></html>'
            return _Response(301, body, headers={"Location": location})
        if name == "empty":
            return _Response(200, b"")
        if name == "not-html":
            return _Response(200, binary_body(path), "image/jpeg")
        response = normal()
        page = response.body.decode("utf-8")
        if name == "truncated":
            response.cut_at = len(response.body) // 2
        elif name == "huge":
            response.chunks = huge_page(page, HUGE_BYTES)
            response.body = b""
            response.length = HUGE_BYTES
        else:
            if name == "charset-cp1256":
                response.body = mislabelled_page(page, "cp1256")
            elif name == "charset-latin1-as-utf8":
                response.body = mislabelled_page(page, "latin-1")
            elif name == "charset-utf8-as-latin1":
                response.body = mislabelled_page(page, "utf-8")
                response.content_type = "text/html; charset=iso-8859-1"
            elif name == "invalid-utf8":
                response.body = invalid_utf8_page(page)
            elif name == "nested":
                response.body = nested_page(page).encode("utf-8")
            else:
                raise AssertionError(f"unknown fault {name!r}")
            response.length = len(response.body)
        return response

    def _route_post(self, path: str, payload: bytes) -> _Response:
        if path == "/_mirror/reset-log":
            self.mirror.reset_log()
            return _json_response({"ok": True})
        edit = _EDIT_PATH.match(path)
        if edit is None:
            return _json_response({"error": "not found"}, 404)
        nid = int(edit.group(1))
        if nid not in self.mirror.site:
            return _json_response({"error": f"unknown nid {nid}"}, 404)
        try:
            title, body, updated_at = _parse_edit(payload)
        except ValueError as error:
            return _json_response({"error": str(error)}, 400)
        self.mirror.site.edit(nid, body=body, title=title, updated_at=updated_at)
        return _json_response({"ok": True, "nid": nid})


def _parse_edit(payload: bytes) -> tuple[str | None, list[str] | None, datetime | None]:
    """Validate an edit request: {"title"?: str, "body"?: [str], "updated_at"?: ISO 8601}."""
    try:
        request = json.loads(payload or b"{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"body is not JSON: {error}") from error
    if not isinstance(request, dict):
        raise ValueError("body must be a JSON object")
    unknown = set(request) - {"title", "body", "updated_at"}
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    title = request.get("title")
    if title is not None and not isinstance(title, str):
        raise ValueError("title must be a string")
    body = request.get("body")
    if body is not None and (
        not isinstance(body, list) or not body or not all(isinstance(p, str) for p in body)
    ):
        raise ValueError("body must be a non-empty list of strings")
    updated_at: datetime | None = None
    if request.get("updated_at") is not None:
        raw = request["updated_at"]
        if not isinstance(raw, str):
            raise ValueError("updated_at must be an ISO 8601 string")
        updated_at = datetime.fromisoformat(raw)
        if updated_at.tzinfo is None:
            raise ValueError("updated_at needs a UTC offset")
    return title, body, updated_at


class MirrorServer:
    """Serves a MirrorSite over HTTP on a daemon thread (``with MirrorServer(site) as s:``)."""

    def __init__(
        self,
        site: MirrorSite,
        host: str = "127.0.0.1",
        port: int = 0,
        crawl_delay: float | None = None,
        clock: Callable[[], float] = time.time,
        faults: FaultPlan | None = None,
        outage: int | None = None,
        other_site: str | None = None,
        retry_after: int = 1,
    ) -> None:
        self.site = site
        self.faults = faults
        # The seconds of the Retry-After its 503 and 429 answers ask for.
        self.retry_after = retry_after
        # Another site on this host (another port) the pages point at (see OtherSite).
        self.other_site = OtherSite.plan(site, other_site) if other_site else None
        # Every page answers this status (robots.txt and /_mirror/ excepted): a site down.
        self.outage = outage
        # Set while stopping, so stalled and streaming fault responses give up at once.
        self.stopping = threading.Event()
        self.host = host
        self.requested_port = port
        self.crawl_delay = crawl_delay
        # Injectable so tests can move the server's "now" without sleeping.
        self.clock = clock
        self._httpd: _MirrorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("mirror server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MirrorServer:
        if self._httpd is not None:
            raise RuntimeError("mirror server is already started")
        self.stopping.clear()
        self._httpd = _MirrorHTTPServer((self.host, self.requested_port), self)
        # A short poll interval makes stop() quick; tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mirror-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def record(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)

    def requests(self) -> list[LoggedRequest]:
        """The access log so far, oldest first (control endpoints are not logged)."""
        with self._log_lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def fault_plan(self) -> dict[str, PlannedFault]:
        """Every faulty path among the site's pages and feeds (empty with faults off)."""
        if self.faults is None:
            return {}
        paths = [article.path for article in self.site.all_articles()]
        paths.append("/rss.xml")
        paths += [f"/sitemap.xml?page={n}" for n in range(1, sitemap_page_count(self.site) + 1)]
        return self.faults.describe(paths)


def _count(minimum: int, what: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {raw!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {value}")
        return value

    return parse


def _port(raw: str) -> int:
    value = _count(0, "port")(raw)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"port must be at most 65535, got {value}")
    return value


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"crawl delay must be a number, got {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"crawl delay must be 0 or more seconds, got {raw}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newscrawl mirror",
        description="Serve the local Arab News mirror site until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port to bind (default 0: any free)")
    parser.add_argument(
        "--articles", type=_count(1, "articles"), default=200, help="number of articles (200)"
    )
    parser.add_argument("--seed", type=_count(0, "seed"), default=1, help="content seed (1)")
    parser.add_argument(
        "--edition",
        choices=EDITIONS,
        default="en",
        help="en: the English site (default); fr: the French edition's page shape; ar: an "
        "Arabic-language, right-to-left page shape",
    )
    parser.add_argument(
        "--crawl-delay",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="Crawl-delay to announce in robots.txt (default: none)",
    )
    parser.add_argument(
        "--broken-markup",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="share of article pages whose body markup is broken (default 0)",
    )
    parser.add_argument(
        "--faults",
        type=_fraction,
        default=0.0,
        metavar="RATE",
        help="share of article pages, feeds and sitemap pages that misbehave (default 0)",
    )
    parser.add_argument(
        "--fault-seed", type=_count(0, "fault seed"), default=1, help="fault plan seed (1)"
    )
    parser.add_argument(
        "--other-site",
        type=_base_url,
        metavar="URL",
        help="another site (e.g. another port of this host) that pages link and redirect to",
    )
    parser.add_argument(
        "--outage",
        type=_server_error,
        metavar="STATUS",
        help="every page answers STATUS (5xx), robots.txt excepted: a site that is down",
    )
    return parser


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a base URL like http://127.0.0.1:8081")
    return f"{parts.scheme}://{parts.netloc}"


def _server_error(text: str) -> int:
    if not text.isdigit() or not 500 <= int(text) <= 599:
        raise argparse.ArgumentTypeError(f"{text!r} is not a 5xx status")
    return int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the mirror until SIGINT/SIGTERM; the first stdout line is its base URL."""
    args = build_parser().parse_args(argv)
    site = MirrorSite(
        articles=args.articles,
        seed=args.seed,
        broken_markup=args.broken_markup,
        edition=args.edition,
    )
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    # Blocked before the server threads start, so they inherit the mask and only
    # sigwait() below sees the signal: no handler runs at an awkward moment.
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        faults = FaultPlan(args.faults, args.fault_seed) if args.faults > 0 else None
        with MirrorServer(
            site,
            args.host,
            args.port,
            args.crawl_delay,
            faults=faults,
            outage=args.outage,
            other_site=args.other_site,
        ) as server:
            print(server.base_url, flush=True)
            signal.sigwait(stop_signals)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
    return 0
