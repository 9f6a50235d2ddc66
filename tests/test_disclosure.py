"""The disclosure audit (tests/disclosure_audit.py): nothing a viewer, the wall or paper shows
gives away a consultation or referral count below the threshold, for every month of the demo
and on stores built to tempt it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.disclosure_audit import Audit, Truth, audit_store, sweep_board


def test_demo_kurashiki_discloses_no_small_count(demo_dir):
    """Every screen, for 全域 and each district, in the months with the smallest counts (the
    pantry's first half year) and the latest 年度 month by month, and every 年度."""
    from tsunagu.demo.simulate import PANTRY_MONTHS, month_range

    months = month_range(*PANTRY_MONTHS)
    audit = audit_store(demo_dir, "岡山県", "倉敷市", months=months[:6] + months[-12:])
    problems = audit.check()
    # 7 areas x 18 months x (ホーム, パントリー, カルテ, 配布資料), and each 年度
    assert len(audit.seen) > 2000, len(audit.seen)
    assert problems == [], "\n".join(problems[:40])


@pytest.mark.slow
def test_demo_kurashiki_every_month_discloses_no_small_count(demo_dir):
    """The same for every one of the demo's 48 pantry months (make test-all)."""
    audit = audit_store(demo_dir, "岡山県", "倉敷市")
    problems = audit.check()
    # the sweep read every screen: 7 areas x 48 months x (ホーム, パントリー, カルテ, 配布資料)
    assert len(audit.seen) > 6000, len(audit.seen)
    assert problems == [], "\n".join(problems[:40])


def test_the_conference_board_sends_a_viewer_no_consultation_count(demo_dir, monkeypatch):
    """The board (県域比較) compares places, pantry sites and events, never consultations or
    referrals: for a prefecture's viewer and for one who lands there from 岡山県, every measure
    and every dataset of the status table, no table, chart or line carries one."""
    import pandas as pd

    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    audit = sweep_board(
        Audit(Truth.read(demo_dir, "倉敷市")),
        [("nagano_etsuran", {}), ("etsuran", {"pref": "岡山県", "muni": "倉敷市"})],
    )
    assert audit.problems == [], "\n".join(audit.problems[:40])
    # it read the board: per view, its tables (municipalities, groups, status, peers) and charts
    assert audit.tables_read >= 2 * 6 * 5, audit.tables_read

    # and it would see one: a group table with a consultation column, a status table naming one
    class Dataframe:
        value = pd.DataFrame({"事業グループ": ["身近な圏域"], "相談件数": [3]})

    class Table:
        value = pd.DataFrame({"項目": ["相談件数"], "値": ["3件"]})

    audit.read_board(type("Page", (), {"main": [Dataframe(), Table()]})(), "県域比較（試験）")
    assert [p.split(": ")[1][:12] for p in audit.problems] == ["Dataframe se", "a table cell"]


# --- stores built to tempt the rule -------------------------------------------------------

AREAS = """都道府県,市町村,地区,小学校区,人口,65歳以上人口
岡山県,試験市,東,東小,9000,2500
岡山県,試験市,東,東第二小,4000,1200
岡山県,試験市,西,西小,8000,2400
岡山県,試験市,南,南小,7000,2300
岡山県,試験市,北,北小,6000,2100
"""
MONTHS = ["2024-04", "2024-05", "2024-06", "2024-07"]
SCHOOLS = {"東": "東小", "西": "西小", "南": "南小", "北": "北小"}


def crafted_store(tmp_path, consultations: dict, referrals: dict) -> Path:
    """A municipality of four districts over four months of one 年度: `consultations[d]` and
    `referrals[d]` are each district's counts month by month (two pantry sites in 東: one in
    each school district, the counts split between them)."""
    from tsunagu.ingest.pipeline import ingest
    from tsunagu.store.versions import Store

    store = Store(tmp_path / "data")
    assert ingest(AREAS.encode(), "areas", "2024-04", store, file_name="areas.csv").ok
    for i, month in enumerate(MONTHS):
        places = [
            "通いの場ID,名称,市町村,地区,小学校区,種別,補助金対象,状態",
            *(f"P-{d},{d}のサロン,試験市,{d},{s},サロン,はい,活動中" for d, s in SCHOOLS.items()),
        ]
        assert ingest("\n".join(places).encode(), "places", month, store).ok
        rows = [
            "パントリーID,設置場所名,市町村,地区,小学校区,サポーター種別,活動種別,新規提供者数,提供件数,"
            "利用世帯数,配布点数,相談件数,つなぎ件数"
        ]
        for d, s in SCHOOLS.items():
            c, r = consultations[d][i], referrals[d][i]
            if d == "東":  # two sites in two school districts
                rows.append(
                    f"K-{d}2,{d}第二の箱,試験市,{d},東第二小,教会等,随時相談・対応,1,5,9,30,{c // 2},{r // 2}"
                )
                c, r = c - c // 2, r - r // 2
            rows.append(f"K-{d},{d}の箱,試験市,{d},{s},教会等,随時相談・対応,1,5,9,30,{c},{r}")
        result = ingest("\n".join(rows).encode(), "pantry", month, store)
        assert result.ok, result.errors
    return tmp_path / "data"


TEMPTING = {
    # 北 is small every month: the total minus the others would give it away
    "one_small_district": (
        {"東": [20, 22, 18, 25], "西": [12, 15, 11, 14], "南": [9, 8, 10, 12], "北": [2, 3, 1, 4]},
        {"東": [8, 9, 7, 10], "西": [6, 6, 5, 7], "南": [5, 5, 6, 6], "北": [1, 0, 1, 2]},
    ),
    # 南 and 北 are small: the two together are 南+北, and either one with a 年度 sum
    "two_small_districts": (
        {"東": [20, 22, 18, 25], "西": [12, 15, 11, 14], "南": [3, 2, 4, 1], "北": [2, 3, 1, 4]},
        {"東": [8, 9, 7, 10], "西": [6, 6, 5, 7], "南": [1, 1, 0, 2], "北": [1, 0, 1, 2]},
    ),
    # 西 is small in one month only: its 年度 sum minus its other months would give it away
    "small_month_inside_a_year": (
        {"東": [20, 22, 18, 25], "西": [12, 3, 11, 14], "南": [9, 8, 10, 12], "北": [7, 6, 8, 9]},
        {"東": [8, 9, 7, 10], "西": [6, 1, 5, 7], "南": [5, 5, 6, 6], "北": [5, 6, 5, 7]},
    ),
}


@pytest.mark.parametrize("name", list(TEMPTING))
def test_crafted_store_discloses_no_small_count(tmp_path, name):
    data = crafted_store(tmp_path, *TEMPTING[name])
    # besides 全域 and each district, two districts chosen together in the sidebar
    audit = audit_store(data, "岡山県", "試験市", workers=1, together=(("南", "北"), ("東", "北")))
    assert len(audit.seen) > 300, len(audit.seen)
    problems = audit.check()
    assert problems == [], "\n".join(problems[:40])
