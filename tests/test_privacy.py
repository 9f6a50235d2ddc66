"""Small counts stay hidden, and totals cannot give them away."""

from __future__ import annotations

import polars as pl

from tsunagu import privacy


def test_small_counts_are_hidden():
    assert privacy.show(3) == "5未満" and privacy.show(0) == "5未満"
    assert privacy.show(5) == "5" and privacy.show(1234) == "1,234"
    assert privacy.show(None) == "—"


def test_threshold_is_configurable(monkeypatch):
    monkeypatch.setenv("TSUNAGU_SUPPRESS_BELOW", "10")
    assert privacy.show(7) == "10未満" and privacy.show(10) == "10"


def test_one_hidden_cell_in_a_total_brings_a_second():
    values = {"倉敷": 12, "水島": 3, "児島": 20, "玉島": 8}
    hidden = privacy.suppressed_cells(values, [list(values)])
    # 水島 alone would be total − (12 + 20 + 8): the smallest other (玉島) is hidden too
    assert hidden == {"水島", "玉島"}


def test_complements_chain_across_rows_and_columns():
    # two measures by district, with a total for each column and for each row
    v = {("a", "x"): 2, ("a", "y"): 30, ("b", "x"): 40, ("b", "y"): 50, ("c", "x"): 60, ("c", "y"): 70}
    rows = [[(r, "x"), (r, "y")] for r in "abc"]
    cols = [[(r, c) for r in "abc"] for c in "xy"]
    hidden = privacy.suppressed_cells(v, rows + cols)
    assert ("a", "x") in hidden
    for group in rows + cols:  # no shown total has exactly one hidden cell behind it
        assert sum(c in hidden for c in group) != 1
    # and nothing more than needed: a 2x2 rectangle
    assert hidden == {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}


def test_table_with_totals_cannot_be_solved():
    df = pl.DataFrame({"district": ["倉敷", "水島", "児島"], "consultations": [12, 3, 20],
                       "referrals": [6, 0, 9]})
    out = privacy.table(df, ["consultations", "referrals"])
    assert out.rows() == [
        ("倉敷", "＊", "＊"), ("水島", "5未満", "5未満"), ("児島", "20", "9"), ("合計", "35", "15")]


def test_small_total_is_hidden_too():
    df = pl.DataFrame({"district": ["a", "b"], "referrals": [1, 2]})
    assert privacy.table(df, ["referrals"]).rows() == [("a", "5未満"), ("b", "5未満"), ("合計", "5未満")]
