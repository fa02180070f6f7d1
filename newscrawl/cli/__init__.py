"""The command line: ``newscrawl`` (``main.py``), ``newscrawl run`` (``run.py``) and Scrapy's
``crawl`` command with newscrawl's checks (``commands/``)."""
