"""The ``newscrawl`` command: ``run``, ``dataset``, ``split``, ``mirror``, ``demo``.

``scrapy crawl <spider>`` stays the way to run a spider; this command adds what Scrapy
does not have: the local mirror site and a one-command offline demo.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newscrawl import names

# Each command imports what it runs when it runs: `newscrawl split` and `--help` start
# without loading Scrapy and the crawl stages.


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


@contextmanager
def mirror_process(articles: int, seed: int = 1, *extra: str) -> Iterator[str]:
    """A mirror site in a child process; yields its base URL, stops it on exit."""
    command = [
        sys.executable,
        "-m",
        "newscrawl_mirror",
        "--port",
        "0",
        "--articles",
        str(articles),
        "--seed",
        str(seed),
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError(f"the mirror site did not start (exit status {process.poll()})")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add +00:00)")
    return moment.astimezone(timezone.utc)


PAGE_SUFFIXES = (".html", ".htm", ".txt")


def page_files(paths: Sequence[Path]) -> list[Path]:
    """The saved pages ``paths`` name: files as given, folders by their page files
    (``.html``, ``.htm``, ``.txt``, each also ``.gz``; sorted, sub-folders included).
    OSError names a path that is missing or a folder without pages."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            pages = sorted(
                p for p in path.rglob("*") if p.is_file() and _page_suffix(p) in PAGE_SUFFIXES
            )
            if not pages:
                raise OSError(f"no saved pages ({', '.join(PAGE_SUFFIXES)}, .gz) in {path}")
            found += pages
        elif path.is_file():
            found.append(path)
        else:
            raise OSError(f"No such file or folder: {str(path)!r}")
    return found


def _page_suffix(path: Path) -> str:
    """A saved page's kind: its suffix, under a ``.gz`` one."""
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix


def split_file(path: Path, moment: datetime, url: str | None, site: Any) -> Any:
    """The stories of one saved page (``.html``/``.htm``, else plain page text; ``.gz``
    read through)."""
    from newscrawl.page.walk import saved_page_record
    from newscrawl.stories.content import stories_from_page
    from newscrawl.stories.timestamps import given_anchor

    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        data = gzip.decompress(data)
    page = saved_page_record(
        data,
        url=url or path.resolve().as_uri(),
        fetched_at=moment.isoformat(),
        site=site.name,
        markup=_page_suffix(path) in (".html", ".htm"),
    )
    # The page was rendered when the caller says it was fetched (no HTTP headers here).
    return stories_from_page(page, site, anchor=given_anchor(moment))


def run_split(
    paths: Sequence[Path],
    fetched_at: datetime | None,
    url: str | None,
    site_name: str,
    per_page: bool = False,
) -> int:
    """Split saved pages into story records on stdout: one JSON line a story, or with
    ``per_page`` one a page, ``{"file": ..., "stories": [...]}``."""
    from newscrawl.sites import SiteFileError, get_site

    try:
        site = get_site(site_name)
        files = page_files(paths)
    except SiteFileError as exc:
        print(f"newscrawl split: bad site file: {exc}", file=sys.stderr)
        return 2
    except (KeyError, OSError) as exc:
        print(f"newscrawl split: {exc}", file=sys.stderr)
        return 2
    if url is not None and len(files) > 1:
        print("newscrawl split: --url names one page: give one file with it", file=sys.stderr)
        return 2
    moment = fetched_at or datetime.now(timezone.utc)
    stories = empty = unreadable = 0
    for path in files:
        try:
            found = split_file(path, moment, url, site)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:  # one bad file: the rest go on
            print(f"newscrawl split: cannot read {path}: {exc}", file=sys.stderr)
            unreadable += 1
            continue
        records = [story.to_record() for story in found.stories]
        if per_page:
            line = {"file": str(path), "stories": records}
            print(json.dumps(line, ensure_ascii=False))
        else:
            for record in records:
                print(json.dumps(record, ensure_ascii=False))
        stories += len(records)
        if not records:
            empty += 1
            reasons = ", ".join(sorted(set(found.split.skipped))) or "no story found"
            print(f"newscrawl split: no story in {path}: {reasons}", file=sys.stderr)
    if len(files) > 1:
        print(
            f"newscrawl split: {len(files)} pages, {stories} stories, {empty} pages without a "
            f"story, {unreadable} unreadable",
            file=sys.stderr,
        )
    if unreadable:
        return 2
    return 1 if stories == 0 else 0


