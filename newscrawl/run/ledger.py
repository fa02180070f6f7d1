"""The run ledger: the one owner of a spider's output files.

The promise to downstream readers: every story a run wrote reaches exactly one
published file, once per version, and every published file is listed in a manifest.
It rests on one invariant, kept here and nowhere else:

    A record is appended to its run's file under ``.partial/`` and fsynced *before* the
    seen store learns of it, in one store transaction that also records how many bytes
    of the file are committed. Everything up to that offset is the file's to publish;
    a line after it (written, not yet committed) is kept unless another writer has
    committed the same story since. Publication only ever moves a file whose records
    the store already knows, and every step of it can be repeated.

So the seen store never runs ahead of what is written, and recovery and publication
are idempotent: killed anywhere inside them and run again, they give the same
published files. Recovering a killed run's file (``recover_partials``) cuts it to its
complete records (torn, malformed and invalid lines go to quarantine with the reason),
records the whole cut file as committed, then publishes it with its manifest.
``sweep`` finishes a publication a kill interrupted (a marker in ``.partial/`` stands
while a file is moved into place and its manifest written). ``check_store`` refuses a
seen store that is behind the published files (emptied, or restored from an old copy),
and ``newscrawl.dedup.rebuild`` derives one from them.

Each step that a kill can interrupt has a named crash point (``crash_point``), so tests
kill a real run at an exact step rather than at a guessed time.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from newscrawl.clock import utc_now
from newscrawl.records.checks import record_faults
from newscrawl.records.story import upgraded
from newscrawl.run.seenstore import Commit, SeenStore, StoryState

if TYPE_CHECKING:
    from newscrawl.distributed.redis_run import DistributedRun

logger = logging.getLogger(__name__)

PARTIAL = ".partial"
QUARANTINE = "quarantine"
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
# A run file's name: the run id, and in distributed mode the worker that wrote it.
FILE_ID = re.compile(rf"(?P<run>{RUN_ID.pattern})(?:\.(?P<worker>w[0-9a-f]{{6}}))?")
# A published run file under the dated folders, plain or gzip-compressed.
PUBLISHED = re.compile(rf"(?P<id>{FILE_ID.pattern})\.jsonl(?:\.gz)?")
# In .partial/: a publication under way (see publish_listed).
PUBLISHING = ".publishing"
# Errors that mean the output cannot be written at all: stop, do not retry per record.
FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class OutputError(Exception):
    """The output folder cannot be written (full disk, read-only, no permission)."""


def output_error(exc: OSError, path: Path) -> OutputError:
    name = errno.errorcode.get(exc.errno or 0, "error")
    return OutputError(f"cannot write {path}: {exc.strerror or exc} ({name})")


# Crash points: NEWSCRAWL_CRASH_AT=<point>[:<n>] kills this process with SIGKILL the
# n-th time (default the first) it reaches <point>. For tests of what a kill leaves.
CRASH_POINTS = (
    "write.line",  # a record line written, not yet fsynced
    "commit.fsynced",  # the run file fsynced, the seen store not yet told
    "commit.stored",  # the seen store told
    "recover.cut",  # a killed run's file cut to its records, the store not yet told
    "recover.stored",  # the store told of the recovered records, not yet published
    "publish.compressed",  # the .gz written aside, not yet renamed into place
    "publish.renamed",  # renamed into place, the manifest not yet written
    "manifest.temporary",  # the manifest written aside, not yet renamed into place
)
_crash_hits: dict[str, int] = {}


def crash_point(name: str, unflushed: IO[str] | None = None) -> None:
    """Die here if NEWSCRAWL_CRASH_AT says so; ``unflushed`` is flushed to the OS first
    (the worst case for recovery: the bytes are in the file, the store knows nothing)."""
    wanted = os.environ.get("NEWSCRAWL_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _crash_hits[name] = _crash_hits.get(name, 0) + 1
    if _crash_hits[name] >= int(nth or 1):
        if unflushed is not None:
            unflushed.flush()
        os.kill(os.getpid(), signal.SIGKILL)


# Names and places


def file_id_of(run_id: str, worker: str | None) -> str:
    """A run file's name (without .jsonl): ``<run-id>``, or ``<run-id>.<worker>``."""
    return f"{run_id}.{worker}" if worker else run_id


