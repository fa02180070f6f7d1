"""Near-duplicate stories: the same wire story under two URLs, lightly edited.

A MinHash LSH index (datasketch) over word shingles of each story's text, holding a
sliding window of recent stories so memory stays bounded however long the crawl history.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

from newscrawl import settings as defaults
from newscrawl.dedup.identity import shingles

NUM_PERM = 128
# Stored sketches are read back with the scheme that made them (datasketch 2's default).
SCHEME = "affine32"


class NearDuplicateIndex:
    """Recent stories' sketches; ``match`` finds a story whose text is close enough."""

    def __init__(
        self,
        threshold: float = defaults.NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD,
        window_days: float = defaults.NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.window = timedelta(days=window_days)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.sketches: dict[str, MinHash] = {}
        self.latest: dict[str, datetime] = {}  # when each story was last added
        self.order: deque[tuple[datetime, str]] = deque()  # additions, oldest first
        self.newest: datetime | None = None

    def __len__(self) -> int:
        return len(self.sketches)

    @staticmethod
    def sketch(paragraphs: Iterable[str]) -> MinHash | None:
        """The MinHash of a story's text, or None when it has no words."""
        tokens = list(shingles(paragraphs))
        if not tokens:
            return None
        minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
        minhash.update_batch(tokens)
        return minhash

    @staticmethod
    def to_bytes(minhash: MinHash) -> bytes:
        # The affine32 scheme's values fit 32 bits: 512 bytes a story.
        return np.asarray(minhash.hashvalues, dtype=np.uint32).tobytes()

    @staticmethod
    def from_bytes(data: bytes) -> MinHash | None:
        """A stored sketch, or None when it is not one of ours (another size)."""
        if len(data) != NUM_PERM * 4:
            return None
        values = np.frombuffer(data, dtype=np.uint32)
        return MinHash(num_perm=NUM_PERM, hashvalues=values, scheme=SCHEME)

    def match(self, key: str, minhash: MinHash) -> str | None:
        """The key of the most similar other story at or above the threshold."""
        best: tuple[float, str] | None = None
        for other in self.lsh.query(minhash):
            if other == key:
                continue
            similarity = float(minhash.jaccard(self.sketches[other]))
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, other)
        return best[1] if best else None

    def add(self, key: str, minhash: MinHash, seen: datetime) -> None:
        """Index a story (replacing its earlier sketch) and drop what left the window."""
        if key in self.sketches:
            self.lsh.remove(key)
        self.sketches[key] = minhash
        self.latest[key] = seen
        self.lsh.insert(key, minhash)
        self.order.append((seen, key))
        self.newest = seen if self.newest is None else max(self.newest, seen)
        self.expire(self.newest)

    def expire(self, now: datetime) -> None:
        """Forget stories last seen before the window."""
        cutoff = now - self.window
        while self.order and self.order[0][0] < cutoff:
            seen, key = self.order.popleft()
            if self.latest.get(key) == seen:  # not added again since
                self.lsh.remove(key)
                del self.sketches[key]
                del self.latest[key]
