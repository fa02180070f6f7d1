"""Near-duplicate stories: the same wire story under two URLs, lightly edited.

Each story's text is sketched as a MinHash over word shingles, and the
window of recent stories is searched with locality-sensitive hashing: the sketch cut into
bands, and a story a candidate when one band is equal. The window is bounded by time, so
memory stays bounded however long the crawl history.

The window is held in numpy arrays rather than one object per story, so it stays small
at the size a long-running site reaches (100,000 stories in the window): the sketch
itself (128 values of 32 bits, 512 bytes), one 64-bit hash per band, and the band hashes
sorted once per band for lookup. A candidate is a match when its estimated similarity
reaches the threshold.

The sketches, the bands and so the candidates are those of datasketch 2 (its default
``affine32`` MinHash and its ``MinHashLSH`` for the same threshold and number of
permutations: ``tests/test_neardup.py`` holds the two side by side), so the sketches
in a seen store stay valid. They are computed here, in a few lines of numpy, because
importing datasketch imports SciPy for one integral: 50 MB and half a second of every
run's start, for figures that depend only on the threshold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from newscrawl import settings as defaults
from newscrawl.dedup.identity import shingles

NUM_PERM = 128
SKETCH_BYTES = NUM_PERM * 4  # a stored sketch: its values as 32-bit numbers


def _permutations(seed: int = 1) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """datasketch's affine32 permutations, h -> a * h + b modulo 2**32 (an odd ``a``:
    a bijection), drawn as it draws them from its default seed."""
    draw = np.random.RandomState(seed)
    a = draw.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = draw.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_A, _B = _permutations()
# A band's values mixed into one 64-bit number (wrapping multiplication by odd
# constants): equal bands give equal hashes; unequal ones collide so rarely that the
# similarity check after it settles them.
_MIX = np.random.default_rng(20261201).integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | 1

_CHUNK = 2048  # rows hashed at once when many are added together

Sketch = npt.NDArray[np.uint32]


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
        self.bands, self.band_rows = bands_for(threshold)
        # One row per story added, in the order added; a row replaced or expired is dead
        # (its key None) until the next compaction.
        self._sketches = np.empty((0, NUM_PERM), dtype=np.uint32)
        self._hashes = np.empty((0, self.bands), dtype=np.uint64)
        self._seen = np.empty(0, dtype=np.float64)  # POSIX time each row was added for
        self._keys: list[str | None] = []
        self._rows = 0
        self._dead = 0
        self._head = 0  # rows before it expiry has walked past: all dead
        self.row_of: dict[str, int] = {}
        # The band hashes of the first ``_indexed`` rows, all bands in one sorted array
        # (a band's hashes are mixed with its own constants: bands do not meet), and the
        # row of each.
        self._sorted_hashes = np.empty(0, dtype=np.uint64)
        self._sorted_rows = np.empty(0, dtype=np.int32)
        # The rows added since, by band hash: a few thousand at most, sorted in later.
        self._pending: dict[int, list[int]] = {}
        self._indexed = 0
        self.newest: float | None = None

    def __len__(self) -> int:
        return len(self.row_of)

    def __contains__(self, key: object) -> bool:
        return key in self.row_of

    @staticmethod
    def sketch(paragraphs: Iterable[str]) -> Sketch | None:
        """The MinHash of a story's text, or None when it has no words."""
        tokens = shingles(paragraphs)
        if not tokens:
            return None
        # Each shingle's 32-bit SHA-1 hash (the first four bytes of the digest, little
        # endian), then the MurmurHash3 finalizer, then every permutation's minimum.
        digests = b"".join([hashlib.sha1(token).digest()[:4] for token in tokens])
        hashed = np.frombuffer(digests, dtype="<u4").astype(np.uint32)
        hashed ^= hashed >> np.uint32(16)
        hashed *= np.uint32(0x85EBCA6B)
        hashed ^= hashed >> np.uint32(13)
        hashed *= np.uint32(0xC2B2AE35)
        hashed ^= hashed >> np.uint32(16)
        return cast(Sketch, (hashed[:, np.newaxis] * _A + _B).min(axis=0))

    @staticmethod
    def to_bytes(sketch: Sketch) -> bytes:
        return np.asarray(sketch, dtype=np.uint32).tobytes()

    @staticmethod
    def from_bytes(data: bytes) -> Sketch | None:
        """A stored sketch, or None when it is not one of ours (another size)."""
        if len(data) != SKETCH_BYTES:
            return None
        return np.frombuffer(data, dtype=np.uint32)

    @staticmethod
    def similarity(one: Sketch, other: Sketch) -> float:
        """The estimated Jaccard similarity of two stories' shingles."""
        return float(np.count_nonzero(one == other)) / NUM_PERM

    def _band_hashes(self, sketches: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
        used = self.bands * self.band_rows
        hashes = np.empty((len(sketches), self.bands), dtype=np.uint64)
        for start in range(0, len(sketches), _CHUNK):  # small temporaries stay in cache
            part = sketches[start : start + _CHUNK, :used]
            mixed = part.astype(np.uint64) * _MIX[:used]
            hashes[start : start + _CHUNK] = mixed.reshape(-1, self.bands, self.band_rows).sum(2)
        return hashes

    def match(self, key: str, sketch: Sketch) -> str | None:
        """The key of the most similar other story at or above the threshold (of equally
        similar ones, the one longest in the window)."""
        if not self.row_of:
            return None
        query = self._band_hashes(sketch[np.newaxis])[0]
        hashes, rows = self._sorted_hashes, self._sorted_rows
        low = hashes.searchsorted(query).tolist()
        high = hashes.searchsorted(query, "right").tolist()
        found = {row for a, b in zip(low, high, strict=True) if b > a for row in rows[a:b].tolist()}
        for value in query.tolist():
            found.update(self._pending.get(value, ()))
        best: tuple[float, int, str] | None = None
        for row in found:
            other = self._keys[row]  # None for a row no longer in the window
            if other is None or other == key:
                continue
            similarity = self.similarity(self._sketches[row], sketch)
            if similarity >= self.threshold and (
                best is None or (similarity, -row) > (best[0], -best[1])
            ):
                best = (similarity, row, other)
        return best[2] if best else None

    def add(self, key: str, sketch: Sketch, seen: datetime) -> None:
        """Index a story (replacing its earlier sketch) and drop what left the window."""
        self.add_many([key], sketch[np.newaxis], [seen])

    def add_many(
        self, keys: Sequence[str], sketches: npt.NDArray[np.uint32], seen: Sequence[datetime]
    ) -> None:
        """``add`` for many stories at once, in order (a window loaded from the store)."""
        if not keys:
            return
        times = np.fromiter((moment.timestamp() for moment in seen), np.float64, len(keys))
        start, stop = self._rows, self._rows + len(keys)
        self._grow(stop)
        for row, key in enumerate(keys, start):
            earlier = self.row_of.get(key)
            if earlier is not None:
                self._kill(earlier)
            self.row_of[key] = row
            self._keys.append(key)
        self._sketches[start:stop] = sketches
        self._hashes[start:stop] = self._band_hashes(sketches)
        self._seen[start:stop] = times
        self._rows = stop
        latest = float(times.max())
        self.newest = latest if self.newest is None else max(self.newest, latest)
        self.expire(self.newest)
        if self._rows - self._indexed + self._dead > max(1024, len(self.row_of) // 16):
            self._reindex()
            return
        for row, hashes in enumerate(self._hashes[start:stop].tolist(), start):
            for value in hashes:
                self._pending.setdefault(value, []).append(row)

    def expire(self, now: datetime | float) -> None:
        """Forget stories added before the window, walking the rows in the order added
        (a story added again since has a newer row)."""
        moment = now if isinstance(now, float) else now.timestamp()
        cutoff = moment - self.window.total_seconds()
        head = self._head
        while head < self._rows and self._seen[head] < cutoff:
            key = self._keys[head]
            if key is not None:
                del self.row_of[key]
                self._kill(head)
            head += 1
        self._head = head

    def _kill(self, row: int) -> None:
        self._keys[row] = None
        self._dead += 1

    def _grow(self, rows: int) -> None:
        capacity = len(self._seen)
        if rows <= capacity:
            return
        capacity = max(rows, capacity + capacity // 4, 256)  # a quarter more: little slack
        self._sketches = _resized(self._sketches, capacity)
        self._hashes = _resized(self._hashes, capacity)
        self._seen = _resized(self._seen, capacity)

    def _reindex(self) -> None:
        """Drop dead rows and sort every row's band hashes again."""
        if self._dead:
            kept = [row for row, key in enumerate(self._keys) if key is not None]
            count = len(kept)
            self._sketches[:count] = self._sketches[kept]
            self._hashes[:count] = self._hashes[kept]
            self._seen[:count] = self._seen[kept]
            self._keys = [self._keys[row] for row in kept]
            self.row_of = {key: row for row, key in enumerate(self._keys) if key is not None}
            self._rows, self._dead, self._head = count, 0, 0  # the rows walked were all dead
        hashes = self._hashes[: self._rows].ravel()
        order = np.argsort(hashes, kind="stable")
        self._sorted_hashes = hashes[order]
        self._sorted_rows = (order // self.bands).astype(np.int32)
        self._indexed = self._rows
        self._pending = {}


@lru_cache(maxsize=8)
def bands_for(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """The bands and rows per band of datasketch's ``MinHashLSH`` for ``threshold``:
    the (b, r) with b * r <= num_perm minimizing the mean of the false positive and
    false negative probabilities, each the integral of a candidate's probability, 1 - (1
    - s**r)**b, on one side of the threshold. That probability is a polynomial of degree
    b * r, so Gauss-Legendre quadrature on num_perm / 2 + 1 nodes computes both
    integrals exactly (datasketch uses SciPy's adaptive quad, to 1.5e-8)."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    below_s, below_w = _scaled(nodes, weights, 0.0, threshold)
    above_s, above_w = _scaled(nodes, weights, threshold, 1.0)
    best, error = (0, 0), float("inf")
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1, dtype=np.float64)[:, np.newaxis]
        false_positive = ((1 - (1 - below_s**r) ** b) * below_w).sum(axis=1)
        false_negative = (((1 - above_s**r) ** b) * above_w).sum(axis=1)
        errors = (false_positive * 0.5 + false_negative * 0.5).tolist()
        for rows, value in enumerate(errors, 1):  # the first of equal errors, as there
            if value < error:
                best, error = (b, rows), value
    return best


def _scaled(
    nodes: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], low: float, high: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Gauss-Legendre nodes and weights moved from [-1, 1] to [low, high]."""
    half = (high - low) / 2
    return nodes * half + (low + high) / 2, weights * half


_Array = TypeVar("_Array", bound=npt.NDArray[Any])


def _resized(array: _Array, rows: int) -> _Array:
    """``array`` with room for ``rows`` rows, the new ones zero."""
    grown = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return cast(_Array, grown)
