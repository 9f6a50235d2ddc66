"""The disclosure rule on crafted tables: small counts hidden, complements chosen so that no
hidden cell can be worked out, and the same decision whichever surface asks."""

from __future__ import annotations

import random

import numpy as np
import polars as pl

from tests.disclosure_audit import _basis, _in_span
from tsunagu.display import privacy


def test_small_counts_are_hidden():
    assert privacy.show(3) == "5未満" and privacy.show(0) == "5未満"
    assert privacy.show(5) == "5" and privacy.show(1234) == "1,234"
    assert privacy.show(None) == "—"


def test_threshold_is_configurable(monkeypatch):
    monkeypatch.setenv("TSUNAGU_SUPPRESS_BELOW", "10")
    assert privacy.show(7) == "10未満" and privacy.show(10) == "10"
    rule = privacy.Disclosure(counts({"a": [12, 7], "b": [30, 40]}))
    assert rule.view(["a"]).figure("consultations", ["2024-05"]).text == "10未満"


def counts(
    consultations: dict[str, list[int]], referrals: dict[str, list[int]] | None = None, start: int = 4
) -> pl.DataFrame:
    """District -> counts month by month from 2024-04 (one school district each)."""
    rows = []
    for d, values in consultations.items():
        for i, v in enumerate(values):
            r = (referrals or consultations)[d][i]
            rows.append((d, f"{d}小", f"2024-{start + i:02d}", v, r))
    return pl.DataFrame(
        rows, schema=["district", "school_district", "month", "consultations", "referrals"], orient="row"
    )


def test_one_small_district_brings_the_next_smallest():
    rule = privacy.Disclosure(counts({"倉敷": [12], "水島": [3], "児島": [20], "玉島": [8]}))
    shown = {d: rule.view([d]).figure("consultations", ["2024-04"], "件").text for d in rule.districts}
    # 水島 alone would be the total − (12 + 20 + 8): the smallest other (玉島) is hidden too
    assert shown == {"倉敷": "12件", "水島": "5未満", "児島": "20件", "玉島": "＊"}
    assert rule.view().figure("consultations", ["2024-04"], "件").text == "43件"


def test_a_small_month_inside_a_year_hides_a_rectangle():
    """A 年度 sum minus the other months, and a month's total minus the other districts, both
    point at the small cell: a second month and a second district go too."""
    rule = privacy.Disclosure(counts({"a": [20, 3, 11], "b": [30, 40, 50], "c": [25, 35, 45]}))
    hidden = rule.hidden_cells("consultations")
    assert ("a", "2024-05") in hidden
    assert ("a", "2024-06") in hidden  # a's smallest other month
    assert {("c", "2024-05"), ("c", "2024-06")} <= hidden  # the smallest other district, both months
    assert rule.view(["a"]).figure("consultations", ["2024-04", "2024-05", "2024-06"]).text == "34"


def test_no_hidden_cell_is_determined_on_random_tables():
    """On 300 random tables (districts x months of a year, with month totals, 年度 sums and the
    年度 total published), no hidden cell lies in the span of the shown ones, checked with the
    auditor's own linear algebra."""
    rng = random.Random(12)
    for _ in range(300):
        ds = [f"d{i}" for i in range(rng.randint(1, 6))]
        n = rng.randint(1, 12)
        table = {d: [rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 40]) for _ in range(n)] for d in ds}
        rule = privacy.Disclosure(counts(table))
        months = rule.months
        atoms = [(d, m) for d in ds for m in months]
        cells = (
            [(None, m) for m in months]
            + [(d, m) for d in ds for m in months]
            + [(d, "FY2024") for d in ds]
            + [(None, "FY2024")]
        )

        def vec(cell, atoms=atoms):
            d, p = cell
            v = np.zeros(len(atoms))
            for i, (ad, am) in enumerate(atoms):
                if (d is None or ad == d) and (p == "FY2024" or am == p):
                    v[i] = 1
            return v

        hidden = rule.hidden_cells("consultations")
        basis = _basis([vec(c) for c in cells if c not in hidden])
        for c in hidden:
            assert not _in_span(basis, vec(c)), (table, c, hidden)
        values = np.array([table[d][months.index(m)] for d, m in atoms])
        for c in cells:  # every small cell is hidden
            assert vec(c) @ values >= 5 or c in hidden, (table, c)
        # behind a shown total, the hidden cells never add up to a small count
        rows = [((None, m), [(d, m) for d in ds]) for m in months] + [
            ((d, "FY2024"), [(d, m) for m in months]) for d in ds
        ]
        for total, members in rows:
            inside = [c for c in members if c in hidden]
            if total not in hidden and inside:
                assert sum(vec(c) @ values for c in inside) >= 5, (table, total, inside)


