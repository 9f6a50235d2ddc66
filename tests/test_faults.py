"""Faults, with real processes: kill -9 at every file-system step of an upload, a full disk,
damaged files in the store, and many uploads at once. After each, a month is whole (the old
version or the new one), the audit log tells what happened, and nothing is lost.

The child process traces every write, fsync, rename and link an upload makes and is killed
before each one in turn, plus in the middle of the Parquet write and of the audit line."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, tree_digest, tsunagu_cli
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store import integrity
from tsunagu.store.versions import Store

TWO = places_csv().encode()
ONE = places_csv(PLACES_ROWS[:1]).encode()

# The child: patch the file-system calls an upload makes, count them, and SIGKILL itself
# before call number N (or in the middle of the Parquet file / the audit line).
CHILD = r"""
import json, os, signal, sys
from pathlib import Path
from tsunagu.store import versions as st
from tsunagu.ingest.pipeline import ingest

root, mode, n, source = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ops = []

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def where(path):
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return p.name

def step(label):
    ops.append(label)
    if mode == "kill" and len(ops) == n:
        die()

def traced(name, real, describe):
    def f(*a, **k):
        step(f"{name} {describe(*a)}")
        return real(*a, **k)
    return f

os.replace = traced("rename", os.replace, lambda src, dst: where(dst))
os.link = traced("link", os.link, lambda src, dst: where(dst))
os.fsync = traced("fsync", os.fsync, lambda fd: where(os.readlink(f"/proc/self/fd/{fd}")))
real_commit, real_write, real_audit = st.Store.commit, st.write_parquet, st.Store.audit

def commit(self, *a, **k):
    step("commit starts")
    return real_commit(self, *a, **k)

def write_parquet(frame, path):
    step("parquet write")
    real_write(frame, path)
    if mode == "torn-parquet":  # as if the power went while the file was half written
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
        die()

