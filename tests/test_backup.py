"""Backups that restore: `python -m tsunagu backup` / `restore`.

Backup, wipe, restore into an empty folder: every named query answers as on the original,
every kept version is there and restorable, the audit log and the users file are intact. A
backup killed mid-copy leaves the previous one usable; the next one copies only new files; a
damaged file in a backup stops the restore, named, with nothing half-made."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys

import polars as pl
import pytest

from tests.conftest import ROOT, tsunagu_cli
from tests.test_queries import BASE, QUERIES
from tests.test_store import ONE, TWO
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store import backup as backup_mod
from tsunagu.store import integrity
from tsunagu.store.backup import BackupError, backup, restore
from tsunagu.store.versions import Store


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(dest) -> str:
    return (dest / "latest").read_text().strip()


def test_backup_wipe_restore_gives_every_query_version_and_audit_line_back(demo_dir, demo_db, tmp_path):
    """The demo store (only read: it stays as the reference to compare with) is backed up and
    restored into an empty folder, as onto a new disk after the old one was lost."""
    data, dest = tmp_path / "data", tmp_path / "backup"
    users_file = tmp_path / "users.yaml"
    shutil.copy(os.environ["TSUNAGU_USERS_FILE"], users_file)
    os.chmod(users_file, 0o600)
    audit_before = (demo_dir / "_audit" / "uploads.jsonl").read_text(encoding="utf-8")

    proc = tsunagu_cli("backup", "--to", dest, "--data-dir", demo_dir, "--users-file", users_file)
    assert proc.returncode == 0, proc.stderr
    assert f"バックアップを作りました: {dest / snapshot(dest)}" in proc.stdout
    assert "クッキー鍵は含めていません" in proc.stdout and "偽造" in proc.stdout
    restored_users = tmp_path / "new" / "users.yaml"

    proc = tsunagu_cli("restore", "--from", dest, "--to", data, "--users-file", restored_users)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"復元しました: {data}")
    assert "全員がもう一度サインイン" in proc.stdout
    assert restored_users.read_bytes() == users_file.read_bytes()
    assert stat.S_IMODE(restored_users.stat().st_mode) == 0o600
    assert not restored_users.with_name("users.cookie_key").exists()

    store, original = Store(data), Store(demo_dir)
    assert integrity.find_damaged(store) == []  # every live month, and its live file
    # every named query answers as on the original
    db = Database(store)
    for name in QUERIES:
        assert db.query(name, **BASE[name]).equals(demo_db.query(name, **BASE[name])), name
    # every version kept, with its record and its rows
    versions = 0
    for dataset, months in original.manifest()["datasets"].items():
        for month in months:
            kept = original.versions(dataset, month)
            assert store.versions(dataset, month) == kept
            for meta in kept:
                frame = store._read_parquet(dataset, month, meta["file"], meta["sha256"])  # checksum first
                assert frame.equals(pl.read_parquet(demo_dir / meta["file"]))
                versions += 1
    assert versions == sum(1 for _ in demo_dir.glob("_archive/*/month=*/v*.json"))
    # an earlier version made live again on the restored store (one per dataset with one)
    for dataset in ("places", "pantry", "forums"):
        month = next(m for m in original.months(dataset) if len(original.versions(dataset, m)) > 1)
        first = original.versions(dataset, month)[0]
        store.restore(dataset, month, first["version"], user="kanri")
        munis = [tuple(m) for m in first["municipalities"]]
        now, then = store.read_month(dataset, month, munis), pl.read_parquet(demo_dir / first["file"])
        assert now.sort(now.columns).equals(then.sort(then.columns)), (dataset, month)
    # the audit log: every line as it was, then the restore and the version made live again
    audit = (data / "_audit" / "uploads.jsonl").read_text(encoding="utf-8").splitlines()
    old = audit_before.splitlines()
    assert audit[: len(old)] == old
    restored_line = json.loads(audit[len(old)])
    assert restored_line["action"] == "backup-restore" and restored_line["backup"] == snapshot(dest)


@pytest.fixture
def months(store) -> Store:
    """The small store with places for two months (one of them uploaded twice)."""
    for month, body in (("2024-07", TWO), ("2024-07", ONE), ("2024-08", TWO)):
        assert ingest(body, "places", month, store).ok
    return store


KILLED_MID_COPY = """
import os, signal, sys
from pathlib import Path
from tsunagu.store import backup
from tsunagu.store.versions import Store
real, n = backup.copy_file, 0
def copy_file(*a, **k):
    global n
    n += 1
    if n > int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)  # as if the power went: no clean-up runs
    return real(*a, **k)
