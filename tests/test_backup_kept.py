"""Kept versions stay kept: the live month file is a copy of its archived version, so a tool
that rewrites <dataset>/month=M/data.parquet in place leaves the kept version (and its
checksum) as it was; `check` names the live file and `check --repair` copies it again."""

from __future__ import annotations

import hashlib
import os
import stat

from tests.conftest import tsunagu_cli
from tests.test_store import TWO
from tsunagu.ingest.pipeline import ingest
from tsunagu.store import integrity


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rewriting_the_live_file_in_place_leaves_the_kept_version_intact(store):
    assert ingest(TWO, "places", "2024-07", store).ok
    entry = store.current("places", "2024-07")
    kept, live = store.root / entry["file"], store.live_path("places", "2024-07")
    sidecar = kept.with_suffix(".json")
    assert sha(kept) == entry["sha256"] == store.version_meta("places", "2024-07", entry["version"])["sha256"]
    # every archived file is read-only: the version, its record and the month's parts list
    for path in (kept, sidecar, store.root / entry["parts_file"]):
        assert stat.S_IMODE(path.stat().st_mode) == 0o444, path
    before = live.read_bytes()

    with open(live, "r+b") as f:  # a tool editing the Parquet file where it lies
        f.seek(len(before) // 2)
        f.write(b"\x00" * 16)

    assert live.read_bytes() != before
    assert sha(kept) == entry["sha256"]  # the kept version is byte for byte as committed
    assert store.read_month("places", "2024-07").height == 2  # the dashboard reads the archive

    proc = tsunagu_cli("check", "--data-dir", store.root)
    assert proc.returncode == 1
    assert "places/month=2024-07/data.parquet" in proc.stderr
    assert "公開用のファイルが有効な版と違います" in proc.stderr

    proc = tsunagu_cli("check", "--repair", "--data-dir", store.root)
    assert proc.returncode == 0, proc.stderr
    assert f"places 2024-07: 公開用のファイルを版 {entry['version']} から作り直しました。" in proc.stdout
    assert live.read_bytes() == before and sha(kept) == entry["sha256"]
    assert not os.path.samefile(kept, live)
    assert integrity.find_damaged(store) == []


def test_a_live_file_hard_linked_to_its_version_is_found_and_copied(store):
    """A data folder written before live files were copies: `check` says the live file and
    the kept version are one file; --repair gives the live month a file of its own."""
    assert ingest(TWO, "places", "2024-07", store).ok
    entry = store.current("places", "2024-07")
    kept, live = store.root / entry["file"], store.live_path("places", "2024-07")
    live.unlink()
    os.link(kept, live)  # as the store left it before
    [problem] = integrity.find_damaged(store)
    assert problem.file == "places/month=2024-07/data.parquet"
    assert "ハードリンク" in problem.reason and "保管した版まで変わります" in problem.reason
    [done] = integrity.restore_last_intact(store, user="admin")
    assert "公開用のファイルを版" in done
    assert not os.path.samefile(kept, live) and live.read_bytes() == kept.read_bytes()
    assert integrity.find_damaged(store) == []


def test_no_temporary_file_is_left_beside_the_live_months(store):
    """The copy is written beside the live file under a name no *.parquet glob matches, and
    nothing of it is left once it is in place."""
    for month in ("2024-07", "2024-08"):
        assert ingest(TWO, "places", month, store).ok
    assert ingest(TWO, "places", "2024-07", store).ok  # replaced once
    names = sorted(str(p.relative_to(store.root)) for p in (store.root / "places").rglob("*") if p.is_file())
    assert names == ["places/month=2024-07/data.parquet", "places/month=2024-08/data.parquet"]
