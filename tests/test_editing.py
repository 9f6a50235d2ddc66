"""Edits in the browser, run with AppTest on a small store of the council's own: an editor
pauses a place in the table editor and saves; a second editor is stopped by the first's save;
the pantry grid of a new month starts from last month's sites. (The real browser is in
tests/test_browser_editing.py.)"""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import signed_in
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.dashboard import editing
from tsunagu.ingest.pipeline import ingest

KURASHIKI = ("岡山県", "倉敷市")
PANTRY_HEADER = (
    "パントリーID,設置場所名,市町村,地区,小学校区,サポーター種別,活動種別,設置年月,"
    "新規提供者数,提供件数,利用世帯数,配布点数,相談件数,つなぎ件数"
)
PANTRY_ROWS = [
    "P-TM-001,玉島サロン,倉敷市,玉島,玉島小,ボランティア・サロングループ,随時相談・対応,2023-04,1,3,6,24,2,1",
    "P-MZ-001,連島カフェ,倉敷市,水島,連島東小,教会等,フードシェア等イベント,,0,1,4,10,0,0",
]


@pytest.fixture
def council(store, monkeypatch):
    """倉敷市 with July's places (TM-001 活動中, TM-002 休止中) and pantry (two sites)."""
    assert ingest(places_csv().encode(), "places", "2024-07", store, user="yamada").ok
    pantry = "\r\n".join([PANTRY_HEADER, *PANTRY_ROWS]) + "\r\n"
    assert ingest(pantry.encode(), "pantry", "2024-07", store, user="yamada").ok
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(store.root))
    return store