def test_several_districts_are_shown_only_when_the_shown_cells_give_them():
    rule = privacy.Disclosure(counts({"a": [12], "b": [3], "c": [20], "d": [8]}))
    assert rule.view(["a", "c"]).figure("consultations", ["2024-04"]).text == "32"
    assert rule.view(["a", "d"]).figure("consultations", ["2024-04"]).text == "＊"  # d is a complement
    # b and d together are the total minus a and c: shown, since anyone can work them out
    assert rule.view(["b", "d"]).figure("consultations", ["2024-04"]).text == "11"
    assert rule.view(["a", "b", "c", "d"]).figure("consultations", ["2024-04"]).text == "43"  # the whole


def test_two_small_districts_do_not_add_up_to_a_small_count():
    """b and c are 2 each: hiding both is not enough, the total minus a and d would read 4."""
    rule = privacy.Disclosure(counts({"a": [30], "b": [2], "c": [2], "d": [25]}))
    hidden = rule.hidden_cells("consultations")
    assert {("b", "2024-04"), ("c", "2024-04"), ("d", "2024-04")} <= hidden
    assert rule.view(["b", "c"]).figure("consultations", ["2024-04"]).text == "5未満"
    assert rule.view(["b", "c", "d"]).figure("consultations", ["2024-04"]).text == "29"


def test_school_districts_are_never_shown_to_viewers():
    rule = privacy.Disclosure(counts({"a": [40], "b": [30]}))
    assert rule.view(["a"], "a小").figure("consultations", ["2024-04"]).text == "＊"
    assert rule.view(["a"], "a小", exact=True).figure("consultations", ["2024-04"]).text == "40"


def test_changes_rates_and_averages_need_both_sides_shown():
    rule = privacy.Disclosure(
        counts({"a": [12, 3], "b": [30, 40], "c": [25, 45]}, {"a": [6, 1], "b": [10, 8], "c": [9, 10]})
    )
    a = rule.view(["a"])
    assert a.change("consultations", ["2024-05"], ["2024-04"]) is None  # 3 now: hidden
    assert a.rate(["2024-05"]) == "—"
    # a rate needs both counts shown: 04's referrals of a and b are complements of a's 1 in 05
    assert rule.hidden_cells("referrals") == {
        ("a", "2024-04"),
        ("a", "2024-05"),
        ("b", "2024-04"),
        ("b", "2024-05"),
    }
    assert rule.view(["b"]).rate(["2024-04"]) == "—"
    assert rule.view(["c"]).rate(["2024-04"]) == "36.0%"  # 9 / 25
    assert rule.view(["b"]).change("consultations", ["2024-05"], ["2024-04"]) is None  # complement
    assert rule.view(["c"]).change("consultations", ["2024-05"], ["2024-04"]) == "+20"
    assert rule.view().average("consultations", ["2024-04"]) == "22.3"  # 67 / 3
    # referrals of a are small in 2024-05, so the month's total cannot give them away
    assert rule.view().figure("referrals", ["2024-05"]).text == "19"
    assert rule.view(["a"], exact=True).change("consultations", ["2024-05"], ["2024-04"]) == "-9"


def test_a_month_without_pantry_data_shows_a_dash():
    rule = privacy.Disclosure(counts({"a": [12]}))
    assert rule.view().figure("consultations", ["2023-04"]) == privacy.Figure(None, "—", True)
    assert rule.view().change("consultations", ["2024-04"], ["2024-03"]) is None