def final_path(spider_dir: Path, file_id: str) -> Path:
    """Where a run file is published: dated by the run's start (UTC)."""
    day = datetime.strptime(file_id[:16], "%Y%m%dT%H%M%SZ")
    return spider_dir / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{file_id}.jsonl"


def manifest_path(spider_dir: Path, file_id: str) -> Path:
    return final_path(spider_dir, file_id).with_name(f"{file_id}.manifest.json")


def partial_path(spider_dir: Path, file_id: str) -> Path:
    return spider_dir / PARTIAL / f"{file_id}.jsonl"


def published_files(spider_dir: Path) -> list[Path]:
    """The published run files, oldest first (by run id)."""
    found = [
        path
        for path in spider_dir.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*.jsonl*")
        if PUBLISHED.fullmatch(path.name)
    ]
    return sorted(found, key=lambda path: path.name)


def published_id(path: Path) -> str:
    return path.name.split(".jsonl")[0]


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, data: bytes, *, point: str | None = None) -> None:
    """``path`` holds ``data`` whole or keeps what it held: written aside, then renamed.
    A failed write leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if point:
            crash_point(point)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise output_error(exc, path) from exc


# The run file being written


class RunFile:
    """One writer's file under ``.partial/``: appended to, fsynced on commit.

    It is locked before it takes its name, so no recovery ever takes a live writer's
    file for a killed run's.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.out: IO[str] | None = None

    def write(self, line: str) -> None:
        try:
            if self.out is None:
                self._open()
            assert self.out is not None
            self.out.write(line)
        except OSError as exc:
            raise output_error(exc, self.path) from exc
        crash_point("write.line", self.out)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        opening = self.path.with_name(f".{self.path.name}.opening")
        out = opening.open("a", encoding="utf-8")
        fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(opening, self.path)
        self.out = out

    def sync(self) -> int | None:
        """fsync what was written; the bytes now durable (None when nothing was opened)."""
        if self.out is None:
            return None
        try:
            self.out.flush()
            os.fsync(self.out.fileno())
        except OSError as exc:
            raise output_error(exc, self.path) from exc
        crash_point("commit.fsynced")
        return self.out.tell()

    def close(self) -> None:
        if self.out is not None:
            try:
                self.out.close()
            except OSError:  # its data was fsynced at the last commit, or is not committed
                logger.warning("Closing %s failed", self.path, exc_info=True)


# Publication


def publish(partial: Path, final: Path, compress: bool = False) -> Path:
    """Move a run file into place, whole: a reader never sees half of it. Idempotent:
    a kill anywhere leaves the file in ``.partial/`` or in place, and running it again
    finishes the job."""
    final.parent.mkdir(parents=True, exist_ok=True)
    plain, packed = final, final.with_name(final.name + ".gz")
    target = packed if compress else plain
    for done in (plain, packed):
        if done.exists():  # published before a kill, the partial not yet removed
            partial.unlink(missing_ok=True)
            return done
    try:
        if compress:
            temporary = packed.with_name(f".{packed.name}.tmp")
            try:
                with partial.open("rb") as source, gzip.open(temporary, "wb") as packing:
                    shutil.copyfileobj(source, packing)
                with temporary.open("rb") as written:
                    os.fsync(written.fileno())
                crash_point("publish.compressed")
                os.replace(temporary, packed)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            _fsync_dir(packed.parent)
            crash_point("publish.renamed")
            partial.unlink()
        else:
            os.replace(partial, plain)
            _fsync_dir(plain.parent)
            crash_point("publish.renamed")
    except OSError as exc:
        raise output_error(exc, target) from exc
    return target


