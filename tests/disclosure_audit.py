"""The disclosure auditor: what a viewer, the wall and paper can see, and whether any count
below the threshold can be read or worked out from it.

It is written apart from the rule it audits (tsunagu/privacy.py): the truth comes straight
from the Parquet files, the screens are read as a person reads them (AppTest: metrics,
captions, slides, tables and the data every chart sends to the browser; the handout's
printed cells), and the arithmetic is plain linear algebra over the cells of the month.

Every figure a screen shows is a linear form over the atoms (measure, district, month):
a district's month, the municipality's month (the sum over districts), a 年度 (the sum over
its months), a change (now − before), the average district (the total ÷ the districts). A
shown number makes its form known; a rate makes its numerator known when its denominator is
known and the other way round, iterated to a fixpoint. A hidden cell is *determined* when its
form lies in the span of the known forms. The audit fails on:
- a shown number whose true value is below the threshold (read directly),
- a hidden cell, or any cell of the lattice below the threshold, that is determined,
- a sensitive column in any table or chart data a viewer's browser receives,
- a sensitive figure on a screen that the auditor cannot place (so a new surface cannot
  slip past it unaudited).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

MEASURES = ("consultations", "referrals")
# what the screens call them (metrics, slides, handout cards, table headers)
LABELS = {
    "相談件数": "consultations",
    "つなぎ件数": "referrals",
    "相談（期間計）": "consultations",
    "パントリーでの相談": "consultations",
    "相談・支援機関へのつなぎ": "referrals",
    "相談（件）": "consultations",
    "つなぎ（件）": "referrals",
}
SENSITIVE_COLUMNS = {
    "consultations",
    "referrals",
    "referral_rate_pct",
    "相談件数",
    "つなぎ件数",
    "つなぎ率（%）",
    "つなぎ率",
}
SENSITIVE_WORDS = ("相談", "つなぎ")


# --- the truth, read from the Parquet files ---------------------------------------------


@dataclass
class Truth:
    """Every district's consultations and referrals per pantry month of one municipality."""

    districts: list[str]
    months: list[str]
    values: dict[tuple[str, str, str], int]  # (measure, district, month) -> count

    @classmethod
    def read(cls, data_dir: Path, municipality: str) -> Truth:
        con = duckdb.connect()
        areas = con.sql(
            f"select district, month from read_parquet('{data_dir}/areas/*/*.parquet', "
            "hive_partitioning = true) where municipality = $m",
            params={"m": municipality},
        ).fetchall()
        latest = max(m for _, m in areas)
        districts = list(dict.fromkeys(d for d, m in areas if m == latest))
        months = sorted(p.name.split("=", 1)[1] for p in (data_dir / "pantry").glob("month=*"))
        rows = con.sql(
            f"select district, month, sum(consultations), sum(referrals) from read_parquet("
            f"'{data_dir}/pantry/*/*.parquet', hive_partitioning = true) where municipality = $m "
            "group by all",
            params={"m": municipality},
        ).fetchall()
        values = {(ms, d, m): 0 for ms in MEASURES for d in districts for m in months}
        for d, m, c, r in rows:
            values[("consultations", d, m)] = int(c)
            values[("referrals", d, m)] = int(r)
        return cls(districts, months, values)

    def fy_months(self, month: str) -> list[str]:
        y = int(month[:4]) - (1 if int(month[5:]) < 4 else 0)
        return [m for m in self.months if f"{y}-04" <= m <= f"{y + 1}-03"]


def shift(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:]) + n
    while m < 1:
        y, m = y - 1, m + 12
    while m > 12:
        y, m = y + 1, m - 12
    return f"{y:04d}-{m:02d}"


# --- what the screens show ------------------------------------------------------------

Form = dict  # (measure, district, month) -> coefficient


@dataclass
class Seen:
    where: str  # a surface and its conditions, for the report
    text: str  # as shown
    form: Form
    is_total: bool = True  # a count (not a change): it must not be shown when small