def audit(self, record):
    step("audit " + record.get("outcome", ""))
    if mode == "torn-audit" and record.get("outcome") == "committed":
        line = json.dumps(record, ensure_ascii=False).encode()
        with open(self.audit_path, "ab") as f:
            f.write(line[: len(line) // 2])
        die()
    return real_audit(self, record)

st.Store.commit, st.write_parquet, st.Store.audit = commit, write_parquet, audit
result = ingest(open(source, "rb").read(), "places", "2024-07", st.Store(root), file_name="7月_再.csv")
print(json.dumps({"ok": result.ok, "ops": ops}, ensure_ascii=False))
"""


def make_base(root: Path) -> Path:
    """A store with areas and July (2 places)."""
    from tests.conftest import AREAS_CSV

    store = Store(root)
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", store).ok
    assert ingest(TWO, "places", "2024-07", store, file_name="7月.csv").ok
    return root


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Every fault starts from a copy of this store."""
    return make_base(tmp_path_factory.mktemp("fault-base") / "data")


def copy_store(base: Path, dest: Path) -> Store:
    shutil.copytree(base, dest)
    return Store(dest)


# Each child is forked from one process that has imported the upload's code already (a new
# interpreter per kill point spent ~1 s importing, most of this module's time); the child is
# a process of its own all the same, killed with SIGKILL, its store left as the kill left it.
ZYGOTE = r"""
import json, os, sys, traceback
import tsunagu.ingest.pipeline, tsunagu.store.versions  # what every child runs
child = sys.argv[1]
for line in sys.stdin:
    args, out, err = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            fd_out, fd_err = os.open(out, os.O_WRONLY | os.O_CREAT), os.open(err, os.O_WRONLY | os.O_CREAT)
            os.dup2(fd_out, 1)
            os.dup2(fd_err, 2)
            sys.stdout = os.fdopen(1, "w")
            sys.stderr = os.fdopen(2, "w")
            sys.argv = ["-c", *args]
            exec(compile(child, "<child>", "exec"), {"__name__": "__main__"})
            sys.stdout.flush()
            os._exit(0)
        except SystemExit as e:
            sys.stdout.flush()
            os._exit(e.code if isinstance(e.code, int) else 1)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    print(json.dumps(os.waitstatus_to_exitcode(status)), flush=True)
"""
_zygote: subprocess.Popen | None = None


@pytest.fixture(scope="module", autouse=True)
def _end_zygote():
    yield
    if _zygote is not None and _zygote.poll() is None:
        _zygote.stdin.close()  # its loop ends with its input
        _zygote.wait(timeout=30)


def run_child(root: Path, mode: str, n: int, source: Path) -> subprocess.CompletedProcess:
    global _zygote
    if _zygote is None or _zygote.poll() is not None:
        _zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, CHILD],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    out, err = Path(f"{root}.out"), Path(f"{root}.err")
    _zygote.stdin.write(json.dumps([[str(root), mode, str(n), str(source)], str(out), str(err)]) + "\n")
    _zygote.stdin.flush()
    code = json.loads(_zygote.stdout.readline())
    args = ["child", str(root), mode, str(n), str(source)]
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def glob_rows(root: Path, month: str) -> int:
    return duckdb.sql(
        f"select count(*) from read_parquet('{root}/places/*/*.parquet', hive_partitioning = true)"
        f" where month = '{month}'"
    ).fetchall()[0][0]


def month_rows_through_app(store: Store, month: str) -> int:
    frame = Database(store).query("places_list", municipality="倉敷市", month=month)
    return frame.height


def assert_whole_and_consistent(store: Store, allowed: set[int], label: str) -> int:
    """One whole version of July, whichever path reads it; after the next writer's repair,
    the audit log names the live version and nothing is left half done."""
    assert month_rows_through_app(store, "2024-07") in allowed, label  # the app reads the manifest
    # any Parquet tool over <dataset>/*/*.parquet sees a whole version too (until the repair
    # below re-links it, the old one, if the kill came between the commit and the link)
    assert glob_rows(store.root, "2024-07") in (1, 2), label
    # the next upload (another month) repairs what the crash left
    assert ingest(ONE, "places", "2024-08", store, file_name="8月.csv").ok, label
    live = store.current("places", "2024-07")
    rows = store.read_month("places", "2024-07").height
    assert rows in allowed and glob_rows(store.root, "2024-07") == rows, label
    assert integrity.find_damaged(store) == [], label  # checksums, readability, live files
    history = store.history("places")
    committed = {r["version"] for r in history if r["outcome"].startswith("committed")}
    assert live["version"] in committed, (label, history)
    interrupted = {r["version"] for r in history if r["outcome"] == "interrupted"}
    assert live["version"] not in interrupted, label
    for version in committed:  # a version the log calls committed is kept, with its sidecar
        assert list(store.root.glob(f"_archive/places/*/{version}.json")), (label, version)
    assert not list((store.root / "_pending").glob("*")), label
    assert not list(store.staging.glob("*")), label
    assert not [p for p in (store.root / "places").rglob("*") if p.name.startswith(".")], label
    return rows


def story_of_a_killed_upload(done: list[str]) -> list[str]:
    """What the audit log says, once the next writer has repaired, of an upload killed after
    the steps `done`: nothing before its commit marker exists, "interrupted" before the
    manifest switch, "committed (recovered)" after it until its own line is written."""
    if "rename _manifest.json" in done:
        return ["committed"] if "audit committed" in done else ["committed (recovered)"]
    if any(op.startswith("rename _pending/") for op in done):
        return ["interrupted"]
    return []


def upload_steps(base: Path, tmp_path: Path) -> tuple[list[str], Path]:
    """The file-system steps of re-uploading July (1 place) over a copy of `base`, in order,
    and the file uploaded (docs/reliability.md counts the steps from here too)."""
    source = tmp_path / "new.csv"
    source.write_bytes(ONE)
    trace = run_child(copy_store(base, tmp_path / "trace").root, "trace", 0, source)
    assert trace.returncode == 0, trace.stderr
    return json.loads(trace.stdout.splitlines()[-1])["ops"], source


def test_kill_9_at_every_file_system_step_of_an_upload(base, tmp_path):
    """Power cut at any moment of a re-upload: July stays whole (2 rows or 1), the audit
    log names the live version, and nothing is left half done."""
    ops, source = upload_steps(base, tmp_path)
    # the commit point: once the manifest is renamed into place, the new version is live
    commit_point = ops.index("rename _manifest.json")
    assert ops[0] == "commit starts", ops
    outcomes = []
    for n, op in enumerate(ops, start=1):
        store = copy_store(base, tmp_path / f"kill-{n}")
        proc = run_child(store.root, "kill", n, source)
        assert proc.returncode == -signal.SIGKILL, (op, proc.stderr)
        expect = {1} if n > commit_point + 1 else {2}
        rows = assert_whole_and_consistent(store, expect, f"killed before {op}")
        # July's first upload, the killed one as the log tells it, the repairing August
        outcomes_logged = [r["outcome"] for r in store.history("places")]
        assert outcomes_logged == ["committed", *story_of_a_killed_upload(ops[: n - 1]), "committed"], op
        outcomes.append((op, rows))
    print(f"\n{len(ops)} kill points survived:", *(f"{op} -> {rows}" for op, rows in outcomes), sep="\n  ")


@pytest.mark.parametrize("mode", ["torn-parquet", "torn-audit"])
def test_kill_9_in_the_middle_of_a_write(base, tmp_path, mode):
    """Killed with the Parquet file half written (old July stays) or with the audit line
    half written (new July is live, and the log still records it on a line of its own)."""
    source = tmp_path / "new.csv"
    source.write_bytes(ONE)
    store = copy_store(base, tmp_path / "store")
    proc = run_child(store.root, mode, 0, source)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    expect = {2} if mode == "torn-parquet" else {1}
    assert_whole_and_consistent(store, expect, mode)
    if mode == "torn-audit":
        lines = store.audit_path.read_text(encoding="utf-8").splitlines()
        torn = [line for line in lines if not line.startswith("{") or not line.endswith("}")]
        assert len(torn) == 1  # the half line stays (nothing is rewritten), alone on its line
        assert [r["outcome"] for r in store.history("places")][-2:] == ["committed (recovered)", "committed"]


# a full disk: a real ENOSPC from a small tmpfs when we may mount one (root), and always a
# real EFBIG from a file-size limit (RLIMIT_FSIZE), which needs no privileges

LIMITED = r"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of dying
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from tsunagu.cli import main
sys.exit(main(sys.argv[1:]))
"""


def big_places(n: int = 20_000) -> bytes:
    import random

    rnd = random.Random(7)
    rows = [
        f"TM-{i:05d},サロン{rnd.getrandbits(160):040x},倉敷市,玉島,玉島小,サロン,はい,活動中,,,,,"
        for i in range(n)
    ]
    return places_csv(rows).encode()


def data_digest(root: Path) -> dict[str, str]:
    """Everything a reader or a later restore relies on: live files, the manifest and every
    kept version (files only; an empty folder left by the attempt holds nothing)."""
    return {
        k: v
        for k, v in tree_digest(root, skip=("_audit", "_lock", "_pending", "_staging")).items()
        if v != "dir"
    }


def assert_refused_cleanly(proc, store: Store, before: dict, reason: str):
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr.replace("[エラー]", "")
    assert "保存中に問題が起きたため登録を中止しました" in proc.stderr
    assert reason in proc.stderr
    assert "前のデータはそのまま残っています" in proc.stderr
    assert data_digest(store.root) == before
    assert store.read_month("places", "2024-07").height == 2
    assert glob_rows(store.root, "2024-07") == 2


@pytest.fixture
def tmpfs(tmp_path):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip(
            "a tmpfs needs root; the same fault is tested with RLIMIT_FSIZE "
            "(test_file_size_limit_refuses_cleanly)"
        )
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"tmpfs could not be mounted here ({mounted.stderr.strip()}); RLIMIT_FSIZE test covers the fault"
        )
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.parametrize("free_kb", [400, 0], ids=["nearly-full", "full"])
def test_full_disk_refuses_cleanly_and_keeps_the_data(base, tmp_path, tmpfs, free_kb):
    """The server's disk fills up during an upload: a Japanese message, no traceback, the
    previous data byte-identical; once space is freed, the next upload works and the log
    tells the story."""
    store = copy_store(base, tmpfs / "data")
    source = tmp_path / "big.csv"
    source.write_bytes(big_places())
    filler = tmpfs / "filler"
    with open(filler, "wb", buffering=0) as f:  # fill until only free_kb is left
        f.write(b"\0" * max(shutil.disk_usage(tmpfs).free - free_kb * 1024, 0))
        try:
            while free_kb == 0:
                f.write(b"\0" * 4096)
        except OSError:  # ENOSPC: the disk is full to the last block
            pass
    before = data_digest(store.root)
    proc = tsunagu_cli(
        "ingest", "--dataset", "places", "--month", "2024-07", "--data-dir", str(store.root), str(source)
    )
    assert_refused_cleanly(proc, store, before, "ディスクの空きが足りません")
    filler.unlink()
    assert ingest(ONE, "places", "2024-08", store).ok
    outcomes = [r["outcome"] for r in store.history("places")]
    assert outcomes[-1] == "committed" and "committed" not in outcomes[1:-1]
    assert integrity.find_damaged(store) == []


def test_file_size_limit_refuses_cleanly(base, tmp_path):
    """The same fault without root: a file-size limit makes the Parquet write fail (EFBIG),
    exactly where a full disk would."""
    store = copy_store(base, tmp_path / "data")
    source = tmp_path / "big.csv"
    source.write_bytes(big_places())
    before = data_digest(store.root)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            LIMITED,
            str(256 * 1024),
            "ingest",
            "--dataset",
            "places",
            "--month",
            "2024-07",
            "--data-dir",
            str(store.root),
            str(source),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_refused_cleanly(
        proc, store, before, "ファイルが大きすぎます（ファイルの大きさの上限を超えました）"
    )
    assert [r["outcome"] for r in store.history("places")][-1] == "failed"
    assert ingest(ONE, "places", "2024-08", store).ok
    assert [r["outcome"] for r in store.history("places")][-2:] == ["interrupted", "committed"]


def test_an_error_at_the_commit_point_refuses_cleanly(base, monkeypatch, tmp_path):
    """The disk fails in the manifest switch itself (the commit point), after the new Parquet
    file is written: the same Japanese refusal, July as it was (the new file is kept in the
    archive but never live), and the next writer records the attempt as interrupted."""
    store = copy_store(base, tmp_path / "data")
    before = data_digest(store.root)

    def disk_full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Store, "_write_manifest", disk_full)
    result = ingest(ONE, "places", "2024-07", store)
    monkeypatch.undo()
    assert not result.ok
    [error] = result.errors
    assert error.message.startswith(
        "保存中に問題が起きたため登録を中止しました（ディスクの空きが足りません）"
    )
    assert "前のデータはそのまま残っています" in error.message
    after = data_digest(store.root)
    assert {k: after.get(k) for k in before} == before
    # the new version (and the list of July's parts that would have named it), kept, never live
    orphans = sorted(set(after) - set(before))
    assert [o.rsplit("/", 2)[-2:][0] for o in orphans] == ["_parts", "month=2024-07"], orphans
    assert orphans[1].startswith("_archive/places/month=2024-07/v") and orphans[1].endswith(".parquet")
    assert store.read_month("places", "2024-07").height == 2
    assert glob_rows(store.root, "2024-07") == 2
    assert ingest(ONE, "places", "2024-08", store).ok  # the next writer carries on
    assert [r["outcome"] for r in store.history("places")] == [
        "committed",
        "failed",
        "interrupted",
        "committed",
    ]
    assert integrity.find_damaged(store) == []


@pytest.mark.parametrize("step", ["_publish", "audit"])
def test_an_error_after_the_commit_point_says_the_month_is_stored(base, monkeypatch, tmp_path, step):
    """The disk fails after the manifest names the new version (making the live link, or
    writing the audit line): the new month is what everyone sees, so the user is told it is
    stored, with a warning, never that the old data stayed; the next writer finishes it."""
    store = copy_store(base, tmp_path / "data")

    def disk_full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Store, step, disk_full)
    result = ingest(ONE, "places", "2024-07", store)
    monkeypatch.undo()
    assert result.ok and not result.errors
    [warning] = [w for w in result.warnings if "後片付け" in w.message]
    assert warning.message.startswith("登録しました（この月は新しいデータで表示されます）")
    assert "（ディスクの空きが足りません）" in warning.message
    assert "前のデータはそのまま" not in warning.message
    assert store.read_month("places", "2024-07").height == 1  # the dashboard reads the new month
    assert ingest(ONE, "places", "2024-08", store).ok  # the next writer finishes the first
    assert glob_rows(store.root, "2024-07") == 1
    assert [(r["month"], r["outcome"]) for r in store.history("places")] == [
        ("2024-07", "committed"),
        ("2024-07", "committed (recovered)"),  # recorded by the next writer
        ("2024-08", "committed"),
    ]
    assert integrity.find_damaged(store) == []


# damaged files in the store


def damage(path: Path, how: str) -> None:
    path.chmod(0o644)  # archived versions are read-only: the disk, not a user, damages them here
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbled":
        middle = len(data) // 3
        path.write_bytes(
            data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]
        )
    elif how == "ids":
        # a few bytes changed where Parquet still reads them: other IDs, and no error at all
        # (a random flipped byte may also abort the reader's process, so it is not used here)
        half = len(data) // 2
        path.write_bytes(data[:half].replace(b"TM-0", b"TX-0") + data[half:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "missing":
        path.unlink()


@pytest.fixture
def three_months(base, tmp_path) -> Store:
    """July uploaded twice (so an intact earlier version exists), August and September."""
    store = copy_store(base, tmp_path / "data")
    assert ingest(ONE, "places", "2024-07", store, file_name="7月_修正.csv").ok
    assert ingest(TWO, "places", "2024-08", store).ok
    assert ingest(TWO, "places", "2024-09", store).ok
    return store


def assert_ids_changed_yet_readable(path: Path) -> None:
    """The point of the checksum: this damage passes any reader (shown with Polars and
    DuckDB), so only the checksum can tell."""
    import polars as pl

    assert pl.read_parquet(path)["place_id"].to_list()[0].startswith("TX-")
    assert duckdb.sql(f"select place_id from '{path}'").fetchall()[0][0].startswith("TX-")


@pytest.mark.parametrize("how", ["truncated", "garbled", "ids", "empty", "missing"])
def test_damaged_month_is_named_and_the_other_months_still_served(three_months, how):
    """A July file damaged on disk: the dashboard serves August and September and names
    July's file in Japanese; uploads of other months go on."""
    store = three_months
    july = store.root / store.current("places", "2024-07")["file"]
    damage(july, how)
    if how == "ids":
        assert_ids_changed_yet_readable(july)
    db = Database(store)
    aug = db.query("places_list", municipality="倉敷市", month="2024-08")
    assert aug.height == 2
    assert db.query("months")["month"].to_list() == ["2024-09", "2024-08"]  # July left out
    [problem] = db.problems
    text = str(problem)
    assert "「居場所・通いの場」2024-07" in text and july.relative_to(store.root).as_posix() in text
    assert "壊れているか見つからない" in text and "python -m tsunagu check" in text
    assert ingest(TWO, "places", "2024-10", store).ok  # its previous month (Sept) is intact


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tsunagu", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("how", ["ids", "truncated"])
def test_damaged_previous_month_is_named_and_not_compared(three_months, tmp_path, how):
    """The month before an upload is read only to warn about places that vanished. Damaged
    (even where it still reads, with other IDs), it would give false warnings: the
    comparison is skipped, the file is named with what to do, and the upload itself goes
    through (it replaces nothing of that month); the audit log records the skip."""
    store = three_months
    sept = store.current("places", "2024-09")["file"]
    damage(store.root / sept, how)
    if how == "ids":
        assert_ids_changed_yet_readable(store.root / sept)
    source = tmp_path / "10月.csv"
    source.write_bytes(TWO)
    proc = run_cli("ingest", "--dataset", "places", "--month", "2024-10", "--data-dir", store.root, source)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith(
        f"[保存データの破損] 保存されている「居場所・通いの場」2024-09 のファイル（{sept}）が壊れている"
    )
    assert "python -m tsunagu check --repair" in line
    assert "2024年9月（令和6年9月）との比較（なくなった通いの場の確認）はしていません" in line
    assert "[注意]" not in proc.stdout  # before the checksum: a false line per garbled ID
    assert (
        proc.stdout.startswith("登録しました: 居場所・通いの場 2024年10月")
        and "壊れた保存データ 1件" in proc.stdout
    )
    assert store.read_month("places", "2024-10").height == 2
    assert store.history("places")[-1]["damaged_skipped"] == 1


def test_damaged_previous_month_is_named_on_a_refusal_too(three_months):
    """A file refused for its own errors still hears about last month's damaged file (the
    upload page shows both), and nothing is written."""
    store = three_months
    damage(store.root / store.current("places", "2024-09")["file"], "ids")
    result = ingest(
        places_csv([PLACES_ROWS[0].replace("玉島,", "玉嶋,")]).encode(), "places", "2024-10", store
    )
    assert not result.ok and [e.column for e in result.errors] == ["地区"]
    [notice] = result.damaged
    assert "「居場所・通いの場」2024-09" in notice.message and str(notice).startswith("[保存データの破損] ")
    assert store.current("places", "2024-10") is None


def test_an_upload_that_replaces_the_damaged_month_is_the_repair(three_months, tmp_path):
    """Uploading the damaged month again is allowed (it needs nothing from the damaged
    file) and leaves the store whole; the damaged version stays in the archive."""
    store = three_months
    sept = store.current("places", "2024-09")["file"]
    damage(store.root / sept, "ids")
    source = tmp_path / "9月.csv"
    source.write_bytes(TWO)
    proc = run_cli("ingest", "--dataset", "places", "--month", "2024-09", "--data-dir", store.root, source)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # August is intact
    assert integrity.find_damaged(store) == [] and (store.root / sept).exists()
    assert Database(store).query("months")["month"].to_list()[0] == "2024-09"


def test_damaged_areas_refuse_the_upload_with_the_file_named(three_months, tmp_path):
    """The areas table validates every row: a changed byte in it refuses the upload
    (nothing written), naming the file, rather than judging districts by garbled names."""
    store = three_months
    areas = store.current("areas", "2024-04")["file"]
    path = store.root / areas
    data = path.read_bytes()
    path.chmod(0o644)  # (read-only when archived)
    path.write_bytes(data.replace("玉島".encode(), "王島".encode(), 1))
    source = tmp_path / "10月.csv"
    source.write_bytes(TWO)
    before = data_digest(store.root)
    proc = run_cli("ingest", "--dataset", "places", "--month", "2024-10", "--data-dir", store.root, source)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"「圏域マスタ」2024-04 のファイル（{areas}）が壊れている" in proc.stderr
    assert "チェックサム（SHA-256）が違います" in proc.stderr
    assert data_digest(store.root) == before


def test_query_over_a_damaged_month_names_it_and_fails(three_months):
    """`query` leaves the damaged month out of its CSV and says so: the month, the file,
    what to do, and a non-zero exit status (a script must not take it as complete)."""
    store = three_months
    july = store.current("places", "2024-07")["file"]
    damage(store.root / july, "ids")
    proc = run_cli("query", "months", "--data-dir", store.root)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert [line.split(",")[0] for line in proc.stdout.splitlines()[1:]] == ["2024-09", "2024-08"]
    assert f"[壊れています] 保存されている「居場所・通いの場」2024-07 のファイル（{july}）" in proc.stderr
    assert "壊れている1か月分を除いた結果です。" in proc.stderr


def test_handout_over_a_damaged_month_names_it_on_paper_and_on_the_console(three_months, tmp_path):
    """A handout made while a month is damaged says, on the paper itself, which month was
    left out and which file; the command names it too and exits non-zero."""
    import pypdfium2

    store = three_months
    july = store.current("places", "2024-07")["file"]
    damage(store.root / july, "ids")
    out = tmp_path / "pdf"
    proc = run_cli(
        "handout",
        "--municipality",
        "倉敷市",
        "--month",
        "2024-08",
        "--kind",
        "places",
        "--out",
        out,
        "--data-dir",
        store.root,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"「居場所・通いの場」2024-07 のファイル（{july}）" in proc.stderr
    [pdf] = out.glob("*.pdf")
    doc = pypdfium2.PdfDocument(str(pdf))
    text = "".join(page.get_textpage().get_text_range() for page in doc).replace("\r\n", "")
    assert "保存データの一部が壊れているため、次の月を除いて作成しました" in text
    assert "居場所・通いの場 2024-07" in text and july in text


def test_checksums_are_hashed_once_per_file_not_per_read(three_months, monkeypatch):
    """Verified when a file is (re)loaded, cached by the file's identity: reading a month
    twice hashes it once; rewriting it (even to the same size) hashes it again."""
    from tsunagu.store import versions as store_module

    store = three_months
    hashed = []
    real = store_module.file_sha256
    monkeypatch.setattr(store_module, "file_sha256", lambda p: hashed.append(p) or real(p))
    path = store.root / store.current("places", "2024-08")["file"]
    store.read_month("places", "2024-08")
    store.read_month("places", "2024-08")
    assert hashed.count(path) <= 1  # (0 if this process verified it already)
    hashed.clear()
    damage(path, "ids")  # same size, new bytes
    with pytest.raises(store_module.StoreError, match="チェックサム"):
        store.read_month("places", "2024-08")
    assert hashed == [path]


def test_check_names_damage_and_repair_puts_back_the_last_intact_version(three_months):
    """`python -m tsunagu check` finds the damaged month; `--repair` makes July's earlier
    intact version live again (recorded, nothing deleted); August has none and is
    reported for re-upload."""
    store = three_months
    damage(store.root / store.current("places", "2024-07")["file"], "garbled")
    damage(store.root / store.current("places", "2024-08")["file"], "truncated")
    cmd = [sys.executable, "-m", "tsunagu", "check", "--data-dir", str(store.root)]
    found = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert found.returncode == 1 and "Traceback" not in found.stderr
    assert found.stderr.count("[壊れています]") == 2
    assert "「居場所・通いの場」2024-07" in found.stderr and "「居場所・通いの場」2024-08" in found.stderr
    archived = sorted(p.name for p in store.root.rglob("_archive/**/*.parquet"))
    fixed = subprocess.run(
        [*cmd, "--repair", "--user", "kanri"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert fixed.returncode == 1  # August cannot be mended here
    assert "2024-07: 版" in fixed.stdout and "を新しい版" in fixed.stdout
    assert "places 2024-08: 読める前の版がありません。この月のCSVをもう一度登録してください。" in fixed.stdout
    [left] = [line for line in fixed.stderr.splitlines() if line.startswith("[未解決]")]
    assert "「居場所・通いの場」2024-08" in left
    assert store.read_month("places", "2024-07").height == 2  # the first upload's 2 rows
    last = store.history("places")[-1]
    assert (last["action"], last["user"]) == ("repair", "kanri")
    assert set(archived) <= {p.name for p in store.root.rglob("_archive/**/*.parquet")}  # kept
    assert ingest(TWO, "places", "2024-08", store).ok  # re-uploading August mends the rest
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=120).returncode == 0


def test_damaged_month_shows_a_message_on_the_page(three_months, monkeypatch):
    """A manager opens the places page: August shows, and July, whose bytes were changed
    where they still read, is named by its checksum."""
    from streamlit.testing.v1 import AppTest

    from tests.test_app import signed_in

    store = three_months
    damage(store.root / store.current("places", "2024-07")["file"], "ids")  # still reads
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(store.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["m"] = "2024-08"
    signed_in(at, "kacho")
    at.run()
    at.switch_page("pages/places.py").run()
    assert not at.exception
    assert any(
        "一部のデータを読み込めないため" in e.value and "2024\\-07" in e.value and "チェックサム" in e.value
        for e in at.error
    )
    assert {m.label: m.value for m in at.metric}["通いの場（活動中）"] == "1か所"


# many uploads at once

# (month, file) of each coordinator uploading at the same moment
CONCURRENT = [
    ("2024-07", TWO),
    ("2024-07", ONE),
    ("2024-07", TWO),
    ("2024-07", ONE),
    ("2024-08", TWO),
    ("2024-09", ONE),
    ("2024-10", TWO),
    ("2024-11", ONE),
]


def test_many_concurrent_uploads_of_the_same_and_other_months(base, tmp_path):
    """Eight coordinators upload at once, four of them the same month, while the dashboard
    reads: every process succeeds, each month is one whole version, every version is kept
    and logged, and no reader sees an error."""
    store = copy_store(base, tmp_path / "data")
    jobs = CONCURRENT
    db = Database(store)
    errors, reads = [], [0]
    stop = threading.Event()

    def read():
        while not stop.is_set():
            try:
                n = db.query("places_list", municipality="倉敷市", month="2024-07").height
                assert n in (1, 2), n
                reads[0] += 1
            except Exception as e:  # noqa: BLE001 - any error is a failure here
                errors.append(e)
            time.sleep(0.01)

    reader = threading.Thread(target=read)
    reader.start()
    procs = []
    for i, (month, content) in enumerate(jobs):
        path = tmp_path / f"{i}.csv"
        path.write_bytes(content)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tsunagu",
                    "ingest",
                    "--dataset",
                    "places",
                    "--month",
                    month,
                    "--user",
                    f"sc{i}",
                    "--data-dir",
                    str(store.root),
                    str(path),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    codes = [p.wait(timeout=300) for p in procs]
    stop.set()
    reader.join()
    assert codes == [0] * len(jobs), [p.stderr.read().decode() for p in procs]
    assert errors == [] and reads[0] > 0
    july = store.versions("places", "2024-07")
    rows_of = {TWO: 2, ONE: 1}
    # every version kept, the base one and the four uploads, and one of them live
    assert sorted(v["rows"] for v in july) == sorted([2] + [rows_of[c] for m, c in jobs if m == "2024-07"])
    [live] = [v for v in july if v["live"]]
    assert store.read_month("places", "2024-07").height == live["rows"]
    for month in ("2024-07", "2024-08", "2024-09", "2024-10", "2024-11"):
        rows = store.read_month("places", month).height
        assert glob_rows(store.root, month) == rows and rows in (1, 2)
    history = [r for r in store.history("places") if r["outcome"] == "committed"]
    assert sorted(r["user"] for r in history[1:]) == sorted(f"sc{i}" for i in range(len(jobs)))
    assert store.data_version() == 2 + len(jobs)
    assert integrity.find_damaged(store) == []