backup.copy_file = copy_file
backup.backup(Store(sys.argv[1]), Path(sys.argv[2]))
"""


def test_a_backup_killed_mid_copy_leaves_the_previous_one_usable(months, tmp_path):
    dest = tmp_path / "backup"
    first = backup(months, dest)
    assert ingest(TWO, "places", "2024-09", months).ok
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_MID_COPY, months.root, dest, "2"], cwd=ROOT, capture_output=True
    )
    assert proc.returncode == -9
    assert [p.name for p in dest.glob(".partial-*")]  # the cut-short copy is there, unnamed
    assert snapshot(dest) == first.snapshot.name  # `latest` still names the whole one

    proc = tsunagu_cli("restore", "--from", dest, "--to", tmp_path / "restored")
    assert proc.returncode == 0, proc.stderr
    restored = Store(tmp_path / "restored")
    assert restored.months("places") == ["2024-07", "2024-08"]  # as it was at the first backup
    assert restored.read_month("places", "2024-07").height == 1

    again = backup(months, dest)  # the next backup clears the cut-short one and is whole
    assert not list(dest.glob(".partial-*")) and snapshot(dest) == again.snapshot.name
    restore(dest, tmp_path / "again")
    assert Store(tmp_path / "again").months("places") == ["2024-07", "2024-08", "2024-09"]


def test_an_upload_committed_during_the_backup_is_in_it_whole(months, tmp_path, monkeypatch):
    """The archive is copied without the lock (uploads go on); what was committed meanwhile
    is taken under the lock with the manifest, so the snapshot is one state of the store."""
    real = backup_mod.store_files

    def upload_after_the_first_listing(root, folders=backup_mod.KEPT):
        listed = real(root, folders)
        if folders == ("_archive",):
            assert ingest(TWO, "places", "2024-09", months).ok
            assert ingest(TWO, "places", "2024-08", months).ok  # a month replaced, too
        return listed

    monkeypatch.setattr(backup_mod, "store_files", upload_after_the_first_listing)
    backup(months, tmp_path / "backup")
    restored = restore(tmp_path / "backup", tmp_path / "restored").target
    store = Store(restored)
    assert store.manifest() == months.manifest()
    assert [store.versions("places", m) for m in ("2024-08", "2024-09")] == [
        months.versions("places", m) for m in ("2024-08", "2024-09")
    ]
    assert integrity.find_damaged(store) == []


def test_a_failed_copy_leaves_no_partial_and_the_previous_backup(months, tmp_path, monkeypatch):
    dest = tmp_path / "backup"
    first = backup(months, dest)
    assert ingest(TWO, "places", "2024-09", months).ok
    real, calls = backup_mod.copy_file, []

    def full_disk(*a, **k):
        calls.append(a[0])
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real(*a, **k)

    monkeypatch.setattr(backup_mod, "copy_file", full_disk)
    with pytest.raises(OSError):
        backup(months, dest)
    assert snapshot(dest) == first.snapshot.name and not list(dest.glob(".partial-*"))
    assert sorted(p.name for p in dest.iterdir()) == [first.snapshot.name, "latest"]


def test_the_second_backup_copies_only_the_new_files(months, tmp_path, monkeypatch):
    dest = tmp_path / "backup"
    first = backup(months, dest)
    assert first.copied == len(backup_mod.store_files(months.root, ("_archive", "_mappings")))
    assert ingest(TWO, "places", "2024-09", months).ok  # one upload: its version, record, parts list
    copied = []
    real = backup_mod.copy_file
    monkeypatch.setattr(
        backup_mod, "copy_file", lambda src, dst, **k: copied.append(src) or real(src, dst, **k)
    )
    second = backup(months, dest)
    new = sorted(p.relative_to(months.root).as_posix() for p in copied)
    assert len(new) == 3 and all(p.startswith("_archive/places/month=2024-09/") for p in new)
    assert second.copied == 3 and second.unchanged == first.copied
    # each snapshot is whole; the unchanged files are the same file on disk, not a second copy
    index = json.loads((second.snapshot / "BACKUP.json").read_text())
    for key in json.loads((first.snapshot / "BACKUP.json").read_text())["files"]:
        if key.startswith("data/_archive/"):
            assert (second.snapshot / key).stat().st_ino == (first.snapshot / key).stat().st_ino
            assert index["files"][key]["sha256"] == sha(second.snapshot / key)
    assert snapshot(dest) == second.snapshot.name


def test_a_damaged_backup_file_is_named_and_nothing_is_restored(months, tmp_path):
    dest = tmp_path / "backup"
    done = backup(months, dest)
    entry = months.current("places", "2024-07")
    damaged = done.snapshot / "data" / entry["file"]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte on the backup disk
    damaged.chmod(0o644)
    damaged.write_bytes(bytes(data))
    target, users_file = tmp_path / "restored", tmp_path / "users.yaml"
    proc = tsunagu_cli("restore", "--from", dest, "--to", target, "--users-file", users_file)
    assert proc.returncode == 1
    assert f"data/{entry['file']}（SHA-256 が目録と違います）" in proc.stderr
    assert f"「{target}」には何も書き込んでいません" in proc.stderr
    assert not target.exists() and not users_file.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "data"]  # no half-made folder


def test_restore_refuses_a_folder_with_something_in_it_unless_forced(months, tmp_path):
    dest, target = tmp_path / "backup", tmp_path / "target"
    backup(months, dest)
    target.mkdir()
    (target / "memo.txt").write_text("残しておきたいもの")
    with pytest.raises(BackupError) as refused:
        restore(dest, target)
    assert refused.value.status == 2 and "空ではありません" in str(refused.value)
    assert sorted(p.name for p in target.iterdir()) == ["memo.txt"]
    done = restore(dest, target, force=True)
    assert (done.aside / "memo.txt").read_text() == "残しておきたいもの"  # moved aside, not deleted
    assert Store(target).months("places") == ["2024-07", "2024-08"]


def test_the_cookie_key_is_kept_only_when_asked_for(months, tmp_path):
    users_file = tmp_path / "u" / "users.yaml"
    users_file.parent.mkdir()
    shutil.copy(os.environ["TSUNAGU_USERS_FILE"], users_file)
    key = users_file.with_name("users.cookie_key")
    key.write_text("k" * 64)
    os.chmod(key, 0o600)
    plain = backup(months, tmp_path / "plain", private={"users.yaml": users_file})  # as without the flag
    assert sorted(p.name for p in (plain.snapshot / "private").iterdir()) == ["users.yaml"]
    dest = tmp_path / "keyed"
    proc = tsunagu_cli(
        "backup", "--to", dest, "--data-dir", months.root, "--users-file", users_file, "--with-cookie-key"
    )
    assert proc.returncode == 0, proc.stderr
    assert "クッキー鍵を含めました" in proc.stdout and "パスワードと同じように保管" in proc.stdout
    kept = dest / snapshot(dest) / "private" / "users.cookie_key"
    assert kept.read_bytes() == key.read_bytes() and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keyed").stat().st_mode) == 0o700  # password hashes inside
    new_users = tmp_path / "v" / "users.yaml"
    proc = tsunagu_cli(
        "restore", "--from", tmp_path / "keyed", "--to", tmp_path / "r", "--users-file", new_users
    )
    assert proc.returncode == 0, proc.stderr
    assert "クッキー鍵も復元しました" in proc.stdout
    assert new_users.with_name("users.cookie_key").read_bytes() == key.read_bytes()
