"""Each council uploads its own month: an upload replaces, for its dataset and month, only the
municipalities it covers (docs/contract.md, "What an upload replaces")."""

from __future__ import annotations

import threading

import duckdb
import polars as pl
import pytest

from tests.conftest import tree_digest
from tests.test_app import signed_in
from tsunagu.contract.scope import Scope
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store import integrity

KURASHIKI = ("岡山県", "倉敷市")
FUCHU = ("東京都", "府中市")
HEADER = "通いの場ID,名称,都道府県,市町村,地区,小学校区,種別,補助金対象,状態\n"


def places(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def kurashiki(n: int, prefix: str = "KR") -> list[str]:
    return [f"{prefix}-{i},サロン{i},岡山県,倉敷市,玉島,玉島小,サロン,はい,活動中" for i in range(n)]


def fuchu(n: int, prefix: str = "FC") -> list[str]:
    return [
        f"{prefix}-{i},府中の居場所{i},東京都,府中市,中央,府中第一小,サロン,いいえ,活動中" for i in range(n)
    ]


def counts(store, month: str = "2024-07") -> dict[str, int]:
    """Rows per municipality of the month, as any Parquet tool reads the live glob."""
    rows = duckdb.sql(
        f"select municipality, count(*) from read_parquet('{store.root}/places/*/*.parquet',"
        f" hive_partitioning = true) where month = '{month}' group by all"
    ).fetchall()
    return dict(rows)


def test_two_councils_upload_the_same_month_independently(store):
    """倉敷市's and 府中市's coordinators each upload July: both stay live; 倉敷市 uploading
    again, or putting an earlier version back, leaves 府中市's July as it was."""
    k = ingest(
        places(*kurashiki(3)),
        "places",
        "2024-07",
        store,
        user="kurashiki",
        scope=Scope(frozenset({KURASHIKI})),
    )
    f = ingest(places(*fuchu(2)), "places", "2024-07", store, user="fuchu", scope=Scope(frozenset({FUCHU})))
    assert k.ok and f.ok and f.municipalities == [FUCHU]
    assert f.summary.startswith("登録しました: 居場所・通いの場 2024年7月（令和6年7月） 2行")
    assert counts(store) == {"倉敷市": 3, "府中市": 2}
    fuchu_part = store.parts("places", "2024-07")["東京都/府中市"]
    assert (fuchu_part["user"], fuchu_part["rows"]) == ("fuchu", 2)

    again = ingest(places(*kurashiki(5)), "places", "2024-07", store, user="kurashiki")
    assert again.ok and again.replaced_version == k.version  # only 倉敷市's part was replaced
    assert counts(store) == {"倉敷市": 5, "府中市": 2}
    assert store.parts("places", "2024-07")["東京都/府中市"] == fuchu_part

    store.restore("places", "2024-07", k.version, user="admin", municipality=KURASHIKI)
    assert counts(store) == {"倉敷市": 3, "府中市": 2}
    assert store.parts("places", "2024-07")["東京都/府中市"] == fuchu_part
    # the app's tables: one upload row per municipality, with who sent it
    db = Database(store)
    assert db.sql(
        "select municipality, n_rows, user_name from uploads where dataset = 'places' order by 1"
    ).rows() == [("倉敷市", 3, "admin"), ("府中市", 2, "fuchu")]
    # history per municipality: 倉敷市 has three versions of July, 府中市 one
    assert [v["live"] for v in store.versions("places", "2024-07", KURASHIKI)] == [False, False, True]
    assert [v["user"] for v in store.versions("places", "2024-07", FUCHU)] == ["fuchu"]
    log = [r for r in store.history("places") if r["outcome"] == "committed"]
    assert [(r["user"], r["municipalities"]) for r in log] == [
        ("kurashiki", [list(KURASHIKI)]),
        ("fuchu", [list(FUCHU)]),
        ("kurashiki", [list(KURASHIKI)]),
        ("admin", [list(KURASHIKI)]),
    ]


def test_a_scoped_editor_cannot_write_another_municipality(store):
    """立科町's coordinator cannot change 軽井沢町 — here: 倉敷市's editor, a row of 府中市."""
    assert ingest(places(*kurashiki(2), *fuchu(1)), "places", "2024-07", store).ok
    before = tree_digest(store.root)
    result = ingest(
        places(*kurashiki(2), *fuchu(1, "XX")),
        "places",
        "2024-07",
        store,
        scope=Scope(frozenset({KURASHIKI})),
    )
    assert not result.ok
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (
            4,
            "市町村",
            "「府中市」の行は登録できません。このアップロードで登録できるのは 倉敷市 の行だけです。",
        )
    ]
    assert tree_digest(store.root) == before
    # a prefecture's staff may send the prefecture's councils, and only those
    result = ingest(places(*fuchu(1)), "places", "2024-07", store, scope=Scope(prefecture="岡山県"))
    assert [e.row for e in result.errors] == [2] and "岡山県 の行だけ" in result.errors[0].message


