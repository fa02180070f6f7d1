"""A real scrapyd round trip: deploy with scrapyd-deploy, schedule, wait, read the items."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newscrawl.export.dataset import records, run_files
from newscrawl.sites import registry
from tests.conftest import Mirror
from tests.test_stories import VALIDATOR

pytestmark = pytest.mark.slow  # a real scrapyd, deployed to and crawling the mirror

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USER, PASSWORD = "newscrawl", "test-only-secret"


@dataclass
class Scrapyd:
    url: str

    def call(self, endpoint: str, data: dict[str, Any] | None = None, auth: bool = True) -> Any:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.url + endpoint, data=body)
        if auth:
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"username = {USER}\n"
        f"password = {PASSWORD}\n"
        f"eggs_dir = {tmp_path / 'eggs'}\n"
        f"logs_dir = {tmp_path / 'logs'}\n"
        f"dbs_dir = {tmp_path / 'dbs'}\n"
        "items_dir =\n"
        "max_proc = 2\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(BIN / "scrapyd")], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # it says when it listens (or exits)
        seen.append(line)
        if b"Site starting on" in line:
            break
    else:
        raise RuntimeError(f"scrapyd did not start: {b''.join(seen)[-2000:]!r}")
    threading.Thread(target=process.stdout.read, daemon=True).start()
    try:
        yield Scrapyd(f"http://127.0.0.1:{port}/")
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_deploy_schedule_and_read_the_items(
    scrapyd: Scrapyd, mirror: Mirror, tmp_path: Path
) -> None:
    # Without credentials, scrapyd refuses.
    for endpoint, data in [
        ("daemonstatus.json", None),
        ("schedule.json", {"project": "newscrawl", "spider": "arabnews"}),
    ]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            scrapyd.call(endpoint, data, auth=False)
        assert refused.value.code == 401
        refused.value.close()  # the error holds the open response

    environment = {
        **os.environ,
        "SCRAPYD_URL": scrapyd.url,
        "SCRAPYD_USERNAME": USER,
        "SCRAPYD_PASSWORD": PASSWORD,
    }
    deployed = subprocess.run(
        [str(BIN / "scrapyd-deploy")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert '"status": "ok"' in deployed.stdout + deployed.stderr
    # Every configured site (its file read from the egg scrapyd runs), and the news spider.
    spiders = scrapyd.call("listspiders.json?project=newscrawl")["spiders"]
    assert sorted(spiders) == sorted([*registry(), "news"])

    output = tmp_path / "output"
    job = scrapyd.call(
        "schedule.json",
        {
            "project": "newscrawl",
            "spider": "arabnews",
            "base_url": mirror.base_url,
            "setting": [
                f"NEWSCRAWL_OUTPUT_DIR={output}",
                "AUTOTHROTTLE_ENABLED=False",
                "DOWNLOAD_DELAY=0",
            ],
        },
    )
    assert job["status"] == "ok"
    deadline = time.monotonic() + 180
    while True:  # scrapyd has no way to wait on a job: ask until it is done
        jobs = scrapyd.call("listjobs.json?project=newscrawl")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.5)

    files = run_files(output / "arabnews")
    assert len(files) == 1
    stories = list(records(files[0]))
    assert len(stories) > 0
    truth_titles = {article["title"] for article in mirror.truth()}
    for story in stories:
        VALIDATOR.validate(story)
        assert story["title"] in truth_titles
    log = (tmp_path / "logs" / "newscrawl" / "arabnews" / f"{job['jobid']}.log").read_text()
    assert "'finish_reason': 'finished'" in log
    assert "[newscrawl.run.verdict] ERROR" not in log
