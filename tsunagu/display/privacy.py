"""The one disclosure rule: which consultation and referral counts a viewer, the wall and
paper may see. Every surface asks it; no page decides on its own.

A count below the threshold (default 5; $TSUNAGU_SUPPRESS_BELOW) is shown as 「5未満」. The
screens together publish a lattice of sums for each municipality and 年度: every district's
month, the municipality's month (the sum over districts), every district's 年度 and the
municipality's 年度 (the sums over months), and beside them changes (now − before), rates
(つなぎ ÷ 相談) and the average district (total ÷ districts). A hidden cell must not be
worked out from the shown ones by any of that arithmetic, so cells are hidden (「＊」) until
no hidden cell lies in the span of the shown ones (complementary suppression, checked by
linear algebra rather than one total at a time). Then:
- a lattice cell is shown unless it is hidden;
- any other sum (several districts, part of a 年度) only when the shown cells already give it;
- a change or a rate only when both of its sides are shown; an average with its total;
- a school district never (its count, when not small, is 「＊」).
Managers and up see exact figures on their own screens (`exact`); the wall and paper never do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from tsunagu.contract import fmt

DEFAULT_THRESHOLD = 5
SENSITIVE = ("consultations", "referrals")
COMPLEMENT = "＊"  # hidden only so that other figures cannot give a small one away


def threshold() -> int:
    try:
        return max(1, int(os.environ.get("TSUNAGU_SUPPRESS_BELOW", DEFAULT_THRESHOLD)))
    except ValueError:
        return DEFAULT_THRESHOLD


def label(k: int | None = None) -> str:
    return f"{k or threshold()}未満"


def note(k: int | None = None) -> str:
    return (
        f"「{label(k)}」は{k or threshold()}件未満の値です。「{COMPLEMENT}」は、合計や差から{label(k)}の値が"
        "わかってしまわないように、あわせて伏せた値です。"
    )


def show(value: int | None, k: int | None = None) -> str:
    """One count that is not sensitive to combinations (nothing else shown beside it)."""
    if value is None:
        return "—"
    return label(k) if value < (k or threshold()) else f"{value:,}"


def fiscal_year(month: str) -> int:
    return int(month[:4]) - (1 if int(month[5:7]) < 4 else 0)


def _by_year(months: Iterable[str]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for m in months:
        out.setdefault(fiscal_year(m), []).append(m)
    return out


@dataclass(frozen=True)
class Figure:
    value: int | None  # the true value: for the caller's arithmetic, never to be shown as is
    text: str  # what may be shown: 「12件」, 「5未満」, 「＊」 or 「—」
    shown: bool  # the exact value is on screen (or there is no value at all)


Cell = tuple[str | None, str]  # (district or None for the whole municipality, month or 'FY2024')


class Disclosure:
    """The decisions for one municipality, from every school district's counts in every month
    with a pantry upload (query pantry_disclosure_counts)."""

    def __init__(self, counts: pl.DataFrame, k: int | None = None):
        self.k = k or threshold()
        self.districts = counts["district"].unique(maintain_order=True).to_list()
        self.months = sorted(counts["month"].unique().to_list())
        self._month_set = set(self.months)
        self._by_fy: dict[int, list[str]] = {}
        for m in self.months:
            self._by_fy.setdefault(fiscal_year(m), []).append(m)
        self._school: dict[tuple[str, str, str], int] = {}
        self._atom: dict[tuple[str, str, str], int] = {}
        for measure in SENSITIVE:
            for s, m, v in counts.select("school_district", "month", measure).iter_rows():
                self._school[(measure, s, m)] = self._school.get((measure, s, m), 0) + int(v)
            per = counts.group_by("district", "month").agg(pl.col(measure).sum())
            for d, m, v in per.iter_rows():
                self._atom[(measure, d, m)] = int(v)
        # the decision, once per measure and 年度 (no screen adds months of two 年度 together
        # except as separate figures, so each 年度 is decided on its own)
        self._blocks = {
            (measure, fy): _suppress_block(
                self.districts,
                months,
                f"FY{fy}",
                lambda d, m, ms=measure: self._atom.get((ms, d, m), 0),
                self.k,
            )
            for measure in SENSITIVE
            for fy, months in self._by_fy.items()
        }
        self._hidden = {
            measure: set().union(*(b.hidden for (ms, _), b in self._blocks.items() if ms == measure))
            for measure in SENSITIVE
        }

    def hidden_cells(self, measure: str) -> set[Cell]:
        return set(self._hidden[measure])

    def view(
        self, districts: Iterable[str] | None = None, school_district: str | None = None, exact: bool = False
    ) -> View:
        return View(self, tuple(districts or ()), school_district, exact)

    # any sum a screen may ask for
    def figure(
        self,
        measure: str,
        districts: Iterable[str] | None,
        months: Iterable[str],
        school_district: str | None = None,
        exact: bool = False,
        unit: str = "",
    ) -> Figure:
        ms = sorted({m for m in months if m in self._month_set})
        if not ms:
            return Figure(None, "—", True)
        chosen = [d for d in self.districts if d in set(districts or ())]
        ds = None if not chosen or len(chosen) == len(self.districts) else chosen
        if school_district:
            value = sum(self._school.get((measure, school_district, m), 0) for m in ms)
        else:
            value = sum(self._atom.get((measure, d, m), 0) for d in (ds or self.districts) for m in ms)
        if exact:
            return Figure(value, fmt.number(value, unit), True)
        if value < self.k:
            return Figure(value, label(self.k), False)
        if school_district:  # too small an area to show viewers at all
            return Figure(value, COMPLEMENT, False)
        hidden = self._hidden[measure]
        period = (
            ms[0]
            if len(ms) == 1
            else (f"FY{fiscal_year(ms[0])}" if ms == self._by_fy.get(fiscal_year(ms[0])) else None)
        )
        if period and (ds is None or len(ds) == 1):
            covered = (ds[0] if ds else None, period) in hidden
        else:  # not a published cell: shown only when the shown cells already give it
            covered = not all(
                self._blocks[(measure, fy)].given([(d, m) for d in (ds or self.districts) for m in part])
                for fy, part in _by_year(ms).items()
            )
        return Figure(value, COMPLEMENT, False) if covered else Figure(value, f"{value:,}{unit}", True)


@dataclass(frozen=True)
class View:
    """The rule for one area and one audience (exact for a manager's own screen)."""

    rule: Disclosure
    districts: tuple[str, ...]
    school_district: str | None
    exact: bool

    def between(self, first: str, last: str) -> list[str]:
        """The months with pantry data in a period (a month, or a 年度 so far)."""
        return [m for m in self.rule.months if first <= m <= last]

    def figure(self, measure: str, months: Iterable[str], unit: str = "") -> Figure:
        return self.rule.figure(measure, self.districts, months, self.school_district, self.exact, unit)

    def change(self, measure: str, now: Iterable[str], before: Iterable[str]) -> str | None:
        """「+3」 / 「-2」 / 「±0」, only when both sides are shown."""
        a, b = self.figure(measure, now), self.figure(measure, before)
        if a.value is None or b.value is None or not (a.shown and b.shown):
            return None
        return fmt.change(a.value, b.value)

    def rate(self, months: Iterable[str]) -> str:
        """つなぎ率 (referrals ÷ consultations), only when both counts are shown."""
        months = list(months)
        c, r = self.figure("consultations", months), self.figure("referrals", months)
        if not c.value or r.value is None or not (c.shown and r.shown):
            return "—"
        return f"{100 * r.value / c.value:.1f}%"

    def average(self, measure: str, months: Iterable[str], unit: str = "") -> str:
        """The municipality's average district: shown only with the municipality's total."""
        total = self.rule.figure(measure, None, months, None, self.exact)
        if total.value is None:
            return "—"
        if not total.shown:
            return COMPLEMENT
        avg = total.value / max(1, len(self.rule.districts))
        return f"{avg:,.1f}{unit}"


@dataclass
class _Block:
    """One measure's decision for one 年度: the hidden cells, and the span of the shown ones
    (to tell whether any other sum a screen asks for is already given by them)."""

    hidden: set[Cell]
    atoms: dict[tuple[str, str], int]
    basis: np.ndarray

    def given(self, cells: Iterable[tuple[str, str]]) -> bool:
        v = np.zeros(len(self.atoms))
        v[[self.atoms[c] for c in cells]] = 1.0
        return _in_span(self.basis, v)


def _suppress_block(districts: list[str], months: list[str], fy: str, value, k: int) -> _Block:
    """The hidden cells of one 年度: below k, then complements until no hidden cell is
    determined by the shown ones (its sum lies in their span), and until the hidden cells
    behind a shown total add up to k or more (their sum is the total minus the shown ones:
    two districts of 2 consultations each must not be read as 「4」 together)."""
    atoms = {(d, m): i for i, (d, m) in enumerate((d, m) for d in districts for m in months)}
    forms: dict[Cell, list[tuple[str, str]]] = {}
    for m in months:
        forms[(None, m)] = [(d, m) for d in districts]
        for d in districts:
            forms[(d, m)] = [(d, m)]
    for d in districts:
        forms[(d, fy)] = [(d, m) for m in months]
    forms[(None, fy)] = list(atoms)
    values = {c: sum(value(d, m) for d, m in f) for c, f in forms.items()}
    # each shown total with the cells it adds up
    relations = (
        [[(None, m)] + [(d, m) for d in districts] for m in months]
        + [[(d, fy)] + [(d, m) for m in months] for d in districts]
        + [[(None, fy)] + [(d, fy) for d in districts]]
        + [[(None, fy)] + [(None, m) for m in months]]
    )
    vectors = {}
    for c, f in forms.items():
        v = np.zeros(len(atoms))
        v[[atoms[a] for a in f]] = 1.0
        vectors[c] = v

    hidden = {c for c, v in values.items() if v < k}
    order = sorted(forms, key=lambda c: (values[c], c[0] is None, str(c)))

    def exposed(rel) -> bool:
        total, members = rel[0], rel[1:]
        inside = [c for c in members if c in hidden]
        if total in hidden:
            return False
        # one hidden member is its total minus the others; several, their sum is
        return len(inside) == 1 or (bool(inside) and sum(values[c] for c in inside) < k)

    while True:
        changed = True
        while changed:
            changed = False
            for rel in relations:
                others = [c for c in rel if c not in hidden]
                if others and (exposed(rel) or sum(c in hidden for c in rel) == 1):
                    hidden.add(min(others, key=order.index))  # the smallest: it tells the least
                    changed = True
        basis = _basis([vectors[c] for c in forms if c not in hidden])
        determined = [c for c in sorted(hidden, key=order.index) if _in_span(basis, vectors[c])]
        if not determined:
            return _Block(hidden, atoms, basis)
        # a longer chain gives it away: hide the smallest shown cell of a relation around it
        cell = determined[0]
        around = [c for rel in relations if cell in rel for c in rel if c not in hidden]
        hidden.add(min(around or [c for c in forms if c not in hidden], key=order.index))


def _basis(rows: list[np.ndarray]) -> np.ndarray:
    if not rows:
        return np.zeros((0, 0))
    _, s, vt = np.linalg.svd(np.array(rows), full_matrices=False)
    return vt[s > 1e-9 * max(1.0, s[0])]


def _in_span(basis: np.ndarray, v: np.ndarray) -> bool:
    if basis.size == 0:
        return False
    return float(np.linalg.norm(v - basis.T @ (basis @ v))) < 1e-6
