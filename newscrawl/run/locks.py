"""The per-spider run lock: one writer of a spider's output at a time.

Every entry point that writes the output (``newscrawl run``, ``scrapy crawl``, a scrapyd
job) takes the same lock, ``output/<spider>/.lock``. flock locks are dropped by the
kernel when the process dies, however it dies, so a killed run never leaves a stale
lock; a run that hangs does hold it, and the next run reports that as a failure once
the lock is older than NEWSCRAWL_MAX_RUN_HOURS.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

LOCK_FILE = ".lock"
EXIT_CRASHED = 3
EXIT_LOCKED = 75  # EX_TEMPFAIL: try later

# The locks this process holds, with how many holders in it: a crawl inside
# ``newscrawl run`` takes the lock its command already holds (flock is per open file,
# so locking the same file twice in one process would fail).
_held: dict[Path, tuple[IO[str], int]] = {}


class RunLocked(Exception):
    """Another run holds the spider's lock. ``exit_code`` 75 when that is a normal
    overlap, 3 when the holder has run longer than the longest a run may take."""

    def __init__(self, message: str, exit_code: int = EXIT_LOCKED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def hold_lock(path: Path, max_run_hours: float) -> None:
    """Take the lock at ``path`` (or count one more holder in this process); raise
    RunLocked at once if another process holds it."""
    key = path.absolute()
    if key in _held:
        handle, holders = _held[key]
        _held[key] = (handle, holders + 1)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise _locked(path, holder, max_run_hours) from None
    try:  # written before the old holder's line is cut off: a full disk keeps that one
        handle.seek(0)
        handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc).isoformat()}\n")
        handle.truncate()
        handle.flush()
    except OSError as exc:
        with contextlib.suppress(OSError):  # what cannot be flushed is lost: the lock goes
            handle.close()
        raise _unwritable(path, exc) from None
    _held[key] = (handle, 1)


def _unwritable(path: Path, exc: OSError) -> RunLocked:
    name = errno.errorcode.get(exc.errno or 0, "error")
    return RunLocked(
        f"the output folder cannot be written: cannot take the lock {path}: "
        f"{exc.strerror or exc} ({name})",
        exit_code=EXIT_CRASHED,
    )


def release_lock(path: Path) -> None:
    key = path.absolute()
    if key not in _held:
        return
    handle, holders = _held.pop(key)
    if holders > 1:
        _held[key] = (handle, holders - 1)
    else:
        handle.close()


def _locked(path: Path, holder: str, max_run_hours: float) -> RunLocked:
    since = holder.rpartition(" since ")[2]
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        started = None
    if started is not None:
        hours = (datetime.now(timezone.utc) - started).total_seconds() / 3600
        if hours > max_run_hours:
            return RunLocked(
                f"the run holding {path} ({holder}) has run for {hours:.1f} h, longer than "
                f"NEWSCRAWL_MAX_RUN_HOURS={max_run_hours:g}: is it hung? Stop it, or raise "
                "the limit",
                exit_code=EXIT_CRASHED,
            )
    return RunLocked(f"another run holds {path} ({holder})")


@contextmanager
def run_lock(path: Path, max_run_hours: float) -> Iterator[None]:
    """Hold the lock for a block; RunLocked at once if taken."""
    hold_lock(path, max_run_hours)
    try:
        yield
    finally:
        release_lock(path)
