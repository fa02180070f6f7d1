"""Scrapy settings for newscrawl: production defaults for scheduled news crawls.

Every knob an operator is expected to change has a one-line comment. Override any of
them per run with ``-s NAME=VALUE``.
"""

import os

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.discover.spiders"]
NEWSPIDER_MODULE = "newscrawl.discover.spiders"
# Our ``scrapy crawl`` rejects bad -a arguments with exit status 2 before crawling.
COMMANDS_MODULE = "newscrawl.cli.commands"

# Who you are: site owners read this. Replace the contact with your own address or URL.
USER_AGENT = "newscrawl/0.1 (+news dataset crawler; contact: operator@example.invalid)"

# Politeness
# Obey robots.txt, its Crawl-delay included (RobotsCrawlDelayMiddleware below).
ROBOTSTXT_OBEY = True
# Adapt the request rate to the site's response times.
AUTOTHROTTLE_ENABLED = True
# Seconds between requests to one site when a crawl starts (AutoThrottle adapts it).
AUTOTHROTTLE_START_DELAY = 1.0
# Upper bound of AutoThrottle's delay, in seconds.
AUTOTHROTTLE_MAX_DELAY = 30.0
# Requests AutoThrottle aims to have in flight to one site at a time.
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# Lower bound of the delay between requests to one site, in seconds.
DOWNLOAD_DELAY = 0.25
# Requests in flight in total, and to one site.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# Items processed in parallel per response. A page gives a few stories and links, and
# Scrapy starts this many worker tasks per response: 100 (its default) is pure overhead.
CONCURRENT_ITEMS = 16
# News sites do not need cookies to serve articles; sending none keeps runs independent.
COOKIES_ENABLED = False

# Limits
# Seconds before a download is abandoned (and retried).
DOWNLOAD_TIMEOUT = 30
# Largest response accepted, in bytes; larger ones are dropped (article pages are ~100 KB).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
# Responses larger than this are logged as a warning, in bytes.
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Redirects followed for one request before giving up.
REDIRECT_MAX_TIMES = 10

# Retries, with exponential backoff that honours Retry-After.
RETRY_ENABLED = True
# Retries after the first try.
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# First backoff in seconds; it doubles on each retry, with jitter.
RETRY_BACKOFF_BASE = 1.0
# Longest wait before one retry, in seconds (Retry-After included).
RETRY_BACKOFF_MAX = 60.0

DOWNLOADER_MIDDLEWARES = {
    # Off the site means another scheme, host or port (Scrapy's compares host names only).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "newscrawl.fetch.middlewares.OffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawl.fetch.middlewares.BackoffRetryMiddleware": 550,
    "newscrawl.fetch.middlewares.RobotsCrawlDelayMiddleware": 120,
    # Each fault counted by kind (newscrawl/faults/...): next to the downloader, it sees
    # raw statuses, exceptions and redirects before retries and redirects act on them.
    "newscrawl.fetch.middlewares.FaultObserver": 950,
    # After decompression (590), before retries (550): challenge pages, empty and
    # non-HTML bodies become lost pages with a reason; wrong charsets are repaired.
    "newscrawl.fetch.middlewares.ContentGuard": 580,
}

# A connection that drops before any reply is retried (with backoff) and counted like
# any other fault, also when it was a reused one (Twisted would resend it silently).
DOWNLOAD_HANDLERS = {
    "http": "newscrawl.fetch.middlewares.CountedResetsHTTP11DownloadHandler",
    "https": "newscrawl.fetch.middlewares.CountedResetsHTTP11DownloadHandler",
}

# Page records become story records here (pipelines cannot emit several items).
SPIDER_MIDDLEWARES = {
    "newscrawl.stories.middleware.StorySplitMiddleware": 50,
    "newscrawl.discover.requests.ArticleRequestFilter": 60,
}
# The stages a story record goes through, in this order: the one place it is written.
ITEM_PIPELINES = {
    # Validate (newscrawl/validate/): broken text (mojibake, challenge-page words) and
    # records failing the story JSON Schema are kept aside, with the reason, in
    # output/<spider>/quarantine/. It comes before dedup: a record that fails never
    # counts as seen.
    "newscrawl.validate.pipeline.ValidationPipeline": 200,
    # Dedup (newscrawl/dedup/): each story once, across pages and runs.
    "newscrawl.dedup.pipeline.DedupPipeline": 300,
    # Export (newscrawl/export/): the run's JSON Lines file, fsynced, then committed.
    "newscrawl.export.pipeline.ExportPipeline": 900,
}
# Also output each page record (debugging a site's split); stories only by default.
NEWSCRAWL_EMIT_PAGES = False

EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,
    "newscrawl.run.progress.ProgressLog": 500,
    "spidermon.contrib.scrapy.extensions.Spidermon": 500,
    # The crawl's memory (seen store, dedup decisions, pages in flight): the stages
    # above take it from the crawler (newscrawl/state.py).
    "newscrawl.run.state.CrawlState": 0,
}