# The mirror's editions the demo crawls, and the site each is crawled as.
DEMO_SITES = {"en": "arabnews", "fr": "arabnews-fr"}


def run_demo(articles: int, output_dir: Path, edition: str = "en") -> int:
    """Start the mirror (in ``edition``'s page shape), crawl it in this process as the
    site of that edition, print where the output went."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    # A fresh output folder (and seen store) each time: every demo shows a whole first
    # crawl, and no demo's store is ever taken for one behind another demo's output.
    root = output_dir / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    settings = get_project_settings()
    settings.setdict(
        {
            # Our own server on this machine: no need to be gentle with it.
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "LOG_LEVEL": "WARNING",
            "NEWSCRAWL_OUTPUT_DIR": str(root),
            # Never a production store or run, whatever the environment says.
            "NEWSCRAWL_SEEN_STORE": "",
            "NEWSCRAWL_REDIS_URL": "",
        },
        priority="cmdline",
    )
    with mirror_process(articles, 1, "--edition", edition) as base_url:
        print(f"mirror site: {base_url} ({articles} articles, edition {edition})", flush=True)
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(DEMO_SITES[edition])
        clock = time.monotonic()
        process.crawl(crawler, base_url=base_url)
        process.start()
        elapsed = time.monotonic() - clock
    stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
    output = stats.get(names.OUTPUT)
    records = len(Path(output).read_text(encoding="utf-8").splitlines()) if output else 0
    print(f"output: {output}")
    print(
        f"pages fetched: {stats.get('response_received_count', 0)}, "
        f"article pages: {stats.get(names.PAGES, 0)}, "
        f"stories on them: {stats.get(names.STORIES, 0)}, "
        f"distinct stories written: {records}, time: {elapsed:.1f} s"
    )
    finish = stats.get("finish_reason")
    if finish != "finished" or records == 0:
        print(f"demo failed: finish reason {finish!r}, {records} stories", file=sys.stderr)
        return 1
    return 0


def run_command(args: argparse.Namespace) -> int:
    import logging

    from newscrawl.cli.run import EXIT_USAGE, RunConfig, parse_pairs, run, worker_config_from_env

    try:
        spider_args = parse_pairs(args.spider_args, "-a")
        overrides = parse_pairs(args.settings, "-s")
    except ValueError as exc:
        print(f"newscrawl run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    passed = worker_config_from_env() if args.join else None
    if passed is not None:  # a worker: its parent passed these through the environment
        spider_args = {**passed["spider_args"], **spider_args}
        overrides = {**passed["overrides"], **overrides}
    logging.getLogger("newscrawl").setLevel(logging.INFO)
    return run(
        RunConfig(
            args.spider,
            spider_args,
            overrides,
            args.output_dir,
            args.gzip,
            workers=args.workers,
            redis_url=args.redis,
            join=args.join,
        )
    )


# What each exit status of ``newscrawl run`` means, for run-all's summary lines.
RUN_OUTCOMES = {
    0: "ok",
    1: "a monitor failed: nothing new published",
    2: "bad command line, spider argument or site file",
    3: "the crawl could not start or stopped with an error",
    75: "another run holds its lock",
}


def run_all_command(args: argparse.Namespace) -> int:
    """``newscrawl run-all``: ``newscrawl run`` for every configured site, one after
    another, each in its own process (its own lock, seen store, output folder and exit
    status); then a summary line per site. The exit status is the worst of theirs: 3 over 2
    over 1; 75 only when every site's lock was taken, else 0."""
    from newscrawl.sites import SiteFileError, registry

    try:
        known = list(registry())
    except SiteFileError as exc:
        print(f"newscrawl run-all: bad site file: {exc}", file=sys.stderr)
        return 2
    wanted = [name.strip() for name in (args.sites or "").split(",") if name.strip()]
    if unknown := [name for name in wanted if name not in known]:
        print(
            f"newscrawl run-all: unknown site(s) {', '.join(unknown)}; "
            f"configured: {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    common = [arg for pair in args.settings for arg in ("-s", pair)]
    if args.output_dir is not None:
        common += ["--output-dir", str(args.output_dir)]
    if args.gzip:
        common.append("--gzip")
    statuses: dict[str, int] = {}
    for site in wanted or known:
        command = [sys.executable, "-m", "newscrawl.cli", "run", site, *common]
        statuses[site] = subprocess.run(command, check=False).returncode
    for site, status in statuses.items():  # together at the end, after the runs' logs
        outcome = RUN_OUTCOMES.get(status, "unknown status")
        print(f"newscrawl run-all: {site}: exit {status} ({outcome})", file=sys.stderr)
    return worst_status(list(statuses.values()))


def worst_status(statuses: Sequence[int]) -> int:
    """The exit status of several runs: 3 over 2 over 1 (an unknown status counts as 3);
    75 only when every run found its lock taken; else 0."""
    failed = [status if status in (1, 2, 3) else 3 for status in statuses if status not in (0, 75)]
    if failed:
        return max(failed)
    return 75 if statuses and set(statuses) == {75} else 0


def seen_command(args: argparse.Namespace) -> int:
    """``newscrawl seen rebuild SPIDER``: the seen store derived from the published files."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    from newscrawl.cli.run import parse_pairs
    from newscrawl.dedup.rebuild import rebuild_store
    from newscrawl.run.ledger import published_files
    from newscrawl.run.locks import LOCK_FILE, RunLocked, run_lock
    from newscrawl.run.state import OutputRefused, store_of
    from newscrawl.sites import SiteProfile, page_key

    try:
        overrides = parse_pairs(args.settings, "-s")
    except ValueError as exc:
        print(f"newscrawl seen: {exc}", file=sys.stderr)
        return 2
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    if args.output_dir is not None:
        settings.set("NEWSCRAWL_OUTPUT_DIR", str(args.output_dir), priority="cmdline")
    spider_dir = Path(settings["NEWSCRAWL_OUTPUT_DIR"]) / args.spider
    if not published_files(spider_dir):
        print(f"newscrawl seen: no published files in {spider_dir}", file=sys.stderr)
        return 2
    try:
        spidercls = SpiderLoader.from_settings(settings).load(args.spider)
    except KeyError:
        spidercls = None
    site = getattr(spidercls, "site", None)
    key_of = (lambda url: page_key(site, url)) if isinstance(site, SiteProfile) else None
    try:
        with run_lock(spider_dir / LOCK_FILE, settings.getfloat("NEWSCRAWL_MAX_RUN_HOURS")):
            store = store_of(settings, args.spider)
            try:
                files, records = rebuild_store(spider_dir, store, key_of)
            finally:
                store.close()
    except RunLocked as exc:
        print(f"newscrawl seen: {exc}", file=sys.stderr)
        return exc.exit_code
    except OutputRefused as exc:
        print(f"newscrawl seen: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"seen store rebuilt from {files} published files ({records} records)")
    return 0


def dataset_command(args: argparse.Namespace) -> int:
    from newscrawl.export.dataset import build

    if args.out is None and args.parquet is None:
        print("newscrawl dataset: give --out FILE.jsonl and/or --parquet FILE", file=sys.stderr)
        return 2
    spider_dir = args.output_dir / args.spider
    if not spider_dir.is_dir():
        print(f"newscrawl dataset: no output for {args.spider!r} in {spider_dir}", file=sys.stderr)
        return 2
    files, stories = build(spider_dir, args.out, args.parquet)
    targets = ", ".join(str(p) for p in (args.out, args.parquet) if p is not None)
    print(f"{stories} stories (latest versions) from {files} run files -> {targets}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newscrawl", description="Scheduled news crawler: news sites to story datasets."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "mirror",
        help="serve the local mirror site (run 'newscrawl mirror --help')",
        add_help=False,
    )
    split = commands.add_parser(
        "split", help="split saved pages (.html or page text) into story records (JSON Lines)"
    )
    split.add_argument(
        "paths",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="saved pages: .html/.htm, else plain page text (.txt); each may be .gz; a folder "
        "stands for the .html, .htm and .txt files (and .gz ones) in it",
    )
    split.add_argument(
        "--per-page",
        action="store_true",
        help='one JSON line per page: {"file": PATH, "stories": [records]} (empty when none)',
    )
    split.add_argument(
        "--fetched-at",
        type=_instant,
        help="when the pages were fetched (ISO 8601 with offset); relative times count back "
        "from it (default: now)",
    )
    split.add_argument(
        "--url", help="the page's URL, with one page (default: the file's file:// URL)"
    )
    split.add_argument("--site", default="arabnews", help="site profile (default: arabnews)")
    run = commands.add_parser(
        "run",
        help="one scheduled crawl: lock, crawl, checks, publish, manifest, exit status",
        description="Run SPIDER once, as a scheduler should: see the README's exit codes.",
    )
    run.add_argument("spider", help="spider name, e.g. arabnews")
    run.add_argument(
        "-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE",
        help="spider argument (as scrapy crawl -a)",
    )  # fmt: skip
    _add_run_options(run, "setting (as scrapy crawl -s)")
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="crawl processes on this machine sharing one distributed run (needs Redis)",
    )
    run.add_argument(
        "--redis",
        metavar="URL",
        help="distributed mode: the run's Redis (default: NEWSCRAWL_REDIS_URL, if set)",
    )
    # A worker of the run a parent `newscrawl run --workers N` started (internal).
    run.add_argument("--join", metavar="RUN_ID", help=argparse.SUPPRESS)
    run_all = commands.add_parser(
        "run-all",
        help="newscrawl run for every configured site, one after another",
        description="Run every configured site (or those --sites names) once, each in its "
        "own process, with a summary line per site; see the README's exit codes.",
    )
    run_all.add_argument("--sites", metavar="A,B", help="only these sites (default: all)")
    _add_run_options(run_all, "setting for every run (as scrapy crawl -s)")
    dataset = commands.add_parser(
        "dataset", help="merge all published runs into one latest-version snapshot"
    )
    dataset.add_argument("spider", help="spider name, e.g. arabnews")
    dataset.add_argument("--output-dir", type=Path, default=Path("output"), help="default: output")
    dataset.add_argument("--out", type=Path, help="JSON Lines snapshot to write")
    dataset.add_argument("--parquet", type=Path, help="Parquet snapshot to write (pyarrow)")
    seen = commands.add_parser("seen", help="the seen store: rebuild it from the published files")
    seen.add_argument("action", choices=["rebuild"], help="rebuild: derive it from the output")
    seen.add_argument("spider", help="spider name, e.g. arabnews")
    seen.add_argument("--output-dir", type=Path, help="default: NEWSCRAWL_OUTPUT_DIR (output)")
    seen.add_argument(
        "-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
        help="setting, e.g. NEWSCRAWL_SEEN_STORE=redis://... (as scrapy crawl -s)",
    )  # fmt: skip
    demo = commands.add_parser("demo", help="crawl a local mirror site, offline")
    demo.add_argument("--articles", type=_positive_int, default=200, help="default: 200")
    demo.add_argument(
        "--edition",
        choices=sorted(DEMO_SITES),
        default="en",
        help="en: Arab News (default); fr: its French edition, crawled as arabnews-fr",
    )
    demo.add_argument(
        "--output-dir", type=Path, default=Path("output/demo"), help="default: output/demo"
    )
    return parser


def _add_run_options(parser: argparse.ArgumentParser, settings_help: str) -> None:
    """The options ``run`` and ``run-all`` share: settings, output folder, compression."""
    parser.add_argument(
        "-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
        help=settings_help,
    )  # fmt: skip
    parser.add_argument("--output-dir", type=Path, help="default: NEWSCRAWL_OUTPUT_DIR (output)")
    parser.add_argument("--gzip", action="store_true", help="publish <run-id>.jsonl.gz")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Outside the project folder there is no scrapy.cfg: use the package's settings.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
    if args_list[:1] == ["mirror"]:
        from newscrawl_mirror.server import main as mirror_main

        return mirror_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    if args.command == "run":
        return run_command(args)
    if args.command == "run-all":
        return run_all_command(args)
    if args.command == "dataset":
        return dataset_command(args)
    if args.command == "seen":
        return seen_command(args)
    if args.command == "split":
        return run_split(args.paths, args.fetched_at, args.url, args.site, args.per_page)
    if args.command == "demo":
        return run_demo(args.articles, args.output_dir, args.edition)
    raise AssertionError(f"unhandled command {args.command}")
