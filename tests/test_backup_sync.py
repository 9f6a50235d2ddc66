"""Read-only replicas fed by `python -m tsunagu sync`: new archive files first, the manifest
last, then the live files. A dashboard on the replica never sees a half-copied month: a sync
cut short leaves it answering the old month whole; the next run finishes and it sees the new."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import tsunagu_cli
from tests.test_store import ONE, TWO
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store import sync as sync_mod
from tsunagu.store.backup import BackupError, backup
from tsunagu.store.sync import sync
from tsunagu.store.versions import Store


def places_by_month(db: Database) -> dict[str, int]:
    db.refresh()
    return dict(db.sql("select month, count(*) from places group by month order by month").rows())


def glob_by_month(root) -> dict[str, int]:
    """What another Parquet tool sees in the replica's live files."""
    sql = (
        f"select month, count(*) from read_parquet('{root}/places/*/*.parquet', hive_partitioning = true)"
        " group by month order by month"
    )
    return dict(duckdb.sql(sql).fetchall())


def test_a_replica_never_sees_a_half_copied_month(store, tmp_path, monkeypatch):
    replica = tmp_path / "replica"
    assert ingest(TWO, "places", "2024-07", store).ok
    first = sync(store.root, replica)
    assert first.changed and first.published == 2  # areas and places
    db = Database(Store(replica))
    assert places_by_month(db) == {"2024-07": 2} == glob_by_month(replica)

    # on the writer: July replaced (a composed month is not needed: one municipality), August new
    assert ingest(ONE, "places", "2024-07", store).ok
    assert ingest(TWO, "places", "2024-08", store).ok
    real, copied = sync_mod.copy_file, []

    def cut_short(src, dst, **k):
        if len(copied) == 2:
            raise OSError(5, "Input/output error")  # the link to the writer went down
        copied.append(dst)
        return real(src, dst, **k)

    monkeypatch.setattr(sync_mod, "copy_file", cut_short)
    with pytest.raises(OSError):
        sync(store.root, replica)
    assert len(copied) == 2 and all((replica / "_archive") in p.parents for p in copied)
    # the replica still answers the old data, whole: its dashboard, a new one, and other tools
    assert places_by_month(db) == {"2024-07": 2}
    assert places_by_month(Database(Store(replica))) == {"2024-07": 2} == glob_by_month(replica)
    assert not [p for p in replica.rglob("*.parquet") if p.name.startswith(".")]  # no half file a glob sees

    monkeypatch.setattr(sync_mod, "copy_file", real)
    done = sync(store.root, replica)  # resumed: what was copied is not copied again
    assert done.changed and done.skipped >= 2
    assert places_by_month(db) == {"2024-07": 1, "2024-08": 2} == glob_by_month(replica)
    assert (replica / "_manifest.json").read_bytes() == (store.root / "_manifest.json").read_bytes()
    assert Store(replica).history() == store.history()  # the audit log too

    again = sync(store.root, replica)  # idempotent
    assert (again.copied, again.published, again.changed) == (0, 0, False)


def test_an_upload_made_on_the_replica_is_not_overwritten(store, tmp_path):
    replica = tmp_path / "replica"
    assert ingest(TWO, "places", "2024-07", store).ok
    proc = tsunagu_cli("sync", "--from", store.root, "--to", replica)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"同期しました: {replica}（データの版 2。")
    assert ingest(ONE, "places", "2024-08", Store(replica)).ok  # someone uploaded on the replica
    before = (replica / "_manifest.json").read_bytes()
    proc = tsunagu_cli("sync", "--from", store.root, "--to", replica)
    assert proc.returncode == 2
    assert "同期先で登録されたか" in proc.stderr and "同期を中止しました" in proc.stderr
    assert (replica / "_manifest.json").read_bytes() == before


def test_a_replica_can_be_fed_from_a_backup(store, tmp_path):
    """The nightly backup, carried to another machine, feeds its replica the same way."""
    assert ingest(TWO, "places", "2024-07", store).ok
    backup(store, tmp_path / "backup")
    replica = tmp_path / "replica"
    done = sync(tmp_path / "backup", replica)
    assert done.changed and glob_by_month(replica) == {"2024-07": 2}
    with pytest.raises(BackupError) as refused:
        sync(tmp_path / "nothing-here", replica)
    assert refused.value.status == 2 and "データフォルダでもバックアップでもありません" in str(refused.value)