def describe_file(path: Path, root: Path) -> dict[str, Any]:
    """A published file for the manifest: where, how many lines, sha256."""
    data = path.read_bytes()
    lines = (gzip.decompress(data) if path.suffix == ".gz" else data).count(b"\n")
    return {
        "path": str(path.relative_to(root)),
        "lines": lines,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@dataclass
class RunReport:
    """What a run file's manifest says: ``<file id>.manifest.json`` next to it."""

    run_id: str
    spider: str
    started_at: str
    worker: str | None = None  # distributed mode: the worker whose file this is
    finished_at: str = ""
    status: str = "crashed"
    exit_code: int = 3
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[dict[str, Any]] = field(default_factory=list)
    failed_monitors: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    # Each fault kind met: {"seen", "recovered", "repaired", "lost"} counts (see faults.py).
    faults: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined: dict[str, Any] | None = None
    # Set when another run published this run's file (it was killed or failed).
    published_by: str | None = None

    def write(self, path: Path) -> None:
        """Write the manifest atomically; a failed write leaves nothing behind."""
        data = json.dumps(self.__dict__, indent=2) + "\n"
        write_atomically(path, data.encode("utf-8"), point="manifest.temporary")

    @classmethod
    def read(cls, path: Path) -> RunReport | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None


def list_in_manifest(spider_dir: Path, published: Path, published_by: str) -> None:
    """Make sure the manifest of a published file lists it (idempotent): the file's own
    run wrote none (it was killed), or wrote one before its file was published."""
    file_id = published_id(published)
    path = manifest_path(spider_dir, file_id)
    report = RunReport.read(path) if path.exists() else None
    relative = str(published.relative_to(spider_dir.parent))
    if report is not None and any(f.get("path") == relative for f in report.files):
        return
    if report is None:
        match = FILE_ID.fullmatch(file_id)
        report = RunReport(
            run_id=match["run"] if match else file_id,
            spider=spider_dir.name,
            started_at="",
            worker=match["worker"] if match else None,
            finished_at=utc_now().isoformat(),
            reason="the run was interrupted; the stories it had written were published",
        )
    report.files.append(describe_file(published, spider_dir.parent))
    report.published_by = published_by
    report.write(path)


def publish_listed(
    spider_dir: Path, file_id: str, compress: bool, write_manifest: Callable[[Path], None]
) -> Path:
    """Publish a run file and have its manifest list it, as one step a kill cannot split
    (see ``publishing``)."""
    with publishing(spider_dir, file_id):
        partial, final = partial_path(spider_dir, file_id), final_path(spider_dir, file_id)
        final = publish(partial, final, compress)
        write_manifest(final)
    return final


@contextmanager
def publishing(spider_dir: Path, file_id: str) -> Iterator[None]:
    """A marker in ``.partial/`` while a run file is published or its manifest written:
    ``sweep`` finishes what a kill inside interrupted. Left in place by an error too."""
    marker = spider_dir / PARTIAL / f"{file_id}{PUBLISHING}"
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        _fsync_dir(marker.parent)
    except OSError as exc:
        raise output_error(exc, marker) from exc
    yield
    marker.unlink()


def sweep(spider_dir: Path, published_by: str) -> int:
    """Finish the publications a kill interrupted (their markers say which): temporary
    files go, and each published file gets listed in its manifest. How many."""
    finished = 0
    for marker in sorted((spider_dir / PARTIAL).glob(f"*{PUBLISHING}")):
        file_id = marker.name.removesuffix(PUBLISHING)
        if FILE_ID.fullmatch(file_id) is None:
            continue
        final = final_path(spider_dir, file_id)
        for stray in (f".{file_id}.jsonl.gz.tmp", f".{file_id}.manifest.json.tmp"):
            (final.parent / stray).unlink(missing_ok=True)
        for published in (final, final.with_name(final.name + ".gz")):
            if published.exists():
                list_in_manifest(spider_dir, published, published_by)
                logger.warning("Finished the interrupted publication of %s", published)
        # A file still in .partial/ is a killed run's: recovery publishes it.
        marker.unlink()
        finished += 1
    # What else a kill leaves: a run file that never took its name, a recovery's cut
    # never renamed over its file, a quarantine file written aside, a probe.
    strays = [
        *(spider_dir / PARTIAL).glob(".*.jsonl.opening"),
        *(spider_dir / PARTIAL).glob(".*.jsonl.recovering"),
        *(spider_dir / QUARANTINE).glob(".*.tmp"),
        *spider_dir.glob(".probe-*"),
        *(spider_dir / PARTIAL).glob(".probe-*"),
    ]
    for left in strays:
        if _unlocked(left):
            left.unlink(missing_ok=True)
            logger.warning("Removed %s, left by an interrupted run", left)
    return finished


def _unlocked(path: Path) -> bool:
    """Does no live process hold ``path`` (with flock)?"""
    try:
        with path.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return False
    return True


# Recovery


@dataclass
class Recovered:
    """A killed run's file, published: where, how many stories, how many quarantined."""

    path: Path
    stories: int
    quarantined: int = 0


def story_state_of(record: dict[str, Any]) -> StoryState:
    return StoryState(
        key=str(record["key"]),
        fingerprint=str(record["fingerprint"]),
        version=int(record["version"]),
        first_seen=str(record["first_seen"]),
        last_seen=str(record["last_seen"]),
    )


def recover_partials(
    spider_dir: Path,
    store: SeenStore,
    compress: bool,
    *,
    recovered_by: str,
    skip_run: str | None = None,
    only_files: set[str] | None = None,
    run: DistributedRun | None = None,
) -> list[Recovered]:
    """Publish the run files killed runs (or workers) left in ``.partial/``, each with a
    manifest; see the module docstring. Idempotent."""
    recovered = []
    for path in sorted((spider_dir / PARTIAL).glob("*.jsonl")):
        match = FILE_ID.fullmatch(path.stem)
        if match is None:
            logger.warning("Left alone %s: not a run file of newscrawl's", path)
            continue
        if match["run"] == skip_run or (only_files is not None and path.stem not in only_files):
            continue
        try:
            held = path.open("r+b")
        except FileNotFoundError:  # published by another recovery meanwhile
            continue
        with held:
            try:  # held for the whole recovery: two recoveries never take the same file
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("Left alone %s: a run still writes it", path)
                continue
            if not path.exists():
                continue
            stories, quarantined, rewritten = _recover_file(
                spider_dir, path, store, run, match["worker"]
            )
            if not stories:  # nothing of it to publish (its bad lines are in quarantine)
                path.unlink()
                if rewritten is not None:
                    rewritten.close()
                logger.warning("Removed %s, left by an interrupted run with no story", path)
                continue
            try:
                final = publish_listed(
                    spider_dir,
                    path.stem,
                    compress,
                    lambda published: list_in_manifest(spider_dir, published, recovered_by),
                )
            finally:
                if rewritten is not None:
                    rewritten.close()
        logger.warning(
            "Recovered %d stories left by an interrupted run: published %s%s",
            stories,
            final,
            f" ({quarantined} lines quarantined)" if quarantined else "",
        )
        recovered.append(Recovered(final, stories, quarantined))
    return recovered


def _recover_file(
    spider_dir: Path, path: Path, store: SeenStore, run: DistributedRun | None, writer: str | None
) -> tuple[int, int, IO[bytes] | None]:
    """Cut a killed writer's file down to the records that are its to publish, quarantine
    the lines that cannot be published, and record the cut file as committed, whole.
    Returns (stories kept, lines quarantined, the locked handle of the rewritten file)."""
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    committed = store.committed_bytes([path.stem]).get(path.stem)
    kept: list[bytes] = []
    records: list[dict[str, Any]] = []
    bad: list[bytes] = []
    offset = 0
    for line in whole.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        fault: tuple[str, list[str]] | None
        try:
            record: Any = json.loads(line)
        except ValueError:
            record, fault = line.decode("utf-8", "replace"), ("malformed", ["not JSON"])
        else:
            if isinstance(record, dict) and (newer := upgraded(record)) is not record:
                record = newer  # written by an older newscrawl
                line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            fault = record_faults(record)
        if fault is not None:
            bad.append(_quarantine_line(record, *fault))
            continue
        if committed is not None and start >= committed and _taken(record, store, run, writer):
            continue
        kept.append(line)
        records.append(record)
    if bad:  # the whole set each time: a second recovery after a kill writes the same
        write_atomically(spider_dir / QUARANTINE / f"{path.stem}.recovered.jsonl", b"".join(bad))
    cut = b"".join(kept)
    rewritten = None
    if cut != data:
        # Written aside, then renamed over it: a kill here leaves the old file or the new.
        temporary = path.with_name(f".{path.name}.recovering")
        rewritten = temporary.open("wb")
        fcntl.flock(rewritten, fcntl.LOCK_EX)  # locked before it takes the file's name
        rewritten.write(cut)
        rewritten.flush()
        os.fsync(rewritten.fileno())
        os.replace(temporary, path)
    crash_point("recover.cut")
    # The whole cut file is committed now: a recovery killed after this and run again
    # keeps every line of it, whatever the store has learnt meanwhile.
    batch = Commit(files={path.stem: len(cut)})
    known = store.stories([r["key"] for r in records])
    for record in records:
        state = story_state_of(record)
        if known.get(state.key) is None or known[state.key].version < state.version:
            batch.stories.append(state)
            known[state.key] = state
        batch.fingerprints[state.fingerprint] = state.key
    store.commit(batch)
    crash_point("recover.stored")
    return len(records), len(bad), rewritten


def _quarantine_line(record: Any, reason: str, errors: list[str]) -> bytes:
    line = {
        "reason": reason,
        "errors": errors,
        "quarantined_at": utc_now().isoformat(timespec="seconds"),
        "record": record,
    }
    return (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _taken(
    record: dict[str, Any], store: SeenStore, run: DistributedRun | None, writer: str | None
) -> bool:
    """Has another writer than the file's (``writer``) written, or is one writing, this
    story since?"""
    print_ = str(record["fingerprint"])
    if store.owners([print_]):
        return True
    if run is None:
        return False
    holder = run.claim_holder(print_, str(record["key"]))
    return holder is not None and holder[0] != writer


# The seen store against the published files


class StoreBehind(Exception):
    """The seen store does not know stories the published files hold."""


def _last_records(path: Path, count: int) -> list[dict[str, Any]]:
    if path.suffix == ".gz":
        data = gzip.decompress(path.read_bytes())
    else:  # its tail is enough: a run file can be large
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 1024 * 1024))
            data = handle.read()
    found = []
    for line in reversed(data.splitlines()):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("fingerprint"), str):
            found.append(record)
            if len(found) >= count:
                break
    return found


