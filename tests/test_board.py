"""The conference board (県域比較): the project groups compared group by group, who has sent
this month's data (and who has not), its CSV for Excel, and a prefecture of one municipality
that is no longer a dead end."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import signed_in
from tsunagu.dashboard import widgets
from tsunagu.dashboard.export import to_excel_csv

PAGE = "pages/prefecture.py"
JST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def board(demo_dir, monkeypatch):
    """The board as `user` opens it, signed in, on the demo store (or TSUNAGU_DATA_DIR's)."""
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))

    def open_as(user: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        signed_in(at, user)
        at.run()
        at.switch_page(PAGE).run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return open_as


def frame(at, column: str) -> pl.DataFrame:
    """The table (st.dataframe) that has this column."""
    return next(pl.from_pandas(d.value) for d in at.dataframe if column in d.value.columns)


def status_rows(at) -> list[dict]:
    """The upload status table as a person reads it (its cells are Markdown)."""
    (table,) = at.table
    rows = pl.from_pandas(table.value).to_dicts()
    strip = str.maketrans("", "", "\\*")
    return [
        {k: str(v).translate(strip).removeprefix(":red[").removesuffix("]") for k, v in r.items()}
        for r in rows
    ]


def count_lines(at) -> str:
    return next(m.value for m in at.markdown if "市町村のうち" in m.value)


def japan_time(iso: str) -> str:
    t = dt.datetime.fromisoformat(iso).astimezone(JST)
    return f"{t.year}年{t.month}月{t.day}日 {t.hour}:{t.minute:02d}"


def test_a_prefectures_viewer_opens_on_its_two_groups_compared_with_their_totals(board, demo_db):
    at = board("nagano_etsuran")  # scoped to 長野県: opens on it, no detour
    assert "長野県" in at.markdown[0].value and not any("比べられる市町村は" in i.value for i in at.info)
    groups = frame(at, "市町村数")

    # expected from the areas (people) and the places of the latest month, group by group
    munis = demo_db.query("municipalities", prefecture="長野県")
    active = demo_db.sql(
        "select municipality, count(*) as n from places where prefecture = '長野県' "
        "and month = '2025-03' and status = '活動中' group by 1"
    )
    per = munis.join(active, on="municipality", how="left").with_columns(pl.col("n").fill_null(0))
    expected = {}
    for name, part in [*per.group_by("project_group"), (("合計",), per)]:
        pop, old, n = (
            int(part["population"].sum()),
            int(part["population_65plus"].sum()),
            int(part["n"].sum()),
        )
        expected[name[0]] = (part.height, pop, old, round(100 * old / pop, 1), n, round(1000 * n / old, 2))
    shown = {
        r["事業グループ"]: (
            r["市町村数"],
            r["人口"],
            r["65歳以上人口"],
            r["高齢化率（%）"],
            r["通いの場（活動中）"],
            r["65歳以上1,000人あたり"],
        )
        for r in groups.to_dicts()
    }
    assert shown == expected
    assert shown["身近な圏域"][0] == shown["多機関協働"][0] == 9 and shown["合計"][0] == 18
    # the group chart has one bar per group, never the total
    charts = [n.proto for n in at.main if getattr(n, "type", None) == "vega_lite_chart"]
    (chart,) = [c for c in charts if "事業グループ別" in str(json.loads(c.spec).get("title"))]
    bars = [
        g
        for d in chart.datasets
        for g in pa.ipc.open_stream(d.data.data).read_all()["project_group"].to_pylist()
    ]
    assert sorted(bars) == ["多機関協働", "身近な圏域"]


def test_the_status_table_shows_who_sent_march_and_when_in_japan_time(board, demo_db):
    at = board("nagano_etsuran")
    lines = count_lines(at)
    assert "今月（2025年3月）の居場所・通いの場: 18市町村のうち18が登録済み" in lines
    sent = demo_db.sql(
        "select municipality, user_name, committed_at from uploads "
        "where dataset = 'places' and month = '2025-03' and prefecture = '長野県'"
    )
    rows = status_rows(at)
    assert {r["市町村"]: (r["状態"], r["最新の受付月"], r["登録者"], r["登録日時"]) for r in rows} == {
        m: ("登録済み", "2025年3月", u, japan_time(t)) for m, u, t in sent.iter_rows()
    }
    assert len(rows) == 18 and next(r for r in rows if r["市町村"] == "立科町")["登録者"] == "tateshina"

    # pantries: the councils that never sent one are listed first, and counted
    never = set(munis := demo_db.query("municipalities", prefecture="長野県")["municipality"]) - set(
        demo_db.sql("select municipality from uploads where dataset = 'pantry' and prefecture = '長野県'")[
            "municipality"
        ]
    )
    assert len(munis) == 18 and len(never) == 6
    assert f"今月（2025年3月）の互近助パントリー: 18市町村のうち{18 - len(never)}が登録済み" in lines
    next(r for r in at.radio if r.key == "board_dataset").set_value("pantry").run()
    rows = status_rows(at)
    assert {r["市町村"] for r in rows[:6]} == never
    assert {r["状態"] for r in rows[:6]} == {"未登録（これまでなし）"} and rows[0]["最新の受付月"] == "—"
    assert {r["状態"] for r in rows[6:]} == {"登録済み"}


@pytest.fixture
def april_from_tateshina(tmp_path, demo_dir):
    """A copy of the demo store where 立科町's council has sent April 2025 and nobody else has."""
    from tsunagu.contract.scope import Scope
    from tsunagu.ingest.pipeline import ingest
    from tsunagu.store.versions import Store

    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    csv = "通いの場ID,名称,市町村,地区,小学校区,種別,補助金対象,状態\nTS-A1,芦田のサロン,立科町,芦田,立科小,サロン,はい,活動中\n"
    result = ingest(
        csv.encode(),
        "places",
        "2025-04",
        Store(data),
        user="tateshina",
        file_name="places_2025-04.csv",
        demo=True,  # the copy is still the demo store (real data is refused there)
        scope=Scope(municipalities=frozenset({("長野県", "立科町")})),
    )
    assert result.ok, result.errors
    return data


def test_after_one_council_sends_april_the_others_stand_out_as_missing(
    board, april_from_tateshina, monkeypatch
):
    downloads = {}
    offer = widgets.download

    def recorded(df, file_name, key=None):
        downloads[key] = (df, file_name)
        offer(df, file_name, key)

    monkeypatch.setattr(widgets, "download", recorded)
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(april_from_tateshina))
    at = board("nagano_kanri")  # the prefecture's staff (an admin scoped to 長野県)
    # the month asked about: the latest any council has sent, whichever municipality is chosen
    assert next(s for s in at.selectbox if s.label == "登録状況の対象月").value == "2025-04"
    assert "今月（2025年4月）の居場所・通いの場: 18市町村のうち1が登録済み" in count_lines(at)
    rows = status_rows(at)
    assert [r["状態"] for r in rows] == ["未登録"] * 17 + ["登録済み"]
    assert rows[-1] | {"登録日時": ""} == {
        "市町村": "立科町",
        "状態": "登録済み",
        "最新の受付月": "2025年4月",
        "登録者": "tateshina",
        "登録日時": "",
    }
    # the missing ones show what they sent last, and who
    karuizawa = next(r for r in rows if r["市町村"] == "軽井沢町")
    assert (karuizawa["最新の受付月"], karuizawa["登録者"]) == ("2025年3月", "karuizawa")

    # the prefecture's staff take it to Excel: every municipality × dataset, Japan time
    df, name = downloads["dl-upload-status"]
    assert name == "登録状況_長野県_2025-04.csv"
    assert any(b.proto.label == "CSVでダウンロード" for b in at.get("download_button"))
    text = to_excel_csv(df)[3:].decode("utf-8").splitlines()
    assert (
        text[0]
        == "団体コード,市町村,事業グループ,データ,対象月,状態,最新の受付月,登録者,登録日時（日本時間）"
    )
    assert len(text) == 1 + 18 * 4
    tateshina = next(line for line in text if line.startswith("203246,立科町,身近な圏域,居場所・通いの場,"))
    assert tateshina.startswith(
        "203246,立科町,身近な圏域,居場所・通いの場,2025年4月,登録済み,2025年4月,tateshina,"
    )
    assert dt.datetime.strptime(tateshina.rsplit(",", 1)[1], "%Y/%m/%d %H:%M")  # Excel reads it as a time
    assert sum(",居場所・通いの場,2025年4月,未登録," in line for line in text) == 17


def test_a_viewer_sees_the_status_but_gets_no_download(board, monkeypatch):
    at = board("nagano_etsuran")
    assert status_rows(at) and not any(b.key == "dl-upload-status" for b in at.get("download_button"))


@pytest.mark.parametrize("user", ["kacho", "kurashiki_kacho"])
def test_a_prefecture_of_one_municipality_opens_on_one_of_several(board, user):
    """倉敷市 is 岡山県's only municipality: the board says so and shows 長野県, and offers
    倉敷市's peers from every prefecture (for a manager of everywhere and one of 倉敷市 alike)."""
    at = board(user)
    assert "岡山県倉敷市全域" in at.markdown[0].value
    assert any(
        "岡山県で比べられる市町村は倉敷市だけのため、市町村の多い長野県（18市町村）を表示しています。"
        in i.value
        for i in at.info
    )
    assert frame(at, "順位（通いの場）").height == 18
    assert len(status_rows(at)) == 18
    peers = frame(at, "近さ（小さいほど近い）")
    assert peers.row(0)[:2] == ("岡山県", "倉敷市")
    assert {"東京都", "長野県"} <= set(peers["都道府県"])
    assert peers["近さ（小さいほど近い）"].is_sorted()
