"""Names every stage shares: request meta keys and stats keys.

One place for each string that one stage writes and another reads, so that a key is
spelled once.
"""

from __future__ import annotations

# Request meta keys.
LEASE = "newscrawl_lease"  # the lease a request was taken under (distributed mode)
PAGE_KEY = "newscrawl_page_key"  # the article's page key (the shared dupefilter's)