def test_a_combined_file_replaces_both_at_once_and_a_reader_sees_each_whole(store):
    """A prefecture's combined file for two councils, uploaded over and over while the app's
    database and a Parquet tool (DuckDB over the live glob) read July: every answer holds both
    municipalities' July from the same upload, never one old and one new. The app reads the
    immutable files the manifest names, so it never fails; DuckDB reading the glob opens the
    live file more than once per query, and one that spans a replace fails to read (a
    thrift error, counted here, see docs/contract.md) rather than mixing versions."""
    versions = [places(*kurashiki(3), *fuchu(2)), places(*kurashiki(7, "K2"), *fuchu(4, "F2"))]
    assert ingest(versions[0], "places", "2024-07", store).ok
    allowed = [{"倉敷市": 3, "府中市": 2}, {"倉敷市": 7, "府中市": 4}]
    app_seen, glob_seen, glob_errors, stop = [], [], [], threading.Event()
    db = Database(store)

    def reader():
        while not stop.is_set():
            try:
                glob_seen.append(counts(store))
            except duckdb.Error as e:
                glob_errors.append(str(e))
            app_seen.append(
                dict(
                    db.sql(
                        "select municipality, count(*) from places where month = '2024-07' group by all"
                    ).rows()
                )
            )

    t = threading.Thread(target=reader)
    t.start()
    try:
        # upload until the reader has looked often (a busy machine slows it down)
        for i in range(80):
            assert ingest(versions[(i + 1) % 2], "places", "2024-07", store).ok
            if i >= 11 and len(app_seen) >= 20:
                break
    finally:
        stop.set()
        t.join()
    assert len(app_seen) >= 20 and len(glob_seen) >= 10
    assert [s for s in app_seen if s not in allowed] == []
    assert [s for s in glob_seen if s not in allowed] == []
    assert len(glob_errors) < len(glob_seen)  # the rare read that spans a replace


def test_a_forums_month_with_no_events_is_the_chosen_councils_only(store):
    forums = "行事ID,開催日,行事名,種別,市町村,地区,会場,開催形式,会場参加者数,オンライン参加者数\n"
    event = "EV-1,2024-07-06,府中の交流会,地区懇談会,府中市,中央,公民館,会場,20,0\n"
    assert ingest((forums + event).encode(), "forums", "2024-07", store, municipality="東京都府中市").ok
    assert ingest(forums.encode(), "forums", "2024-07", store, municipality="倉敷市").ok
    assert store.read_month("forums", "2024-07")["event_id"].to_list() == ["EV-1"]
    assert set(store.parts("forums", "2024-07")) == {"東京都/府中市", "岡山県/倉敷市"}


def test_areas_are_kept_per_municipality(store):
    """府中市 re-uploads its areas in October (a new school district): 倉敷市's areas of April
    still validate 倉敷市's uploads, and 府中市's new one validates 府中市's."""
    october = (
        "都道府県,市町村,地区,小学校区,人口,65歳以上人口\n"
        "東京都,府中市,中央,府中第一小,9000,2000\n東京都,府中市,中央,府中第九小,4000,900\n"
    )
    assert ingest(october.encode(), "areas", "2024-10", store).ok
    areas = store.current_areas()
    assert areas.filter(pl.col("municipality") == "倉敷市").height == 4
    assert sorted(areas.filter(pl.col("prefecture") == "東京都")["school_district"]) == [
        "府中第一小",
        "府中第九小",
    ]
    new_school = "FC-9,第九の居場所,東京都,府中市,中央,府中第九小,サロン,いいえ,活動中"
    assert ingest(places(new_school, *kurashiki(1)), "places", "2024-10", store).ok
    db = Database(store)
    assert db.sql(
        "select prefecture, municipality, count(*) from areas group by all order by 1, 2"
    ).rows() == [
        ("岡山県", "倉敷市", 4),
        ("広島県", "府中市", 1),
        ("東京都", "府中市", 2),
    ]


def test_a_damaged_composed_month_is_written_again_from_its_uploads(store):
    assert ingest(places(*kurashiki(3)), "places", "2024-07", store).ok
    assert ingest(places(*fuchu(2)), "places", "2024-07", store).ok
    entry = store.current("places", "2024-07")
    assert entry["composed"]
    (store.root / entry["file"]).chmod(0o644)  # (read-only when archived)
    (store.root / entry["file"]).write_bytes(b"PAR1 not really")
    [problem] = integrity.find_damaged(store)
    [done] = integrity.restore_last_intact(store, user="admin")
    assert done.startswith("places 2024-07: 市町村ごとの版から月のファイルを作り直しました")
    assert integrity.find_damaged(store) == []
    assert counts(store) == {"倉敷市": 3, "府中市": 2}


@pytest.mark.parametrize("user", ["tateshina"])
def test_the_upload_page_offers_a_scoped_editor_only_their_municipality(demo_dir, monkeypatch, user):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    signed_in(at, user)
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, [e.message for e in at.exception]
    [choice] = [s for s in at.selectbox if s.label == "市町村"]
    assert choice.options == ["立科町"]
    assert any("あなたが登録できるのは 立科町 のデータです" in c.value for c in at.caption)
