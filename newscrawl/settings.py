"""Scrapy settings for newscrawl: production defaults for scheduled news crawls.

Every knob an operator is expected to change has a one-line comment. Override any of
them per run with ``-s NAME=VALUE``.
"""

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
# Our ``scrapy crawl`` rejects bad -a arguments with exit status 2 before crawling.
COMMANDS_MODULE = "newscrawl.commands"

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
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawl.downloadermiddlewares.BackoffRetryMiddleware": 550,
    "newscrawl.downloadermiddlewares.RobotsCrawlDelayMiddleware": 120,
}

# Page records become story records here (pipelines cannot emit several items).
SPIDER_MIDDLEWARES = {
    "newscrawl.spidermiddlewares.StorySplitMiddleware": 50,
}
# Also output each page record (debugging a site's split); stories only by default.
NEWSCRAWL_EMIT_PAGES = False

EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,
    "newscrawl.extensions.ProgressLog": 500,
}

# Output: one JSON Lines file per run under output/<spider>/, named by the run's start
# time. ``-o``/``-O`` on the command line replace it.
FEEDS = {
    "output/%(name)s/%(time)s.jsonl": {"format": "jsonlines", "encoding": "utf-8"},
}
FEED_EXPORT_ENCODING = "utf-8"
# A run that scraped nothing leaves no empty file for downstream readers.
FEED_STORE_EMPTY = False

# Logging
LOG_LEVEL = "INFO"
# Seconds between progress lines (pages and items per minute) in the log.
LOGSTATS_INTERVAL = 60.0

# Local control ports are never wanted on a scheduled crawler.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
