"""Every page, run with Streamlit's AppTest on the demo store: no exception, and changing a
filter changes the figure to the right value."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGES = [
    "pages/overview.py",
    "pages/places.py",
    "pages/pantry.py",
    "pages/forums.py",
    "pages/district.py",
    "pages/prefecture.py",
    "pages/handouts.py",
]


def opened(page: str | None = None, query: dict | None = None, user: str = "kacho") -> AppTest:
    """The app as `user` sees it (TSUNAGU_DATA_DIR set by the caller), on `page` if given."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    signed_in(at, user)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    return opened


def signed_in(at: AppTest, username: str) -> None:
    """A signed-in session, injected the way the sign-in form leaves it (with the user's
    session generation of now: a later sign-out or password change ends it)."""
    from tsunagu.access import auth, users

    for key, value in auth.session_state_for(users.start_session(username)).items():
        at.session_state[key] = value


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def widget(at, kind: str, key: str):
    return next(w for w in at.get(kind) if w.key == key)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_demo_store(app, page):
    at = app(page)
    assert "デモデータを表示しています" in at.info[0].value
    assert "倉敷市全域" in at.markdown[0].value and "2025年3月" in at.markdown[0].value
    assert not coded_columns(at)


def coded_columns(at: AppTest) -> list[str]:
    """Table columns headed by the code's names (is_fiscal_year_end) rather than in Japanese."""
    return [
        c
        for t in [*at.dataframe, *at.table]
        for c in t.value.columns
        if re.fullmatch(r"[a-z][a-z0-9_]*", str(c))
    ]


# the pages whose tabs draw only when opened (their choice is in the link)
TABS = [
    ("pages/places.py", "places_tab", t)
    for t in ["地区・種別", "年度の推移", "開始・休止・終了", "手薄な小学校区", "地図", "一覧・検索", "編集"]
] + [
    ("pages/pantry.py", "pantry_tab", t)
    for t in ["地区別", "サポーター・活動の種別", "毎月の動き", "活動の多い設置場所"]
]


@pytest.mark.parametrize("page, key, tab", TABS, ids=[f"{p[6:-3]}-{t}" for p, _, t in TABS])
def test_every_tab_heads_its_tables_in_japanese(app, page, key, tab):
    """Each tab as an editor opens it (it is drawn only then): no column by the code's name
    (居場所・通いの場's yearly 参加率 showed is_fiscal_year_end)."""
    at = app(page, {key: tab}, user="sc_tanaka")
    assert len(at.dataframe) + len(at.table) > 0 or tab in ("地図", "開始・休止・終了"), "no table drawn"
    assert not coded_columns(at)


def test_overview_shows_the_latest_month_for_kurashiki(app):
    m = metrics(app())
    assert m["通いの場（活動中）"] == "852か所"
    assert m["うち補助金対象"] == "318か所"
    assert m["互近助パントリー"] == "97か所"


def test_manager_filters_overview_to_tamashima_in_july_2024(app):
    """A manager picks 玉島 and 2024-07 and sees 玉島's 19 pantry sites."""
    at = app()
    widget(at, "multiselect", "f_dists").select("玉島").run()
    widget(at, "selectbox", "f_month").select("2024-07").run()
    assert not at.exception
    assert metrics(at)["互近助パントリー"] == "19か所"
    assert at.query_params["d"] == "玉島" and at.query_params["m"] == "2024-07"


def test_copied_link_opens_the_same_view(app):
    at = app("pages/pantry.py", query={"pref": "岡山県", "muni": "倉敷市", "d": "玉島", "m": "2022-10"})
    assert metrics(at)["設置数"] == "15か所"
    assert "倉敷市 玉島" in at.markdown[0].value and "2022年10月" in at.markdown[0].value


