"""Resolve municipality / district / school district names against the `areas` table, and
check what `areas` says of each municipality (its 団体コード and 事業グループ).

Names are compared after NFKC and trimming, without a trailing 地区/学区/小学校区, and are
stored as `areas` spells them. Rows repeat the same few names, so each distinct
combination is resolved once in Python and joined back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache

import polars as pl

from tsunagu.contract import codes
from tsunagu.contract.parse import area_key, nfkc
from tsunagu.contract.schema import Dataset

NO_AREAS = (
    "圏域マスタ（areas）がまだ登録されていないため、市町村・地区・小学校区を確かめられません。"
    "先に圏域マスタのCSVを登録してください。"
)
_MISSING = "\x00"  # stands for an empty cell in join keys


# names repeat (a district per school district, a municipality per row, the same names in
# every upload): each distinct name is normalised once
_muni_key = lru_cache(maxsize=1 << 16)(nfkc)
_dist_key = lru_cache(maxsize=1 << 16)(area_key)


@lru_cache(maxsize=1 << 16)
def _school_key(name: str) -> str:
    return area_key(name, True)


def _pref_key(name: str) -> str:
    s = nfkc(name)
    return s[:-1] if len(s) > 2 and s[-1] in "都府県" else s


def _listing(names: list[str], limit: int = 30) -> str:
    shown = "、".join(names[:limit])
    return shown + (f" ほか{len(names) - limit}件" if len(names) > limit else "")


class AreaIndex:
    def __init__(self, areas: pl.DataFrame):
        self.munis: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.districts: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        self.schools: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
        self.school_homes: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for pref, muni, dist, school in areas.select(
            "prefecture", "municipality", "district", "school_district"
        ).iter_rows():
            pm = (pref, muni)
            same_name = self.munis[_muni_key(muni)]
            if pm not in same_name:
                same_name.append(pm)
            self.districts[pm].setdefault(_dist_key(dist), dist)
            school_key = _school_key(school)
            self.schools[(pref, muni, dist)].setdefault(school_key, school)
            self.school_homes[pm][school_key].append(dist)

    def resolve(
        self, pref_raw, muni_raw, dist_raw, school_raw, need_district: bool, has_school: bool
    ) -> tuple[tuple | None, list[tuple[str, str]]]:
        """-> ((prefecture, municipality, district, school), []) or (None, [(key, message)])."""
        if muni_raw is None:
            return None, []  # the required-value error is already reported
        candidates = self.munis.get(_muni_key(muni_raw), [])
        if pref_raw is not None:
            matching = [c for c in candidates if _pref_key(c[0]) == _pref_key(pref_raw)]
            if candidates and not matching:
                prefs = "、".join(c[0] for c in candidates)
                return None, [
                    (
                        "prefecture",
                        f"「{muni_raw}」は「{pref_raw}」の市町村として圏域マスタにありません"
                        f"（圏域マスタでは {prefs}）。",
                    )
                ]
            candidates = matching
        if not candidates:
            return None, [
                (
                    "municipality",
                    f"「{muni_raw}」は圏域マスタ（areas）にない市町村です。"
                    "市町村名を確かめるか、先に圏域マスタに追加してください。",
                )
            ]
        if len(candidates) > 1:
            prefs = "、".join(c[0] for c in candidates)
            return None, [
                (
                    "municipality",
                    f"「{muni_raw}」は複数の都道府県（{prefs}）にあります。"
                    "「都道府県」列を追加して、どちらか入力してください。",
                )
            ]
        pref, muni = candidates[0]
        if dist_raw is None:
            return ((pref, muni, None, None), []) if not need_district else (None, [])
        known = self.districts[(pref, muni)]
        dist = known.get(_dist_key(dist_raw))
        if dist is None:
            return None, [
                (
                    "district",
                    f"「{dist_raw}」は{muni}の地区にありません。使える地区: {_listing(list(known.values()))}",
                )
            ]
        if not has_school or school_raw is None:
            return (pref, muni, dist, None), []
        schools = self.schools[(pref, muni, dist)]
        school = schools.get(_school_key(school_raw))
        if school is None:
            homes = self.school_homes[(pref, muni)].get(_school_key(school_raw))
            if homes:
                where = "、".join(dict.fromkeys(homes))
                msg = (
                    f"「{school_raw}」は{where}地区の小学校区です（この行の地区は「{dist_raw}」）。"
                    "地区か小学校区を確かめてください。"
                )
            else:
                msg = (
                    f"「{school_raw}」は{muni}{dist}地区の小学校区にありません。"
                    f"使える小学校区: {_listing(list(schools.values()))}"
                )
            return None, [("school_district", msg)]
        return (pref, muni, dist, school), []


def resolve_areas(
    df: pl.DataFrame,
    ds: Dataset,
    areas: pl.DataFrame | None,
    header: Callable[[str], str],
    errs,
) -> pl.DataFrame:
    if areas is None or areas.height == 0:
        errs.add(None, None, NO_AREAS)
        return df
    has_school = "school_district" in ds.keys
    need_district = ds.column("district").required
    raw_cols = ["prefecture", "municipality", "district"] + (["school_district"] if has_school else [])
    keyed = df.with_columns([pl.col(c).fill_null(_MISSING).alias(f"_k_{c}") for c in raw_cols])
    index = AreaIndex(areas)
    k_cols = [f"_k_{c}" for c in raw_cols]
    # rows repeat a few hundred combinations: find them by a hash of the names rather than a
    # join on four text columns; every row is then checked exactly
    hashed = _combo_hash(keyed, k_cols)
    combos = keyed.select(k_cols).with_columns(hashed).unique(subset="_h", keep="first", maintain_order=True)
    out = _resolve_combos(combos, keyed, hashed, raw_cols, index, need_district, has_school, header, errs)
    if out is None:  # two combinations shared a hash: resolve them exactly instead
        combos = keyed.select(k_cols).unique(maintain_order=True)
        out = _resolve_combos(combos, keyed, None, raw_cols, index, need_district, has_school, header, errs)
    out = out.drop(k_cols + raw_cols)
    if not has_school:
        out = out.drop("_r_school_district")
    return out.rename({c: c[3:] for c in out.columns if c.startswith("_r_")})


def _combo_hash(keyed: pl.DataFrame, k_cols: list[str]) -> pl.Series:
    return keyed.select(pl.struct(k_cols).hash().alias("_h")).to_series()


def _resolve_combos(
    combos, keyed, hashed, raw_cols, index, need_district, has_school, header, errs
) -> pl.DataFrame | None:
    """Resolve each combination once and give every row its combination's names; None if
    `hashed` mapped a row to a combination that is not its own."""
    k_cols = [f"_k_{c}" for c in raw_cols]
    resolved: dict[str, list] = {f"_k_{c}": [] for c in raw_cols}
    resolved |= {f"_r_{c}": [] for c in ("prefecture", "municipality", "district", "school_district")}
    problems: dict[tuple, list[tuple[str, str]]] = {}
    for combo in combos.select(k_cols).iter_rows():
        raw = [None if v == _MISSING else v for v in combo]
        got, msgs = index.resolve(
            raw[0], raw[1], raw[2], raw[3] if has_school else None, need_district, has_school
        )
        if msgs:
            problems[combo] = msgs
        for c, v in zip(raw_cols, combo):
            resolved[f"_k_{c}"].append(v)
        for c, v in zip(
            ("prefecture", "municipality", "district", "school_district"), got or (None, None, None, None)
        ):
            resolved[f"_r_{c}"].append(v)
    table = pl.DataFrame(resolved, schema={k: pl.String for k in resolved})
    if hashed is None:
        out = keyed.join(table, on=k_cols, how="left", maintain_order="left")
    else:
        position = hashed.replace_strict(
            combos["_h"], pl.int_range(combos.height, eager=True), return_dtype=pl.UInt32
        )
        picked = table[position]
        if not all((picked[c] == keyed[c]).all() for c in k_cols):
            return None
        out = pl.concat([keyed, picked.drop(k_cols)], how="horizontal")
    if problems:
        for rec in keyed.select(["_row", *k_cols]).iter_rows():
            for key, msg in problems.get(tuple(rec[1:]), []):
                errs.add(rec[0], header(key), msg)
    return out


def unique_areas(df: pl.DataFrame, header: Callable[[str], str], errs) -> pl.DataFrame:
    """The areas table itself: one row per school district of a district of a municipality."""
    keyed = df.with_columns(
        pl.struct("prefecture", "municipality", "district", "school_district")
        .map_elements(
            lambda r: "|".join(
                [nfkc(r["prefecture"] or ""), nfkc(r["municipality"] or "")]
                + [area_key(r["district"] or ""), area_key(r["school_district"] or "", True)]
            ),
            return_dtype=pl.String,
        )
        .alias("_key")
    )
    dup = keyed.filter(pl.col("_key").is_duplicated())
    if dup.height:
        first = dup.group_by("_key").agg(pl.col("_row").min().alias("_first"))
        for r, f in (
            dup.join(first, on="_key")
            .filter(pl.col("_row") != pl.col("_first"))
            .sort("_row")
            .select("_row", "_first")
            .iter_rows()
        ):
            errs.add(
                r,
                header("school_district"),
                f"同じ市町村・地区・小学校区の行が{f}行目にもあります。1行にまとめてください。",
            )
    return df


def municipality_columns(
    df: pl.DataFrame, header: Callable[[str], str], errs, stored: pl.DataFrame | None = None
) -> pl.DataFrame:
    """団体コード and 事業グループ belong to a municipality, not to a row: one value per
    municipality (a blank cell takes the one its other rows give), and one municipality per
    code, in the file and among the municipalities already stored (`stored`: the live areas,
    whose municipalities this file does not cover keep their codes)."""
    cols = ("_row", "prefecture", "municipality", "municipality_code", "project_group")
    if df["municipality_code"].is_null().all() and df["project_group"].is_null().all():
        return df
    code_head, group_head = header("municipality_code"), header("project_group")
    rows = list(df.select(cols).iter_rows())
    keys = [(_pref_key(p or ""), _muni_key(m or "")) for _, p, m, _, _ in rows]
    taken: dict[str, tuple[str, str]] = {}  # code -> a stored municipality this file leaves alone
    if stored is not None and "municipality_code" in stored.columns:
        in_file = set(keys)
        for pref, muni, code in (
            stored.select("prefecture", "municipality", "municipality_code").drop_nulls().unique().iter_rows()
        ):
            if (_pref_key(pref), _muni_key(muni)) not in in_file:
                taken[code] = (pref, muni)
    parsed: dict[tuple[str, str | None], tuple[str | None, str | None]] = {}
    code_of: dict[tuple[str, str], tuple[str, int]] = {}  # municipality -> (code, first row giving it)
    owner: dict[str, tuple[tuple[str, str], int, str]] = {}  # code -> (municipality, row, its name)
    group_of: dict[tuple[str, str], tuple[str, str, int]] = {}  # municipality -> (key, value, row)
    for key, (row, pref, muni, raw, group) in zip(keys, rows):
        if muni is None:
            continue  # the required-value error is already reported
        if raw is not None:
            if (raw, pref) not in parsed:
                try:
                    parsed[(raw, pref)] = (codes.parse(raw, pref), None)
                except ValueError as e:
                    parsed[(raw, pref)] = (None, str(e))
            code, problem = parsed[(raw, pref)]
            if problem:
                errs.add(row, code_head, f"「{raw}」は{problem}")
            elif key in code_of and code_of[key][0] != code:
                first, at = code_of[key]
                errs.add(
                    row,
                    code_head,
                    f"「{raw}」は{at}行目の団体コード「{first}」と違います。{muni}の団体コードは1つにしてください。",
                )
            elif code in owner and owner[code][0] != key:
                _, at, name = owner[code]
                errs.add(
                    row,
                    code_head,
                    f"「{raw}」は{at}行目の{name}と同じ団体コードです。団体コードは市町村ごとに違います。"
                    "コードか市町村名を確かめてください。",
                )
            elif code in taken:
                errs.add(
                    row,
                    code_head,
                    f"「{raw}」は圏域マスタに登録済みの{''.join(taken[code])}の団体コードです。"
                    "団体コードは市町村ごとに違います。コードか市町村名を確かめてください。",
                )
            else:
                code_of.setdefault(key, (code, row))
                owner.setdefault(code, (key, row, f"{pref or ''}{muni}"))
        if group is not None:
            if key in group_of and group_of[key][0] != nfkc(group):
                _, first, at = group_of[key]
                errs.add(
                    row,
                    group_head,
                    f"「{group}」は{at}行目の事業グループ「{first}」と違います。"
                    f"{muni}の事業グループは1つにしてください。",
                )
            group_of.setdefault(key, (nfkc(group), group, row))
    return df.with_columns(
        pl.Series("municipality_code", [code_of.get(k, (None,))[0] for k in keys], dtype=pl.String),
        pl.Series("project_group", [group_of.get(k, (None, None))[1] for k in keys], dtype=pl.String),
    )