def check_store(spider_dir: Path, store: SeenStore, describe: str) -> None:
    """Raise StoreBehind when the newest published file's last stories are unknown to
    the store: it was emptied, truncated or restored from an old copy, and a crawl with
    it would publish every story again."""
    for published in reversed(published_files(spider_dir)):
        records = _last_records(published, 3)
        if not records:
            continue
        known = store.owners([str(r["fingerprint"]) for r in records])
        if len(known) < len(records):
            raise StoreBehind(
                f"the seen store {describe} does not know the stories of the published file "
                f"{published}: it is empty or behind the published output, and a crawl would "
                f"publish them again. Rebuild it from the published files with "
                f"`newscrawl seen rebuild {spider_dir.name}`"
            )
        return


def iter_published(spider_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every record of the published files, oldest file first."""
    for published in published_files(spider_dir):
        opener = gzip.open if published.suffix == ".gz" else open
        with opener(published, "rt", encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield published, record


def output_ready(spider_dir: Path) -> None:
    """Raise OutputError unless the spider's output folder can be written: checked
    before a crawl, so a read-only or full disk fails the run at once, not page by page."""
    for folder in (spider_dir, spider_dir / PARTIAL):
        probe = folder / f".probe-{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with probe.open("wb") as handle:
                handle.write(b"\n" * 4096)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise output_error(exc, folder) from exc
        finally:
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