def test_pantry_tables_match_the_published_figures(app):
    at = app("pages/pantry.py", query={"m": "2024-07"})
    sites = at.dataframe[0].value
    assert list(zip(sites["地区"], sites["設置数"])) == [
        ("倉敷", 29),
        ("水島", 19),
        ("児島", 17),
        ("玉島", 19),
        ("真備", 6),
        ("船穂", 5),
        ("合計", 95),
    ]
    # only the open tab is drawn; the link opens another one
    at = app("pages/pantry.py", query={"m": "2024-07", "pantry_tab": "サポーター・活動の種別"})
    activity = at.dataframe[1].value
    assert list(activity["設置数"]) == [29, 23, 19, 17, 7]


def test_places_trend_shows_the_published_series(app):
    at = app("pages/places.py", query={"places_tab": "年度の推移"})
    table = next(df for df in at.dataframe if "年度" in df.value.columns)
    # counts read 1,234; the year in the same table reads 2016, not 2,016
    columns = json.loads(table.proto.columns)
    assert columns["年度（西暦）"]["type_config"]["format"] == "%d"
    assert columns["通いの場（活動中）"]["type_config"]["format"] == "localized"
    trend = table.value
    assert list(trend["通いの場（活動中）"])[:8] == [430, 499, 600, 705, 771, 840, 876, 839]
    assert list(trend["うち補助金対象"])[:8] == [160, 223, 263, 275, 290, 288, 305, 311]


def test_places_for_mabi_in_fiscal_2018(app):
    at = app("pages/places.py", query={"d": "真備", "fy": "2018"})
    assert metrics(at)["通いの場（活動中）"] == "58か所"


def test_places_search_finds_by_name(app):
    at = app("pages/places.py", query={"places_tab": "一覧・検索"})
    at.text_input[0].input("髙橋").run()
    table = at.dataframe[-1].value
    assert len(table) > 0 and all("髙橋" in n for n in table["名称"])


def test_forums_for_musashino(app):
    at = app("pages/forums.py", query={"pref": "東京都", "muni": "武蔵野市", "fy": "2017"})
    m = metrics(at)
    assert m["行事（期間中）"] == "3回"
    assert m["参加者（会場）"] == "54人"  # 2017-08-31: 23, 09-06: 16, 09-09: 15


def test_district_card_for_tamashima(app):
    at = app("pages/district.py", query={"d": "玉島", "m": "2024-07"})
    assert metrics(at)["互近助パントリー"] == "19か所"


def test_prefecture_comparison_ranks_nagano(app):
    at = app("pages/prefecture.py", query={"pref": "長野県", "muni": "生坂村"})
    table = next(d.value for d in at.dataframe if "順位（通いの場）" in d.value.columns)
    assert len(table) == 18
    peers = next(d.value for d in at.dataframe if "近さ（小さいほど近い）" in d.value.columns)
    assert list(peers["市町村"])[:3] == ["生坂村", "大桑村", "南木曽町"]


def test_reset_returns_to_the_whole_municipality(app):
    at = app(query={"d": "玉島", "m": "2022-10"})
    next(b for b in at.get("button") if "戻す" in b.label).click().run()
    assert widget(at, "multiselect", "f_dists").value == []
    assert metrics(at)["互近助パントリー"] == "97か所"