def page(path: str, user: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    signed_in(at, user)
    at.run()
    at.switch_page(path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def edit(at: AppTest, edited_rows: dict | None = None, added_rows: list | None = None) -> str:
    """Type into the table editor as the browser reports it (edits by row position)."""
    key = at.data_editor[0].key
    at.session_state[key] = {
        "edited_rows": edited_rows or {},
        "added_rows": added_rows or [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return key


def texts(at: AppTest) -> str:
    return "\n".join(
        e.value
        for kind in ("error", "warning", "info", "success", "markdown", "caption")
        for e in at.get(kind)
    )


def test_an_editor_pauses_a_place_and_the_month_and_audit_log_show_it(council):
    at = page("pages/places.py", "sc_tanaka", {"places_tab": "編集"})
    grid = at.data_editor[0].value
    assert list(grid.columns[:3]) == ["通いの場ID", "名称", "状態"]  # Japanese headers, status up front
    assert list(grid["状態"]) == ["活動中", "休止中"]  # July, the latest month, as saved
    key = edit(at, {0: {"状態": "休止中"}})
    assert "保存すると変わる内容（いま保存されている版との比較）" in texts(at)
    totals = next(df.value for df in at.dataframe if "項目" in df.value.columns).set_index("項目")
    assert (totals.loc["休止中", "いま"], totals.loc["休止中", "保存後"], totals.loc["休止中", "差"]) == (
        "1",
        "2",
        "+1",
    )
    mine = next(df.value for df in at.dataframe if "変更前" in df.value.columns)
    assert mine[["通いの場ID", "変更前", "変更後"]].values.tolist() == [["TM-001", "活動中", "休止中"]]
    at.button(key=f"{key}-save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    month = council.read_month("places", "2024-07")
    assert month["status"].to_list() == ["休止中", "休止中"]
    last = council.history("places")[-1]
    assert (last["user"], last["file_name"], last["outcome"]) == (
        "sc_tanaka",
        "ブラウザでの編集",
        "committed",
    )
    assert "登録しました" in at.success[0].value
    # the editor starts again from what is now saved; the page's own figure follows
    assert list(at.data_editor[0].value["状態"]) == ["休止中", "休止中"]
    assert next(m.value for m in at.metric if m.label == "休止中") == "2か所"


def test_a_second_editor_is_told_what_changed_and_nothing_is_overwritten(council):
    at = page("pages/places.py", "sc_tanaka", {"places_tab": "編集"})
    # meanwhile a colleague saves July with TM-002 back to 活動中
    theirs = places_csv([PLACES_ROWS[0], PLACES_ROWS[1].replace("休止中", "活動中")]).encode()
    assert ingest(theirs, "places", "2024-07", council, user="sato", file_name="7月.csv").ok
    key = edit(at, {0: {"状態": "終了"}})
    at.button(key=f"{key}-save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    error = at.error[0].value
    assert "ほかの人" in error and "satoさん" in error and "何も書き換えていません" in error
    assert "編集を始めた後に、ほかの人が変えた内容" in texts(at)
    their_change = next(df.value for df in at.dataframe if "変更前" in df.value.columns)
    assert their_change.to_dict("records") == [
        {
            "通いの場ID": "TM-002",
            "名称": "髙橋さんちのお茶会～",
            "変わった項目": "状態",
            "変更前": "休止中",
            "変更後": "活動中",
        }
    ]
    assert council.read_month("places", "2024-07")["status"].to_list() == ["活動中", "活動中"]
    assert at.session_state[key]["edited_rows"] == {0: {"状態": "終了"}}  # their edit is still there
    # having seen it, they choose to save their table over it
    at.checkbox(key=f"{key}-over").check().run()
    at.button(key=f"{key}-save").click().run()
    assert council.read_month("places", "2024-07")["status"].to_list() == ["終了", "休止中"]


def test_the_pantry_grid_of_a_new_month_starts_from_last_months_sites(council):
    at = page("pages/pantry.py", "sc_tanaka", {"pantry_tab": "編集"})
    assert at.selectbox(key="edit_month_pantry").value == "2024-08"  # the new month, not July
    grid = at.data_editor[0].value
    assert list(grid["パントリーID"]) == ["P-TM-001", "P-MZ-001"]
    assert list(grid["地区"]) == ["玉島", "水島"] and list(grid["サポーター種別"])[1] == "教会等"
    assert all(math.isnan(v) for v in grid["利用世帯数"])  # this month's counts: blank, to be typed
    assert "2024年7月（令和6年7月）の設置場所を並べました" in texts(at)
    # only the first site filled in: the second's blanks are named by table row, ID and column
    counts = {
        "利用世帯数": 7,
        "配布点数": 30,
        "相談件数": 1,
        "つなぎ件数": 0,
        "新規提供者数": 0,
        "提供件数": 2,
    }
    edit(at, {0: counts})
    problems = next(df.value for df in at.dataframe if "内容" in df.value.columns)
    assert set(zip(problems["行"], problems["パントリーID"], problems["列"])) == {
        (2, "P-MZ-001", column) for column in counts
    }
    key = edit(at, {0: counts, 1: counts | {"利用世帯数": 3, "つなぎ件数": 2}})
    # a warning names the table's row and the site, not the row of the file made from it
    warning = at.warning[0].value.replace("\\", "")  # (Markdown escapes of the cell values)
    assert warning.startswith("表の2行目（P-MZ-001）・「つなぎ件数」列: つなぎ件数（2）が相談件数（1）")
    at.button(key=f"{key}-save").click().run()
    august = council.read_month("pantry", "2024-08")
    assert august["households_served"].to_list() == [7, 3]
    assert august["pantry_id"].to_list() == ["P-TM-001", "P-MZ-001"]
    assert council.read_month("pantry", "2024-07")["households_served"].to_list() == [6, 4]


def test_an_editor_adds_a_place_in_a_new_month_started_from_the_last(council):
    at = page("pages/places.py", "sc_tanaka", {"places_tab": "編集"})
    at.selectbox(key="edit_month_places").select("2024-08").run()
    assert list(at.data_editor[0].value["通いの場ID"]) == ["TM-001", "TM-002"]  # July's list
    new = {
        "通いの場ID": "TM-003",
        "名称": "みんなの食堂",
        "地区": "水島",
        "小学校区": "連島東小",
        "種別": "子ども食堂",
    }
    key = edit(at, added_rows=[new | {"状態": "活動中", "補助金対象": False}])
    assert "保存すると変わる内容（2024年7月との比較）" in texts(at)
    assert [t.label for t in at.tabs][-3:] == ["追加 1", "なくなる 0", "変更 0"]
    at.button(key=f"{key}-save").click().run()
    august = council.read_month("places", "2024-08")
    assert august["place_id"].to_list() == ["TM-001", "TM-002", "TM-003"]
    assert august.row(2, named=True)["district"] == "水島" and not august.row(2, named=True)["subsidized"]
    assert council.read_month("places", "2024-07").height == 2  # July as it was


@pytest.mark.parametrize("user", ["kacho", "etsuran", "tateshina"])
def test_viewers_managers_and_other_councils_editors_see_no_editor(council, user):
    """A manager or viewer, and an editor of 立科町 looking at 倉敷市: the page as before."""
    at = page("pages/places.py", user, {"places_tab": "編集"})
    assert "編集" not in [t.label for t in at.tabs]
    assert not at.data_editor


def test_the_edited_table_is_the_file_an_upload_would_be(council):
    s = editing.start(council, "places", KURASHIKI, "2024-07")
    csv = editing.to_csv("places", editing.grid(s), KURASHIKI).decode()
    assert csv.splitlines()[0].startswith("通いの場ID,名称,都道府県,市町村,地区,小学校区,種別")
    assert csv.splitlines()[1].startswith("TM-001,ふれあいサロン①,岡山県,倉敷市,玉島,玉島小,サロン")
    assert editing.month_choices(["2024-06", "2024-07"], __import__("datetime").date(2024, 8, 5)) == [
        "2024-08",
        "2024-07",
        "2024-06",
    ]
    # a month not over yet is not offered as new
    assert editing.month_choices(["2024-07"], __import__("datetime").date(2024, 7, 20)) == ["2024-07"]
