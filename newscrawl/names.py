"""Names every stage shares: request meta keys and crawl stats keys.

Each string one stage writes and another reads is spelled here, once. A stats key that
names a family ends without a slash; its members are ``stat(FAMILY, member, ...)``.
"""

from __future__ import annotations

# --- Request meta keys ------------------------------------------------------------------
SOURCE = "newscrawl_source"  # how an article request was found: feed, sitemap, section...
LISTED = "newscrawl_listed"  # what its feed or sitemap entry said of it ({"source", "time"})
FAULTS_SEEN = "newscrawl_faults"  # the fault kinds the request's earlier attempts met
LEASE = "newscrawl_lease"  # the lease a request was taken under (distributed mode)
PAGE_KEY = "newscrawl_page_key"  # the article's page key (the shared dupefilter's)


def stat(family: str, *members: object) -> str:
    """The stats key of a member of a family: ``stat(FAULTS, "lost", "timeout")``."""
    return "/".join((family, *map(str, members)))


# --- Stats keys, in the order the stages write them --------------------------------------
# Discover
DISCOVERED = "newscrawl/discovered"  # article links found, per source
DISCOVERY = "newscrawl/discovery"  # what the news spider found to crawl, per kind
OFFSITE = "newscrawl/offsite"  # links off the site, per source
LISTING_SELECTOR_FALLBACK = "newscrawl/listing/selector_fallback"
INCREMENTAL_SKIPPED = "newscrawl/incremental/skipped"
INCREMENTAL_REFETCH_CHANGED = "newscrawl/incremental/refetch_changed"
INCREMENTAL_REFETCH_AGED = "newscrawl/incremental/refetch_aged"
# Look-ups of article pages in the seen store (a response's links go in one).
INCREMENTAL_LOOKUPS = "newscrawl/incremental/lookups"
# Fetch
FAULTS = "newscrawl/faults"  # stat(FAULTS, "seen" | "repaired" | "lost", kind)
DOWNLOAD_FAILED = "newscrawl/download_failed"
# Page
PAGES = "newscrawl/pages"  # article pages read
PAGES_LOST = "newscrawl/pages/lost"  # article pages that could not be read
PAGES_NOT_ARTICLE = "newscrawl/pages/not_article"
PAGES_SKIPPED = "newscrawl/pages/skipped"  # per reason
# Stories
PAGES_SPLIT = "newscrawl/pages_split"
PAGES_NO_STORY = "newscrawl/pages/no_story"
PAGES_NO_PROFILE = "newscrawl/pages/no_profile"
STORIES = "newscrawl/stories"
STORIES_PER_PAGE = "newscrawl/stories_per_page"  # the mean; per count as members
SPLIT_MODE = "newscrawl/split_mode"
REGIONS_SKIPPED = "newscrawl/regions_skipped"
TIME_DISAGREEMENTS = "newscrawl/time/disagreements"
TIME_UNREADABLE = "newscrawl/time/unreadable"  # per error
COVERAGE = "newscrawl/coverage"  # regions, and how many had a title, body, updated
# Validate
QUARANTINED = "newscrawl/quarantined"  # the count; per reason, and the file's path
INVALID = "newscrawl/validation/invalid"
# Dedup
DEDUP = "newscrawl/dedup"  # per decision: new, version, duplicate, ...
KNOWN_BEFORE_ITEMS = "newscrawl/dedup/known_before_items"  # repeats the story stage dropped
# Export
EXPORTED = "newscrawl/exported"
COMMITTED = "newscrawl/committed"
OUTPUT = "newscrawl/output"  # the published file
OUTPUT_FAILED = "newscrawl/output_failed"
# Run
SEEN_STORE = "newscrawl/seen_store"  # commits, sketches forgotten or unreadable
STORE_FAILED = "newscrawl/store_failed"
RECOVERED = "newscrawl/recovered"  # files, stories, quarantined, paths
PAGES_UNSETTLED = "newscrawl/pages/unsettled"
MONITORS_FAILED = "newscrawl/monitors/failed"
# Distributed
DISTRIBUTED = "newscrawl/distributed"
REDIS_FAILED = "newscrawl/distributed/redis_failed"
RUN_RESPONSES = "newscrawl/distributed/run_responses"
REQUEUED = "newscrawl/distributed/requeued"