# Run monitors (newscrawl/monitors.py): a run that fails one publishes nothing new and
# `newscrawl run` exits 1 naming it. The thresholds:
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ("newscrawl.run.verdict.RunMonitorSuite",)
# Most errors (log lines at ERROR) a run may have and still succeed.
NEWSCRAWL_MAX_ERRORS = 10
# Most records failing the story schema a run may have.
NEWSCRAWL_MAX_INVALID_RECORDS = 0
# Least share of found stories that must have a title, a body, a readable time.
NEWSCRAWL_MIN_TITLE_COVERAGE = 0.95
NEWSCRAWL_MIN_BODY_COVERAGE = 0.9
NEWSCRAWL_MIN_UPDATED_COVERAGE = 0.8
# Largest share of article pages that may be lost (retries spent, challenge pages, ...).
NEWSCRAWL_MAX_LOST_PAGES = 0.25

# Output: one JSON Lines file per run, written by the export stage (fsynced in batches,
# renamed into place when the run ends well): output/<spider>/<YYYY>/<MM>/<DD>/<run-id>.jsonl
NEWSCRAWL_OUTPUT_DIR = "output"
# Records written between fsync + seen-store commits.
NEWSCRAWL_COMMIT_EVERY = 100
# Publish run files gzip-compressed (<run-id>.jsonl.gz).
NEWSCRAWL_COMPRESS = False
# Hours a run may hold the spider's lock before the next run reports it as hung (exit 3).
NEWSCRAWL_MAX_RUN_HOURS = 6.0
# Extra Scrapy feeds (-o/-O add one); the export stage above is the main output.
FEEDS: dict[str, dict[str, str]] = {}
FEED_EXPORT_ENCODING = "utf-8"
# A run that scraped nothing leaves no empty file for downstream readers.
FEED_STORE_EMPTY = False

# Dedup and incremental crawling
# Where seen stories and pages are kept: "" = SQLite in output/<spider>/.state/, or
# sqlite:///PATH (relative to NEWSCRAWL_OUTPUT_DIR; sqlite:////PATH for an absolute
# one), or redis://HOST:PORT/DB (shared by distributed workers).
NEWSCRAWL_SEEN_STORE = ""
# Key prefix in Redis; {spider} is the spider's name.
NEWSCRAWL_SEEN_NAMESPACE = "newscrawl:{spider}"
# Skip article pages fetched in an earlier run unless their listing says they changed.
NEWSCRAWL_INCREMENTAL = True
# Fetch an article page again anyway after this many hours.
NEWSCRAWL_REFETCH_AFTER_HOURS = 24.0
# Stories whose text is at least this similar (Jaccard, 0-1) are near-duplicates.
NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD = 0.8
# Near-duplicates are looked for among stories seen in this many days (bounds memory).
NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS = 30.0
# Drop near-duplicates instead of marking them with duplicate_of.
NEWSCRAWL_DROP_NEAR_DUPLICATES = False

# Distributed mode (newscrawl/distributed/, README "Several workers"): set a Redis URL
# here or in the environment and every crawl process pointed at it shares one run: a
# scrapy-redis queue and dupefilter, and the seen store on that Redis.
NEWSCRAWL_REDIS_URL = os.environ.get("NEWSCRAWL_REDIS_URL", "")
# Seconds without a heartbeat after which a worker counts as dead (its requests requeued).
NEWSCRAWL_WORKER_TIMEOUT = 60.0
# Seconds the whole run must stay with nothing queued or in flight before workers stop.
NEWSCRAWL_IDLE_CLOSE = 5.0
# Seconds between looks at the shared queue while a worker has nothing to do.
NEWSCRAWL_DISTRIBUTED_POLL = 1.0
# Requests a worker leases in one round trip to Redis (its releases go with them).
NEWSCRAWL_LEASE_BATCH = 8
ADDONS = {
    "newscrawl.distributed.Distributed": 0,
    # Not even loaded (newscrawl/run/addons.py): its module brings aiohttp, 10 MB.
    "newscrawl.run.addons.WithoutRemoteControl": 0,
}

# Logging
LOG_LEVEL = "INFO"
# Seconds between progress lines (pages and items per minute) in the log.
LOGSTATS_INTERVAL = 60.0

# Local control ports are never wanted on a scheduled crawler.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Scrapy reads a generator callback's source again for each response to warn of a
# ``return value`` in it (its cache is keyed by the bound method, new every time): 0.1 to
# 0.35 ms a page. Our callbacks return no value.
WARN_ON_GENERATOR_RETURN_VALUE = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# --- Process plumbing ----------------------------------------------------------------
# Not operator knobs: `newscrawl run` sets these for the crawl processes it starts (its
# workers included), and a plain `scrapy crawl` keeps these defaults.
# Publish the run file when the crawl closes (newscrawl run publishes after its checks).
NEWSCRAWL_PUBLISH_ON_CLOSE = True
# Publish what killed runs left before crawling (a distributed run's parent does it once).
NEWSCRAWL_RECOVER_PARTIALS = True
# This process's run and worker ids; made up (or joined) when empty.
NEWSCRAWL_RUN_ID = ""
NEWSCRAWL_WORKER_ID = ""
# The pid of the parent holding the lock, for the workers of `newscrawl run --workers`.
NEWSCRAWL_LOCK_HELD_BY = ""
