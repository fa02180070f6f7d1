"""Distributed crawl throughput: 1, 2 and 4 workers of one run against one mirror.

    python benchmarks/distributed.py [--articles 1500] [--workers 1,2,4] [--rounds 3]

Starts the mirror site and a redis-server (on a unix socket), then runs
``newscrawl run arabnews --workers N --redis URL`` once per worker count, each with a
fresh output folder and key namespace, plus one single-machine run (no Redis) as the
baseline; all of that once per round, the single-machine run first in one round and
last in the next, so that a machine busier in one moment weighs on all of them.
AutoThrottle and download delays are off. A run's rate is the article pages the mirror
served (status 200) divided by the time from its first to its last article request (so
process start-up and the idle wait before the workers stop are left out); the wall time
of the whole command is printed too, and the CPU time its processes used per page. Each
rate is also given as a ratio to the single-machine run and to one distributed worker
of the same round. Medians over the rounds are reported (a ratio: the median of the
rounds' own).

The mirror, the workers and Redis share this machine's cores: once the workers use every
core, more workers cannot add pages per second. The run measures that ceiling first:
how much more work N CPU-bound processes get done than one (``ceiling``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.seenstore import start_redis  # noqa: E402

SPEED = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]
SPEED += ["-s", "LOG_LEVEL=WARNING", "-s", "LOGSTATS_INTERVAL=0", "-s", "NEWSCRAWL_IDLE_CLOSE=1"]


def mirror_log(base_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base_url}/_mirror/requests.json", timeout=30) as reply:
        entries: list[dict[str, Any]] = json.loads(reply.read())
    return entries


def reset_log(base_url: str) -> None:
    request = urllib.request.Request(f"{base_url}/_mirror/reset-log", data=b"{}")
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()


_SPIN = "x = 0\nfor i in range(20_000_000):\n    x += i"


def parallel_capacity(processes: int) -> float:
    """How many times the work of one process ``processes`` CPU-bound ones get done in
    the same time on this machine: its real ceiling for ``processes`` workers."""

    def timed(count: int) -> float:
        clock = time.monotonic()
        spinning = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
        for process in spinning:
            process.wait()
        return time.monotonic() - clock

    return processes * timed(1) / timed(processes)


def mirror_cpu() -> float:
    """CPU seconds used so far by the mirror site (this process's child, found in /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmdline = (stat.parent / "cmdline").read_bytes()
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if b"newscrawl_mirror" in cmdline and int(fields[1]) == os.getpid():
            ticks = os.sysconf("SC_CLK_TCK")
            return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return 0.0


def crawl(base_url: str, workdir: Path, workers: int, redis_url: str | None) -> dict[str, Any]:
    """One ``newscrawl run``; article pages fetched, their time span, the wall time."""
    reset_log(base_url)
    output = workdir / f"output-{workers}-{uuid.uuid4().hex[:6]}"
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews"]
    command += ["-a", f"base_url={base_url}", "--output-dir", str(output), *SPEED]
    if redis_url is not None:
        command += ["--workers", str(workers), "--redis", redis_url]
        command += ["-s", f"NEWSCRAWL_SEEN_NAMESPACE=bench-{uuid.uuid4().hex[:8]}:{{spider}}"]
    clock = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served_before = mirror_cpu()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = mirror_cpu() - served_before
    wall = time.monotonic() - clock
    # CPU of the command and its worker processes (reaped by it), not the mirror's.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode:
        raise SystemExit(f"{workers}-worker run failed ({done.returncode}): {done.stderr[-2000:]}")
    # Article pages read (a bare /node/<nid> link answers 301 first: not a page).
    log = mirror_log(base_url)
    articles = [e for e in log if e["path"].startswith("/node/") and e["status"] == 200]
    times = [float(e["time"]) for e in articles]
    stories = sum(
        len(path.read_text(encoding="utf-8").splitlines())
        for path in output.glob("arabnews/2*/*/*/*.jsonl")
    )
    span = max(times) - min(times)
    return {
        "pages": len(articles),
        "span": span,
        "wall": wall,
        "stories": stories,
        "cpu": cpu,
        "mirror_cpu": served,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--workers", default="1,2,4", help="worker counts (default: 1,2,4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of runs (default 3)")
    args = parser.parse_args()
    try:
        counts = [int(n) for n in args.workers.split(",")]
    except ValueError:
        parser.error(f"--workers takes worker counts such as 1,2,4, not {args.workers!r}")
    if not counts or min(counts) < 1 or args.rounds < 1:
        parser.error("--workers counts and --rounds must be at least 1")

    from newscrawl.cli.main import mirror_process

    capacity = {n: parallel_capacity(n) for n in counts}
    print(f"machine: {os.cpu_count()} cores; mirror: {args.articles} articles")
    print(
        "machine ceiling: N CPU-bound processes do "
        + ", ".join(f"{capacity[n]:.2f}x (N={n})" for n in counts)
        + " the work of one"
    )
    with tempfile.TemporaryDirectory() as tmp, mirror_process(args.articles) as base_url:
        workdir = Path(tmp)
        server, redis_url = start_redis(workdir)
        rounds: list[dict[int, dict[str, Any]]] = []  # worker count -> run; 0: single
        try:
            for n in range(args.rounds):
                order = [0, *counts] if n % 2 == 0 else [*counts, 0]
                runs = {
                    k: crawl(base_url, workdir, k or 1, redis_url if k else None) for k in order
                }
                rounds.append(runs)
                rates = {k: run["pages"] / run["span"] for k, run in runs.items()}
                print(
                    f"round {n + 1}: single {rates[0]:.1f} pages/s; "
                    + "; ".join(f"{k} worker(s) {rates[k]:.1f}" for k in counts),
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait()
    for runs in rounds:
        for run in runs.values():
            run["rate"] = run["pages"] / run["span"]

    def median(count: int, field: str) -> float:
        return statistics.median(float(runs[count][field]) for runs in rounds)

    def ratio(count: int, base: int) -> float:
        return statistics.median(float(runs[count]["rate"] / runs[base]["rate"]) for runs in rounds)

    print(f"medians of {len(rounds)} round(s):")
    print(f"{'run':<22}{'pages':>7}{'stories':>9}{'pages/s':>10}{'vs single':>11}"
          f"{'vs 1 worker':>13}{'ceiling':>9}{'wall s':>9}{'CPU ms/page':>13}"
          f"{'mirror':>8}")  # fmt: skip
    rows = [("single machine", 0, 1)]
    rows += [(f"{n} worker(s), Redis", n, n) for n in counts]
    for name, key, n in rows:
        pages = median(key, "pages")
        print(
            f"{name:<22}{pages:>7.0f}{median(key, 'stories'):>9.0f}{median(key, 'rate'):>10.1f}"
            f"{ratio(key, 0):>11.2f}{ratio(key, counts[0]):>13.2f}"
            f"{capacity.get(n, 1.0):>9.2f}{median(key, 'wall'):>9.1f}"
            f"{1000 * median(key, 'cpu') / pages:>13.1f}"
            f"{1000 * median(key, 'mirror_cpu') / pages:>8.1f}"
        )
    print(
        "ceiling: how many times the work of one process N CPU-bound processes get done "
        "here; a crawl that scaled perfectly would reach it in 'vs 1 worker'. CPU ms/page: "
        "the crawl's processes (start-up included); mirror: the mirror site's."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
