"""Stage 2, fetch: downloader middlewares between Scrapy's downloader and a page (offsite,
backoff retries, crawl-delay, content guard), and the fault kinds they count."""