def test_empty_store_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(tmp_path / "empty"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    signed_in(at, "kacho")
    at.run()
    assert not at.exception
    assert "まだデータが登録されていません" in at.warning[0].value


def test_csv_download_neutralises_formulas_and_opens_in_excel():
    import polars as pl

    from tsunagu.dashboard.export import to_excel_csv

    data = to_excel_csv(
        pl.DataFrame({"name": ['=HYPERLINK("x")', "+1", "-2", "@a", "ふつう"], "n_sites": [1, -2, 3, 4, 5]})
    )
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text.splitlines() == [
        "設置場所名,設置数".replace("設置場所名", "名称"),
        '\'=HYPERLINK(""x""),1'.replace('\'=HYPERLINK(""x""),1', '"\'=HYPERLINK(""x"")",1'),
        "'+1,-2",
        "'-2,3",
        "'@a,4",
        "ふつう,5",
    ]


UNUSUAL = [
    {"pref": "東京都", "muni": "武蔵野市"},  # no pantry at all
    {"pref": "長野県", "muni": "天龍村", "d": "神原", "s": "天龍小"},  # a tiny village, one school
    {"fy": "2016"},  # before the pantry project started
    {"m": "2016-04"},  # the first month on record
    {"d": "真備,船穂", "s": "船穂小"},  # a school outside... the pair still shows
    {"muni": "存在しない市", "d": "どこか", "m": "1999-01"},  # a broken link falls back to defaults
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("query", UNUSUAL, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_unusual_filters_never_break_a_page(app, page, query):
    at = app(page, query=query)
    assert not at.exception


def test_viewer_sees_small_referral_counts_hidden_and_manager_sees_them(app):
    """船穂 had 2 referrals in July 2024: a viewer sees 「5未満」, a manager the number."""
    query = {"d": "船穂", "m": "2024-07"}
    viewer = metrics(app(query=query, user="etsuran"))
    manager = metrics(app(query=query, user="kacho"))
    assert viewer["つなぎ件数"] == "5未満" and manager["つなぎ件数"] == "2件"
    assert viewer["相談件数"] == "25件"  # large enough, and no total gives it away


def test_viewer_cannot_recover_a_hidden_count_from_the_total(app):
    """The city's 69 referrals minus the other districts would give 船穂's 2: 真備's 6, the
    next smallest, is hidden from viewers too."""
    mabi = metrics(app(query={"d": "真備", "m": "2024-07"}, user="etsuran"))
    assert mabi["つなぎ件数"] == "＊"
    whole = metrics(app(query={"m": "2024-07"}, user="etsuran"))
    assert whole["つなぎ件数"] == "69件"


def test_handouts_page_offers_the_list_of_places_to_managers_only(app):
    """Handouts carry counts only (suppressed on paper), so every role may print them; the
    list of places names places, like the detailed tables, so it is for managers and up."""

    def buttons(at):
        return {el.proto.label for el in at.main if type(el).__name__ == "DownloadButton"}

    viewer = app("pages/handouts.py", query={"d": "玉島"}, user="etsuran")
    # the residents' guidebook holds only what the public page shows, so a viewer may print it too
    assert buttons(viewer) == {
        "配布資料をダウンロード",
        "全地区まとめて（全域と6地区、ZIP）",
        "ガイドブックをダウンロード",
    }
    assert any("管理職" in c.value for c in viewer.caption)
    manager = app("pages/handouts.py", query={"d": "玉島"}, user="kacho")
    assert "一覧表をダウンロード" in buttons(manager)
    # one district chosen in the sidebar (here from the link) is the handout's district
    assert next(s for s in manager.selectbox if s.label == "地区").value == "玉島"


def test_charts_are_valid_vega_lite(app, monkeypatch):
    """Charts skip Altair's schema checks on each rerun (they took half of one), so every
    chart of every page, the wall's included, is checked against the Vega-Lite schema here."""
    import altair as alt

    from tsunagu.display import charts

    checked = []

    def validating(chart):
        with alt.utils.schemapi.debug_mode(True):
            spec = chart.to_dict(validate=True)
        checked.append(spec.get("title"))
        return spec

    monkeypatch.setattr(charts, "spec", validating)
    monkeypatch.setenv(charts.REUSE_ENV, "off")  # every chart built and drawn anew, none reused
    for page in [*PAGES, "pages/present.py"]:
        app(page)
    assert len(checked) >= 15 and any("通いの場の推移" in str(t) for t in checked), checked
    assert all(
        spec["config"]["font"] == charts.FONT
        for spec in [charts.spec(charts.bars(pl.DataFrame({"k": ["a"], "n": [1]}), "k", "n", "か所", "t"))]
    )


def test_a_charts_area_and_period_are_a_line_of_their_own(app):
    """On a phone the chart is narrow: a one-line title lost its end, where the area and the
    period are. The browser gets the title and, below it, 「（倉敷市全域、…）」."""
    at = app()
    titles = [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]
    assert {"text": "通いの場の推移", "subtitle": "（倉敷市全域、各年度3月時点）"} in titles, titles
    assert not [t for t in titles if isinstance(t, str) and "（" in t], titles
