"""In a real Chromium: a 協議体 member sees the 参加率 beside the 8% target on ホーム and on
地区カルテ, and a coordinator downloads the yearly survey workbook. Screenshots in tests/artifacts/."""

from __future__ import annotations

import io

import openpyxl

from tests.browser_helpers import ARTIFACTS, download_file, open_page, wait_idle
from tests.test_participation import hand_count
from tsunagu.query import survey


def metric(page, label):
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def test_the_rate_beside_the_target_and_the_yearly_workbook(
    browser, demo_server, demo_dir, demo_db, tmp_path
):
    """ホーム and 玉島's 地区カルテ show the rate with the target; the survey page's workbook
    holds the page's figures."""
    older, reporting, active, people = hand_count(demo_dir, "2025-03")[None]
    page = open_page(browser, f"{demo_server}/", ready="h2")
    wait_idle(page, "h2")
    assert metric(page, "参加率（2025年3月）") == f"{100 * older / people:.1f}%"
    assert page.get_by_text(f"入力がある通いの場 {reporting:,} / {active:,}か所").first.is_visible()
    chart = page.locator("[data-testid='stVegaLiteChart']", has=page.locator("[aria-label*='参加率']")).first
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(ARTIFACTS / "participation_overview_chart.png"))
    page.screenshot(path=str(ARTIFACTS / "participation_overview.png"), full_page=True)

    o, n, a, p = hand_count(demo_dir, "2025-03")["玉島"]
    page.goto(f"{demo_server}/district?d=玉島")
    wait_idle(page, "h2")
    assert metric(page, "玉島地区") == f"{100 * o / p:.1f}%"
    assert page.get_by_text("国の目標 8% まで").first.is_visible()  # 玉島 is under it
    page.screenshot(path=str(ARTIFACTS / "participation_district_tamashima.png"), full_page=True)

    page.goto(f"{demo_server}/survey?fy=2024")
    wait_idle(page, "h2")
    download = download_file(page, lambda: page.get_by_role("button", name="Excelでダウンロード"))
    assert download.suggested_filename == "通いの場_国の調査_倉敷市_2024年度.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    report = survey.report(demo_db, "岡山県", "倉敷市", 2024)
    first = book["調査票の項目"]
    assert first["A5"].value == "通いの場の数（月1回以上・活動中）" and first["C5"].value == report.n_counted
    assert book["通いの場の一覧"].max_row == report.n_listed + 1
    page.screenshot(path=str(ARTIFACTS / "survey_page.png"), full_page=True)
    page.context.close()
