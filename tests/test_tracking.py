"""The pages a crawl has in flight, and the leases they hold in a distributed run."""

from __future__ import annotations

from newscrawl.run.tracking import PageTracker

AT = "2025-03-01T10:00:00+00:00"


def test_a_pages_lease_is_held_until_taken_for_release_after_its_stories_settle() -> None:
    pages = PageTracker()
    pages.page_opened("p:1", 2, AT, None, lease="7")
    pages.page_opened("p:2", 1, AT, None, lease="8")
    pages.page_opened("p:3", 0, AT, None, lease="9")  # no story: settled at once
    pages.page_opened("p:4", 1, AT, None)  # a single-machine crawl's page: no lease
    assert pages.held_leases() == {"7", "8", "9"}
    pages.story_settled("p:1")
    pages.story_failed("p:2")
    assert sorted(pages.take_safe_leases()) == ["8", "9"]
    assert (pages.holds("7"), pages.holds("8"), pages.holds("9")) == (True, False, False)
    pages.page_opened("p:1", 1, AT, None, lease="10")  # fetched again, under a new lease
    assert pages.held_leases() == {"7", "10"}  # the old one only once released
    pages.story_settled("p:1")
    assert sorted(pages.take_safe_leases()) == ["10", "7"]
    assert pages.held_leases() == set()
    assert not pages.holds("10")