@dataclass
class SeenRate:
    where: str
    text: str
    numerator: Form
    denominator: Form


@dataclass
class Audit:
    truth: Truth
    threshold: int = 5
    seen: list[Seen] = field(default_factory=list)
    rates: list[SeenRate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tables_read: int = 0  # tables and charts scanned: a sweep that saw none audited nothing

    # forms
    def cells(
        self, measure: str, districts: Iterable[str] | None, months: Iterable[str], scale: float = 1.0
    ) -> Form:
        ds = list(districts) if districts else self.truth.districts
        ms = [m for m in months if m in self.truth.months]
        return {(measure, d, m): scale for d in ds for m in ms}

    def value(self, form: Form) -> float:
        return sum(c * self.truth.values[a] for a, c in form.items())

    def see(self, where: str, text: str, form: Form, is_total: bool = True) -> None:
        self.seen.append(Seen(where, text.strip(), form, is_total))

    # the screens, as a person reads them
    def read_overview(self, at, districts, month: str) -> None:
        where = f"ホーム {area_name(districts)} {month}"
        pending = None
        for node in elements(at.main):
            kind = type(node).__name__
            if kind == "Metric":
                pending = None
                measure = LABELS.get(node.label)
                if measure is None:
                    self.unplaced(where, node.label, node.value)
                    continue
                now = self.cells(measure, districts, [month])
                self.see(where, node.value, now)
                if node.delta:
                    before = self.cells(measure, districts, [shift(month, -1)], -1.0)
                    self.see(
                        where + " 前月比", node.delta, {**now, **before} if before else {}, is_total=False
                    )
                pending = (measure, now)
            elif kind == "Caption" and pending and node.value.startswith("前年同月"):
                measure, now = pending
                m = re.match(r"前年同月 (\S+?)(?:（(.+)）)?$", node.value)
                then = self.cells(measure, districts, [shift(month, -12)])
                self.see(where + " 前年同月", m.group(1), then)
                if m.group(2):
                    minus = {a: -c for a, c in then.items()}
                    self.see(
                        where + " 前年同月比", m.group(2), {**now, **minus} if then else {}, is_total=False
                    )
                pending = None
            else:
                self.scan(where, node)

    def read_pantry(self, at, districts, months: list[str]) -> None:
        where = f"互近助パントリー {area_name(districts)} {months[0]}〜{months[-1]}"
        for node in elements(at.main):
            kind = type(node).__name__
            if kind == "Metric" and node.label == "相談（期間計）":
                self.see(where, node.value, self.cells("consultations", districts, months))
            elif kind == "Metric" and node.label == "つなぎ率（期間）":
                self.rates.append(
                    SeenRate(
                        where,
                        node.value,
                        self.cells("referrals", districts, months),
                        self.cells("consultations", districts, months),
                    )
                )
            elif kind == "Metric" and node.label in ("設置数", "提供者（累計）", "利用世帯（期間計）"):
                continue
            elif kind == "Metric":
                self.unplaced(where, node.label, node.value)
            else:
                self.scan(where, node)

    def read_district_card(self, at, district: str, month: str) -> None:
        where = f"地区カルテ {district} {month}"
        pending = None
        for node in elements(at.main):
            kind = type(node).__name__
            if kind == "Metric":
                pending = LABELS.get(node.label)
                if pending:
                    self.see(where, node.value, self.cells(pending, [district], [month]))
                elif any(w in node.label for w in SENSITIVE_WORDS):
                    self.unplaced(where, node.label, node.value)
            elif kind == "Caption" and pending and node.value.startswith("地区平均"):
                n = len(self.truth.districts)
                self.see(
                    where + " 地区平均",
                    node.value.removeprefix("地区平均").strip(),
                    self.cells(pending, None, [month], 1.0 / n),
                    is_total=False,
                )
                pending = None
            else:
                self.scan(where, node)

    def read_slide(self, at, districts, month: str) -> None:
        where = f"作戦会議モード {area_name(districts)} {month}"
        title = number = change = None
        for node in elements(at.main):
            if type(node).__name__ != "Markdown":
                self.scan(where, node)
                continue
            text = strip_tags(node.value)
            if 'class="slide-title"' in node.value:
                title = text
            elif 'class="slide-number"' in node.value:
                number = text
            elif 'class="slide-change"' in node.value:
                change = text
        self.read_slide_text(title, number, change, districts, month)

    def read_slide_text(
        self, title: str | None, number: str | None, change: str | None, districts, month: str
    ) -> None:
        """One slide as the wall shows it: its title, its number and 「前月（…）から +3」."""
        where = f"作戦会議モード {area_name(districts)} {month}"
        measure = LABELS.get(title or "")
        if measure is None:
            if title and any(w in title for w in SENSITIVE_WORDS):
                self.unplaced(where, title, number)
            return
        now = self.cells(measure, districts, [month])
        self.see(f"{where} {title}", re.sub(r"件$", "", number or ""), now)
        if change:
            before = self.cells(measure, districts, [shift(month, -1)], -1.0)
            self.see(
                f"{where} {title} 前月から", change.rsplit("から", 1)[-1], {**now, **before}, is_total=False
            )

    def read_handout(
        self, cards: list[tuple[str, str, str]], rows: list[list[str]] | None, districts, month: str
    ) -> None:
        """The handout's printed cells: the headline cards and, for the whole municipality,
        the district table with its total row (相談・つなぎ in the last two columns)."""
        where = f"配布資料 {area_name(districts)} {month}"
        for label, shown, small in cards:
            measure = LABELS.get(label)
            if measure is None:
                self.unplaced(where, label, shown)
                continue
            now = self.cells(measure, districts, [month])
            self.see(f"{where} {label}", shown, now)
            m = re.fullmatch(r"前月 (\S+?)(?:（(.+)）)?\n前年同月 (\S+)", small)
            if m is None:
                self.unplaced(where, label, small)
                continue
            before = self.cells(measure, districts, [shift(month, -1)])
            self.see(f"{where} {label} 前月", m.group(1), before)
            if m.group(2):
                self.see(
                    f"{where} {label} 前月比",
                    m.group(2),
                    {**now, **{a: -c for a, c in before.items()}} if before else {},
                    is_total=False,
                )
            self.see(
                f"{where} {label} 前年同月", m.group(3), self.cells(measure, districts, [shift(month, -12)])
            )
        for row in rows or []:
            ds = None if row[0] == "合計" else [row[0]]
            self.see(f"{where} 地区表 {row[0]}", row[-2], self.cells("consultations", ds, [month]))
            self.see(f"{where} 地区表 {row[0]}", row[-1], self.cells("referrals", ds, [month]))

    def read_board(self, at, where: str) -> None:
        """The conference board (県域比較) shows no consultation or referral count at all: every
        table, chart and line of text it sends a viewer is scanned, its status table's cells and
        its notes too."""
        for node in elements(at.main):
            kind = type(node).__name__
            if kind == "Metric":
                self.unplaced(where, node.label, node.value)
            elif kind in ("Info", "Warning", "Success", "Error") and re.search(
                r"(相談|つなぎ)[^。、]{0,6}\d", node.value or ""
            ):
                self.problems.append(f"{where}: sensitive figure in text: {node.value[:80]}")
            elif kind == "Table":
                self.scan(where, node)
                cells = " ".join(str(v) for v in node.value.to_numpy().ravel())
                if any(w in cells for w in SENSITIVE_WORDS):
                    self.problems.append(f"{where}: a table cell names a sensitive count: {cells[:80]}")
            else:
                self.scan(where, node)

    def unplaced(self, where: str, label: str, value) -> None:
        if any(w in str(label) for w in SENSITIVE_WORDS):
            self.problems.append(f"{where}: 「{label}」 {value} — the auditor cannot place this figure")

    def scan(self, where: str, node) -> None:
        """Tables and chart data sent to the browser: no sensitive column at all for a viewer."""
        kind = type(node).__name__
        columns: set[str] = set()
        if kind in ("Dataframe", "Table"):  # st.table too: the conference board's upload status
            columns = {str(c) for c in node.value.columns}
            self.tables_read += 1
        elif kind == "UnknownElement" and node.type == "vega_lite_chart":
            columns = chart_columns(node.proto)
            self.tables_read += 1
        elif kind in ("Markdown", "Caption") and re.search(r"(相談|つなぎ)[^。、]{0,6}\d", node.value or ""):
            self.problems.append(f"{where}: sensitive figure in text: {node.value[:80]}")
        leaked = columns & SENSITIVE_COLUMNS
        if leaked:
            self.problems.append(f"{where}: {kind} sends {sorted(leaked)} to the browser")

    # the arithmetic
    def check(self) -> list[str]:
        problems = list(self.problems)
        k = self.threshold
        atoms = sorted(self.truth.values)
        index = {a: i for i, a in enumerate(atoms)}

        def vector(form: Form) -> np.ndarray:
            v = np.zeros(len(atoms))
            for a, c in form.items():
                v[index[a]] += c
            return v

        known: list[np.ndarray] = []
        hidden: list[Seen] = []
        for s in self.seen:
            if not s.form:
                continue
            number = parse_number(s.text)
            if number is None:
                if s.text not in ("—", ""):
                    hidden.append(s)
                continue
            truth = self.value(s.form)
            if abs(number - truth) > 0.051 * max(1, abs(truth)) and abs(number - truth) > 0.51:
                problems.append(
                    f"{s.where}: shows {s.text} but the data says {truth:g} (auditor out of step)"
                )
            if s.is_total and truth < k:
                problems.append(f"{s.where}: shows {s.text}, a count below {k}")
            known.append(vector(s.form))

        basis = _basis(known)
        for _ in range(len(self.rates) + 1):  # rates: a known side and the rate give the other
            added = []
            for r in self.rates:
                rate = parse_number(r.text)
                if rate is None:
                    continue
                num, den = vector(r.numerator), vector(r.denominator)
                if _in_span(basis, den) and not _in_span(basis, num):
                    added.append(num)
                elif rate > 0 and _in_span(basis, num) and not _in_span(basis, den):
                    added.append(den)
            if not added:
                break
            known += added
            basis = _basis(known)

        for s in hidden:
            if _in_span(basis, vector(s.form)):
                problems.append(
                    f"{s.where}: hidden 「{s.text}」 is determined by what is shown "
                    f"(it is {self.value(s.form):g})"
                )
        for form, name in self.lattice():
            if self.value(form) < k and _in_span(basis, vector(form)):
                problems.append(f"{name} = {self.value(form):g} (below {k}) is determined by what is shown")
        return problems

    def lattice(self):
        """Every cell of the publication lattice: a district or the whole, a month or a 年度."""
        t = self.truth
        fys = {tuple(t.fy_months(m)) for m in t.months}
        for measure in MEASURES:
            for ds in [None, *([d] for d in t.districts)]:
                name = "全域" if ds is None else ds[0]
                for m in t.months:
                    yield self.cells(measure, ds, [m]), f"{measure} {name} {m}"
                for fy in fys:
                    yield self.cells(measure, ds, fy), f"{measure} {name} {fy[0]}〜{fy[-1]}"


def _basis(rows: list[np.ndarray]) -> np.ndarray:
    if not rows:
        return np.zeros((0, 0))
    m = np.unique(np.array(rows), axis=0)
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    return vt[s > 1e-9 * max(1.0, s[0])]


def _in_span(basis: np.ndarray, v: np.ndarray) -> bool:
    if basis.size == 0:
        return not v.any()
    return float(np.linalg.norm(v - basis.T @ (basis @ v))) < 1e-6 * max(1.0, float(np.linalg.norm(v)))


# --- reading the page -------------------------------------------------------------------


def elements(block) -> Iterable:
    for node in block:
        if type(node).__name__ not in ("Block", "Column", "Tab", "SpecialBlock", "Expander"):
            yield node


def chart_columns(proto) -> set[str]:
    """The field names of every row a Vega-Lite chart carries to the browser."""
    chart = proto
    names: set[str] = set()
    spec = json.loads(chart.spec) if chart.spec else {}

    def walk(obj):
        if isinstance(obj, dict):
            for key in ("values",):
                if isinstance(obj.get(key), list):
                    for row in obj[key]:
                        if isinstance(row, dict):
                            names.update(row)
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(spec)
    for ds in chart.datasets:
        names.update(_arrow_columns(ds.data.data))
    if chart.data.data:
        names.update(_arrow_columns(chart.data.data))
    return names


def _arrow_columns(data: bytes) -> set[str]:
    if not data:
        return set()
    table = pa.ipc.open_stream(data).read_all()
    return set(table.column_names)


def strip_tags(html_text: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", html_text)).strip()


def parse_number(text: str) -> float | None:
    """「1,234件」 → 1234, 「+3」 → 3, 「±0」 → 0, 「12.5%」 → 12.5; 「5未満」, 「＊」, 「—」 → None."""
    text = (text or "").strip()
    if not text or "未満" in text or "＊" in text or text == "—":
        return None
    text = text.replace("±", "").replace("−", "-").replace("▲", "-")
    m = re.match(r"^([+-]?[\d,]+(?:\.\d+)?)", text)
    return float(m.group(1).replace(",", "")) if m else None


def area_name(districts) -> str:
    return "全域" if not districts else "・".join(districts)


# --- the sweep: every page and slide a viewer can open, for every month -------------------


def viewer_app(page: str, query: dict, user: str = "etsuran"):
    """A viewer's session on a page (the data dir comes from TSUNAGU_DATA_DIR)."""
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    from tests.test_app import signed_in

    signed_in(at, user)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _widget(at, kind: str, key: str):
    return next(w for w in at.get(kind) if w.key == key)


def _set(at, kind: str, key: str, value) -> None:
    _widget(at, kind, key).set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]


def sweep(audit: Audit, prefecture: str, municipality: str, areas=None, paper=None, months=None) -> Audit:
    """Everything a viewer sees about the municipality: ホーム, 互近助パントリー (each month and
    each 年度), 地区カルテ, every slide of 作戦会議モード for 全域 and each district, and, with
    `paper` (a Database), the handout's printed cells — for every pantry month, for the whole
    municipality and each district (or the `areas` given: None for the whole, or a district);
    `months` (default: every month) limits the months read one by one, not the 年度 views."""
    t = audit.truth
    shown = t.months if months is None else [m for m in t.months if m in months]
    base = {"pref": prefecture, "muni": municipality}
    fys = sorted({int(m[:4]) - (1 if int(m[5:]) < 4 else 0) for m in t.months})
    for area in [None, *t.districts] if areas is None else areas:
        # None: the whole municipality; a district; or a tuple of districts chosen together
        districts = None if area is None else list(area) if isinstance(area, tuple) else [area]
        q = {**base, **({"d": ",".join(districts)} if districts else {})}
        at = viewer_app("pages/overview.py", {**q, "m": t.months[-1]})
        for m in shown:
            _set(at, "selectbox", "f_month", m)
            audit.read_overview(at, districts, m)
        at = viewer_app("pages/pantry.py", {**q, "m": t.months[-1]})
        for m in shown:
            _set(at, "selectbox", "f_month", m)
            audit.read_pantry(at, districts, [m])
        _set(at, "radio", "f_mode", "fy")
        for y in fys:
            _set(at, "selectbox", "f_fy", y)
            audit.read_pantry(at, districts, [m for m in t.months if f"{y}-04" <= m <= f"{y + 1}-03"])
        if isinstance(area, tuple):  # the card, the wall and paper take one district at a time
            continue
        if area:
            at = viewer_app("pages/district.py", {**q, "m": t.months[-1]})
            for m in shown:
                _set(at, "selectbox", "f_month", m)
                audit.read_district_card(at, area, m)
        at = viewer_app("pages/present.py", {**base, "district": area or "全域"})
        for _ in range(slide_count(at)):  # every slide of the wall's default agenda
            audit.read_slide(at, districts, latest_month(at))
            at.button(key="present_next").click().run()
        if paper is not None:
            from tsunagu.documents import handout

            for m in shown:
                one = handout.Area(prefecture, municipality, area, m)
                cards, _ = handout.headline_cards(paper, one)
                audit.read_handout(cards, None if area else handout.district_rows(paper, one), districts, m)
    return audit


def _sweep_part(data_dir: str, prefecture: str, municipality: str, areas, paper: bool, months=None):
    import logging
    import os

    from tests.conftest import scan_components_once
    from tsunagu.query.database import Database
    from tsunagu.store.versions import Store

    scan_components_once()  # in a worker process of its own, conftest has not run
    before = os.environ.get("TSUNAGU_DATA_DIR")
    os.environ["TSUNAGU_DATA_DIR"] = data_dir
    logging.disable(logging.WARNING)  # AppTest's "missing ScriptRunContext" on every call
    try:
        audit = Audit(Truth.read(Path(data_dir), municipality))
        sweep(audit, prefecture, municipality, areas, Database(Store(data_dir)) if paper else None, months)
        return audit.seen, audit.rates, audit.problems
    finally:
        logging.disable(logging.NOTSET)
        if before is None:
            del os.environ["TSUNAGU_DATA_DIR"]
        else:
            os.environ["TSUNAGU_DATA_DIR"] = before


def audit_store(
    data_dir: Path,
    prefecture: str,
    municipality: str,
    paper: bool = True,
    workers: int = 2,
    together: tuple = (),
    months=None,
) -> Audit:
    """The whole sweep (of `months`, default every month), its areas shared among `workers`
    processes (AppTest is single-threaded Python: two cores halve the time), then one check
    over everything."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    audit = Audit(Truth.read(data_dir, municipality))
    areas = [None, *audit.truth.districts, *together]  # `together`: districts chosen at once
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the other cores run other tests already
        workers = 1
    if workers == 1:
        audit.seen, audit.rates, audit.problems = _sweep_part(
            str(data_dir), prefecture, municipality, areas, paper, months
        )
        return audit
    parts = [areas[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for seen, rates, problems in pool.map(
            _sweep_part,
            *zip(*[(str(data_dir), prefecture, municipality, part, paper, months) for part in parts]),
        ):
            audit.seen += seen
            audit.rates += rates
            audit.problems += problems
    return audit


def sweep_board(audit: Audit, views: list[tuple[str, dict]]) -> Audit:
    """The conference board as each (viewer, link) opens it: every measure of the comparison
    and every dataset of the upload status."""
    from tsunagu.dashboard import board

    for user, query in views:
        at = viewer_app("pages/prefecture.py", query, user)
        where = f"県域比較 {query}"
        audit.read_board(at, where)
        for measure in list(board.MEASURES)[1:]:
            _set(at, "radio", "board_measure", measure)
            audit.read_board(at, f"{where} {measure}")
        for dataset in board.STATUS_DATASETS[1:]:
            _set(at, "radio", "board_dataset", dataset)
            audit.read_board(at, f"{where} {dataset}")
    return audit


def slide_count(at) -> int:
    """How many slides the wall says it has (「1 / 11」 in its top line)."""
    for node in elements(at.main):
        if type(node).__name__ == "Markdown" and 'class="slide-where"' in node.value:
            return int(re.search(r"\d+ / (\d+)", strip_tags(node.value)).group(1))
    raise AssertionError("no slide on the wall")


def latest_month(at) -> str:
    """The month a slide says it shows (「2025年3月（令和7年3月）時点」)."""
    for node in elements(at.main):
        if type(node).__name__ == "Markdown" and 'class="slide-where"' in node.value:
            m = re.search(r"(\d{4})年(\d{1,2})月", strip_tags(node.value))
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    raise AssertionError("no slide on the wall")
