"""Story records as the export stage writes them, for tests of the ledger and stores."""

from __future__ import annotations

import hashlib
from typing import Any

SEEN = "2025-03-01T00:00:00+00:00"


def print_of(n: int) -> str:
    """A fingerprint of the shape the schema wants (32 hex digits)."""
    return hashlib.sha256(f"story {n}".encode()).hexdigest()[:32]


def story_line(n: int, **fields: Any) -> dict[str, Any]:
    """A complete, schema-valid story record numbered ``n``; ``fields`` on top."""
    updated = {
        "raw": "Updated 5 min ago", "value": SEEN, "earliest": SEEN, "latest": SEEN,
        "precision": "minute", "source": "text",
        "anchor": {"at": SEEN, "basis": "given"}, "error": None,
    }  # fmt: skip
    record: dict[str, Any] = {
        "id": f"site:{n}", "site": "site", "language": "en", "position": 0,
        "page_url": f"http://127.0.0.1/node/{n}", "url": None,
        "title": f"Story number {n}", "summary": [], "dateline": None,
        "body": [f"Paragraph of story {n}."], "caption": None, "image_url": None,
        "updated": updated, "updated_machine": None, "published": None, "fetched_at": SEEN,
        "key": f"site:{n}", "version": 1, "fingerprint": print_of(n),
        "previous_fingerprint": None, "first_seen": SEEN, "last_seen": SEEN,
        "duplicate_of": None, "authors": [], "section": None,
    }  # fmt: skip
    record.update(fields)
    return record
