"""The dashboard pages, run with Streamlit's AppTest on the demo store."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def metrics(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_overview_shows_the_latest_month_for_kurashiki(app):
    at = app.run()
    assert not at.exception
    assert "デモデータを表示しています" in at.info[0].value
    assert at.subheader[0].value == "岡山県倉敷市　2025年3月（令和7年3月）時点"
    m = metrics(at)
    assert m["通いの場（活動中）"][0] == "852か所"
    assert m["うち補助金対象"][0] == "318か所"
    assert m["互近助パントリー"][0] == "97か所"


def test_choosing_another_municipality_changes_the_figures(app):
    at = app.run()
    at.sidebar.selectbox[0].select("東京都").run()
    assert not at.exception
    assert at.sidebar.selectbox[1].value == "武蔵野市"
    assert at.subheader[0].value.startswith("東京都武蔵野市")
    assert metrics(at)["互近助パントリー"][0] == "0か所"


def test_empty_store_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(tmp_path / "empty"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "まだデータが登録されていません" in at.warning[0].value
