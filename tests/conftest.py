"""Shared fixtures: a mirror site in its own process, and real crawls against it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from newscrawl.cli import mirror_process

MIRROR_ARTICLES = 60
MIRROR_SEED = 7


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
