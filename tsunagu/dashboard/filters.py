"""The global filters: 都道府県 / 市町村, 地区, 小学校区 and the period.

header.page_header draws them on every page; what the user chose is kept in the session, so
it holds across pages, and mirrored into the URL
(`?code=332020&d=玉島,水島&s=…&fy=2024` or `&m=2024-07`), so a copied link opens the
same view. A municipality is named by its 団体コード where areas gives one (names repeat
across prefectures: 府中市), else by `pref=…&muni=…`; links of either form open. Defaults:
the first municipality (for a user with a scope, the first of their own: a link naming
another still opens it), every district, the latest month.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from tsunagu.contract import codes
from tsunagu.contract.scope import EVERYWHERE, Scope
from tsunagu.contract.wareki import fiscal_year_label, fiscal_year_of, month_label

ALL_SCHOOLS = "（すべての小学校区）"
KEYS = ("f_pref", "f_muni", "f_dists", "f_school", "f_mode", "f_fy", "f_month")
MODES = {"month": "月", "fy": "年度"}


@dataclass(frozen=True)
class Filters:
    prefecture: str
    municipality: str
    districts: tuple[str, ...]  # empty = the whole municipality
    school_district: str | None
    mode: str  # "month" or "fy"
    fiscal_year: int
    month: str  # the as-of month of snapshots
    from_month: str
    to_month: str
    all_districts: tuple[str, ...] = ()
    municipality_code: str | None = None  # 団体コード, when areas gives one

    @property
    def municipality_label(self) -> str:
        """The municipality as file names give it: 332020_倉敷市, or 倉敷市 without a code."""
        return (
            f"{self.municipality_code}_{self.municipality}" if self.municipality_code else self.municipality
        )

    @property
    def place(self) -> tuple[str, str]:
        """(prefecture, municipality): whose named detail a page shows (gate.can_detail)."""
        return self.prefecture, self.municipality

    @property
    def area_label(self) -> str:
        parts = [self.municipality]
        if self.districts:
            parts.append("・".join(self.districts))
        if self.school_district:
            parts.append(f"{self.school_district}学区")
        return " ".join(parts) if len(parts) > 1 else f"{self.municipality}全域"

    @property
    def period_label(self) -> str:
        if self.mode == "fy":
            return f"{fiscal_year_label(self.fiscal_year)}（{month_label(self.to_month).split('（')[0]}まで）"
        return month_label(self.month)

    def area(self, school: bool = True) -> dict:
        params = {
            "prefecture": self.prefecture,
            "municipality": self.municipality,
            "districts": list(self.districts) or None,
        }
        if school:
            params["school_district"] = self.school_district
        return params


def _pick(value, options, default):
    return value if value in options else default


def home(munis: pl.DataFrame, scope: Scope) -> tuple[str, str]:
    """Where a user opens: the first municipality of their scope the data knows (everywhere,
    or a scope the data does not know: the first of all)."""
    known = list(munis.select("prefecture", "municipality").iter_rows())
    own = scope.within(known)
    return own[0] if own else known[0]


def linked_municipality(munis: pl.DataFrame, qp) -> tuple[str, str] | None:
    """The (prefecture, municipality) a link names: by its 団体コード (`code=332020`, 5 or 6
    digits), else by `muni` (with `pref` where the name repeats across prefectures)."""
    code = codes.normalise(qp.get("code"))
    if code and "municipality_code" in munis.columns:
        hit = munis.filter(pl.col("municipality_code") == code)
        if hit.height == 1:
            return hit["prefecture"][0], hit["municipality"][0]
    muni, pref = qp.get("muni"), qp.get("pref")
    if not muni:
        return None
    hit = munis.filter(pl.col("municipality") == muni)
    if pref:
        hit = hit.filter(pl.col("prefecture") == pref)
    return (hit["prefecture"][0], hit["municipality"][0]) if hit.height == 1 else None


def code_of(munis: pl.DataFrame, pref: str, muni: str) -> str | None:
    if "municipality_code" not in munis.columns:
        return None
    hit = munis.filter((pl.col("prefecture") == pref) & (pl.col("municipality") == muni))
    return hit["municipality_code"][0] if hit.height else None


def sidebar(
    munis: pl.DataFrame,
    months_of,
    districts_of,
    home_district: str | None = None,
    scope: Scope = EVERYWHERE,
) -> Filters | None:
    """Draw the filters; `districts_of(pref, muni)` gives (districts, {district: schools}),
    `months_of(pref, muni)` the municipality's months (a council that has not sent this
    month yet opens on its own latest); a user's home district is pre-selected when the URL
    names none, and their own municipality when it names none."""
    if munis.is_empty():
        return None
    state, qp = st.session_state, st.query_params
    prefs = munis["prefecture"].unique(maintain_order=True).to_list()

    kept = state.get("_filters_kept")
    if kept is not None:
        # Streamlit resets widgets when the page changes: restore what the user chose
        # (callbacks below record each change before this runs)
        for key, value in kept.items():
            state[key] = value
    else:  # a new session: start from the URL
        linked = linked_municipality(munis, qp)
        if linked:
            state.f_pref, state.f_muni = linked
        else:
            home_pref, home_muni = home(munis, scope)
            state.f_pref = _pick(qp.get("pref"), prefs, home_pref)
            names = munis.filter(pl.col("prefecture") == state.f_pref)["municipality"].to_list()
            state.f_muni = home_muni if state.f_pref == home_pref else names[0]
        dists, _ = districts_of(state.f_pref, state.f_muni)
        month_list, fys = _months(months_of(state.f_pref, state.f_muni))
        if not month_list:
            return None
        wanted = (qp.get("d") or "").split(",") if qp.get("d") else [home_district or ""]
        state.f_dists = [d for d in wanted if d in dists]
        state.f_school = qp.get("s") or ALL_SCHOOLS
        state.f_mode = "fy" if qp.get("fy") else "month"
        state.f_fy = _pick(int(qp["fy"]) if (qp.get("fy") or "").isdigit() else None, fys, fys[0])
        state.f_month = _pick(qp.get("m"), month_list, month_list[0])

    sb = st.sidebar
    sb.markdown("### 表示の条件")
    state.f_pref = _pick(state.get("f_pref"), prefs, prefs[0])
    pref = sb.selectbox("都道府県", prefs, key="f_pref", on_change=_remember)
    names = munis.filter(pl.col("prefecture") == pref)["municipality"].to_list()
    state.f_muni = _pick(state.get("f_muni"), names, names[0])
    muni = sb.selectbox("市町村", names, key="f_muni", on_change=_remember)
    month_list, fys = _months(months_of(pref, muni))
    if not month_list:
        sb.info(f"{muni}のデータはまだ登録されていません。", icon=":material/inbox:")
        return None
    dists, schools_by_district = districts_of(pref, muni)
    state.f_dists = [d for d in state.get("f_dists", []) if d in dists]
    chosen = sb.multiselect(
        "地区（空欄＝全域）", dists, key="f_dists", placeholder="全域", on_change=_remember, select_all=False
    )  # its "Select all" is English, and empty already means 全域
    schools = [s for d in (chosen or dists) for s in schools_by_district.get(d, [])]
    school_options = [ALL_SCHOOLS, *schools]
    state.f_school = _pick(state.get("f_school"), school_options, ALL_SCHOOLS)
    school = sb.selectbox("小学校区", school_options, key="f_school", on_change=_remember)
    mode = sb.radio(
        "期間", list(MODES), format_func=MODES.get, key="f_mode", horizontal=True, on_change=_remember
    )
    if mode == "fy":
        state.f_fy = _pick(state.get("f_fy"), fys, fys[0])
        fy = sb.selectbox("年度", fys, format_func=fiscal_year_label, key="f_fy", on_change=_remember)
        in_year = [m for m in month_list if fiscal_year_of(m) == fy]
        as_of, first = in_year[0], f"{fy}-04"
        month = as_of
    else:
        state.f_month = _pick(state.get("f_month"), month_list, month_list[0])
        month = sb.selectbox("月", month_list, format_func=month_label, key="f_month", on_change=_remember)
        fy, first, as_of = fiscal_year_of(month), month, month
    sb.button("全域・最新の月に戻す", on_click=_reset, args=(month_list[0],), icon=":material/restart_alt:")

    code = code_of(munis, pref, muni)
    params = {"code": code} if code else {"pref": pref, "muni": muni}
    if chosen:
        params["d"] = ",".join(chosen)
    if school != ALL_SCHOOLS:
        params["s"] = school
    params |= {"fy": str(fy)} if mode == "fy" else {"m": month}
    state["_filters_kept"] = {k: state[k] for k in KEYS if k in state}
    # per key, not from_dict: only what changed is written (from_dict clears the URL first)
    for key in ("code", "pref", "muni", "d", "s", "fy", "m"):
        if key not in params and key in st.query_params:
            del st.query_params[key]
    for key, value in params.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    return Filters(
        pref,
        muni,
        tuple(chosen),
        None if school == ALL_SCHOOLS else school,
        mode,
        fy,
        as_of,
        first,
        as_of,
        tuple(dists),
        code,
    )


def _months(months: pl.DataFrame) -> tuple[list[str], list[int]]:
    """(months newest first, their 年度 newest first)."""
    return months["month"].to_list(), months["fiscal_year"].unique(maintain_order=True).to_list()


def _remember() -> None:
    st.session_state["_filters_kept"] = {k: st.session_state[k] for k in KEYS if k in st.session_state}


def _reset(latest_month: str) -> None:
    st.session_state.f_dists = []
    st.session_state.f_school = ALL_SCHOOLS
    st.session_state.f_mode = "month"
    st.session_state.f_month = latest_month
    _remember()
