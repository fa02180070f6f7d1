"""Saved pages of each configured site and the stories they must give.

The convention, one folder per site: ``tests/sites/<site>/<page>.html`` (or ``.htm``,
``.txt``, each also ``.gz``) beside ``<page>.expected.json``, which holds the page's URL,
when it was fetched, and its stories in order, each with the fields that must match
(``title``, ``summary``, ``body``, ``dateline``, ``authors``...; a time field holds the
keys of the time record that must match, such as ``value`` and ``precision``). A new
site's pages go here, written by hand or saved from the site with the output checked
by eye; every file is read with the profile the folder names.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from newscrawl.cli.main import split_file
from newscrawl.sites import get_site

SITES = Path(__file__).resolve().parent / "sites"
CASES = sorted(SITES.glob("*/*.expected.json"))


def saved_page(expected: Path) -> Path:
    stem = expected.name.removesuffix(".expected.json")
    [page] = [p for p in expected.parent.iterdir() if p.name.startswith(f"{stem}.")
              and p != expected]  # fmt: skip
    return page


def test_every_site_folder_names_a_configured_site_and_holds_a_case() -> None:
    folders = [folder for folder in SITES.iterdir() if folder.is_dir()]
    assert folders
    for folder in folders:
        get_site(folder.name)  # KeyError for a folder no site file names
        assert list(folder.glob("*.expected.json")), folder


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_saved_page_gives_the_stories_expected(expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    site = get_site(expected_file.parent.name)
    found = split_file(
        saved_page(expected_file),
        datetime.fromisoformat(expected["fetched_at"]),
        expected["url"],
        site,
    )
    records: list[dict[str, Any]] = [story.to_record() for story in found.stories]
    assert [r["title"] for r in records] == [s["title"] for s in expected["stories"]]
    for record, wanted in zip(records, expected["stories"], strict=True):
        for key, value in wanted.items():
            if isinstance(value, dict):
                assert {k: (record[key] or {}).get(k) for k in value} == value, key
            else:
                assert record[key] == value, key
