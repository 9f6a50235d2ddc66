"""Check a raw table against the contract and turn it into typed, stored columns.

Every problem in the file is collected before anything is decided, so a coordinator gets
the whole list at once. Parsing runs once per distinct value of a column (dates, enums and
districts repeat a lot), and plain numbers take a vectorised fast path, so a large file
stays fast.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import polars as pl

from tsunagu.contract import parse, weekdays
from tsunagu.contract.issues import Issue, RefusedError
from tsunagu.contract.schema import (
    BOOL,
    DATASETS,
    DATE,
    ENUM,
    INT,
    MONTH,
    NUMBER,
    POLARS_TYPES,
    TEXT,
    Column,
    Dataset,
)
from tsunagu.contract.scope import EVERYWHERE, Scope
from tsunagu.contract.wareki import month_label
from tsunagu.ingest.read import RawTable

MAX_ISSUES = 5000  # beyond this the list stops helping anyone; the count is still given


@dataclass
class Validated:
    frame: pl.DataFrame  # stored columns, typed; no month column (the folder holds it)
    warnings: list[Issue] = field(default_factory=list)
    source_rows: int = 0
    municipalities: list[tuple[str, str]] = field(default_factory=list)  # what the upload replaces
    sheet: str | None = None  # the workbook's sheet that was read
    sheets: list[str] = field(default_factory=list)  # its visible sheets, for the page's picker


class _Collector:
    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.dropped = 0
        # (row, column) of cells already refused as formula errors: not "blank" as well
        self.formula_errors: set[tuple[int, str]] = set()

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) < MAX_ISSUES:
            self.errors.append(Issue(row, column, message))
        else:
            self.dropped += 1

    def raise_if_any(self, extra: list[Issue] | None = None) -> None:
        if not self.errors:
            return
        issues = list(self.errors) + (extra or [])
        if self.dropped:
            issues.append(
                Issue(
                    None,
                    None,
                    f"ほかに {self.dropped:,} 件のエラーがあります。"
                    "上のエラーを直してから、もう一度アップロードしてください。",
                )
            )
        raise RefusedError(issues)


_header_key = parse.header_key


def _header_loose(text: str) -> str:
    # 「人口（人）」 and 「開催頻度」 still find 「人口」 and 「開催頻度（回/月）」
    return re.sub(r"\(.*?\)", "", _header_key(text))


WAREKI_SUFFIX = "（和暦）"  # a display-only column beside a date in the project's own workbooks


def _names(ds: Dataset) -> tuple[dict[str, str], dict[str, str]]:
    return _names_of(ds.name)


@functools.cache
def _names_of(dataset: str) -> tuple[dict[str, str], dict[str, str]]:
    """A dataset's headers and keys as compared (once per process: column_of runs per cell
    of the first rows while the header is looked for)."""
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for col in DATASETS[dataset].columns:
        for name in (col.header, col.key):
            exact[_header_key(name)] = col.key
            loose.setdefault(_header_loose(name), col.key)
    return exact, loose


def column_of(head: str, ds: Dataset, mapping: dict[str, str | None] | None = None) -> str | None:
    """The contract key a file's header means; "" for a column to leave out (mapped to
    「使わない」, or a 和暦 display column); None when unknown."""
    exact, loose = _names(ds)
    if mapping:
        # a saved mapping names headers as parse.header_key spells them (「サロン名 」 = 「サロン名」)
        mapping = {_header_key(k): v for k, v in mapping.items()}
        if _header_key(head) in mapping:
            return mapping[_header_key(head)] or ""
    # before the loose match, which drops (…) and would take 「開始年月（和暦）」 for 開始年月
    if parse.nfkc(head).endswith(parse.nfkc(WAREKI_SUFFIX)):
        base = exact.get(_header_key(parse.nfkc(head)[: -len(parse.nfkc(WAREKI_SUFFIX))]))
        if base is not None and ds.column(base).type in (DATE, MONTH):
            return ""
    return exact.get(_header_key(head)) or loose.get(_header_loose(head))


def recogniser(ds: Dataset, mapping: dict[str, str | None] | None = None):
    """For read.find_header: does a row hold every required column, and how many names it knows."""
    required = {c.key for c in ds.columns if c.required}

    def recognise(values: list[str | None]) -> tuple[bool, int]:
        keys = {column_of(v, ds, mapping) for v in values if v is not None} - {None, ""}
        return required <= keys, len(keys)

    return recognise


def map_headers(
    raw: RawTable, ds: Dataset, errs: _Collector, mapping: dict[str, str | None] | None = None
) -> dict[str, int]:
    """column key -> index into raw.header; unknown, duplicate and missing columns are errors.
    `mapping`: the municipality's saved names for its own headers (「サロン名」 -> name)."""
    found: dict[str, int] = {}
    allowed = "、".join(c.header for c in ds.columns)
    where = f"見出し行（{raw.header_row}行目）"
    if not any(column_of(h, ds, mapping) is not None for h in raw.header) and not _looks_like_header(
        raw.header
    ):
        required = "」「".join(c.header for c in ds.columns if c.required)
        others = [s for s in raw.sheets if s != raw.sheet]
        hint = (
            f"データが別のシートにあるときは、シートを選んでください（ほかのシート: {'、'.join(others)}）。"
            if others
            else ""
        )
        errs.add(
            None,
            None,
            f"見出し行が見つかりません。最初の10行のどこかに、「{required}」などの列名を並べた行を入れてください。{hint}",
        )
        return found
    for i, head in enumerate(raw.header):
        key = column_of(head, ds, mapping)
        if key == "":
            continue  # left out on purpose
        if key is None:
            errs.add(
                raw.header_row,
                head,
                f"「{ds.label}」にない列です。列名を直すか、アップロード画面で使う列を選んでください。使える列: {allowed}",
            )
        elif key in found:
            first = found[key]
            errs.add(
                raw.header_row,
                head,
                f"同じ列が2回あります（{raw.letters[first]}列と{raw.letters[i]}列）。1つにしてください。",
            )
        else:
            found[key] = i
    for col in ds.columns:
        if col.required and col.key not in found:
            errs.add(
                raw.header_row,
                col.header,
                f"必須の列「{col.header}」がありません。{where}に「{col.header}」の列を追加してください。",
            )
    return found


def _looks_like_header(cells: list[str]) -> bool:
    """Column names of the council's own (to be mapped), not a title line or a row of numbers."""
    words = [c for c in cells if not re.fullmatch(r"[-+0-9.,:/ 年月日]+", parse.nfkc(c))]
    return len(cells) >= 3 and len(words) * 2 > len(cells)


def error_cells(raw: RawTable, found: dict[str, int], errs: _Collector) -> None:
    """Formula errors (#REF!, #DIV/0!) in the columns this upload uses: a blank would hide them."""
    used = {raw.letters[i]: raw.header[i] for i in found.values()}
    from tsunagu.ingest.read import column_letter

    for row, index, text in raw.error_cells:
        head = used.get(column_letter(index))
        if head is not None:
            errs.formula_errors.add((row, head))
            errs.add(
                row,
                head,
                f"数式のエラー「{text}」になっています。数式を直すか、値を入力してから保存し直してください。",
            )


def locate(issues: list[Issue], raw: RawTable) -> list[Issue]:
    """Each issue with its sheet and column letter, as Excel shows them."""
    out = []
    for i in issues:
        letter = i.letter or (raw.letter_of(i.column) if i.column else None)
        out.append(replace(i, sheet=i.sheet or raw.sheet, letter=letter))
    return out


def _map_unique(
    s: pl.Series,
    fn: Callable[[str], object],
    dtype: pl.DataType,
    only: pl.Series | None = None,
) -> tuple[pl.Series, dict[str, str]]:
    """Apply fn to each distinct value (of `only`, if given); returns the mapped series
    and value -> error message."""
    good: dict[str, object] = {}
    bad: dict[str, str] = {}
    for value in (s if only is None else only).drop_nulls().unique().to_list():
        try:
            good[value] = fn(value)
        except ValueError as e:
            bad[value] = str(e)
    if good and not bad and dtype == pl.String and all(k == v for k, v in good.items()):
        out = s  # every value is already as stored (the usual enum column): nothing to map
    elif good:
        out = s.replace_strict(good, default=None, return_dtype=dtype)
    else:
        out = pl.Series(s.name, [None] * len(s), dtype=dtype)
    return out, bad


_INT_FAST = r"^-?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)$"  # ASCII only: Rust's \d matches full-width digits
_NUM_FAST = r"^-?[0-9]+(\.[0-9]+)?$"


def _parse_numeric(s: pl.Series, col: Column) -> tuple[pl.Series, dict[str, str]]:
    dtype = POLARS_TYPES[col.type]
    if col.type == INT:
        # plain integers ("12", "-3", "+5", "007") cast directly, to the value parse_int
        # gives; only the rest ("1,200", "１２", "12.0", "△3", errors) needs a closer look
        direct = s.cast(dtype, strict=False)
        if direct.null_count() == s.null_count():
            return direct.alias(col.key), {}
    pattern = _INT_FAST if col.type == INT else _NUM_FAST
    fast_ok = s.str.contains(pattern).fill_null(False)
    # only an integer's fast form has thousands separators
    fast = (s.str.replace_all(",", "", literal=True) if col.type == INT else s).cast(dtype, strict=False)
    slow_values = s.filter(~fast_ok & s.is_not_null())
    if slow_values.len() == 0:
        return fast.alias(col.key), {}
    fn = parse.parse_int if col.type == INT else parse.parse_number
    slow, bad = _map_unique(s, fn, dtype, only=slow_values)
    combined = pl.select(pl.when(fast_ok).then(fast).otherwise(slow)).to_series()
    return combined.alias(col.key), bad


def _enum_parser(col: Column) -> Callable[[str], str]:
    canon = {parse.enum_key(v): v for v in col.values}
    allowed = "、".join(col.values)

    def fn(value: str) -> str:
        try:
            return canon[parse.enum_key(value)]
        except KeyError:
            raise ValueError(f"選べる値ではありません。次のどれかにしてください: {allowed}") from None

    return fn


def _id_values(s: pl.Series) -> pl.Series:
    # NFKC is the identity on printable ASCII, so only the rest goes through Python
    ascii_ok = s.str.contains(r"^[\x20-\x7e]*$").fill_null(True)
    if ascii_ok.all():
        return s
    others = s.filter(~ascii_ok).unique()
    lookup = {v: parse.nfkc(v) for v in others.to_list()}
    mapped = s.replace_strict(lookup, default=None, return_dtype=pl.String)
    return pl.select(pl.when(ascii_ok).then(s).otherwise(mapped)).to_series()


def _range_message(col: Column) -> str | None:
    if col.min is None and col.max is None:
        return None
    noun = "整数" if col.type == INT else "数値"
    lo = "" if col.min is None else f"{col.min:g}{'より大きく' if col.min_exclusive else '以上'}"
    hi = "" if col.max is None else f"{col.max:g}以下"
    return f"{lo}{hi}の{noun}で入力してください"


def _noting(fn: Callable[[str], tuple[object, str | None]], notes: dict[str, str]) -> Callable[[str], object]:
    """A parser giving (value, note) as one giving the value; notes collect in `notes`."""

    def parse_one(value: str) -> object:
        parsed, note = fn(value)
        if note:
            notes[value] = note
        return parsed

    return parse_one


def parse_columns(
    raw: RawTable,
    ds: Dataset,
    found: dict[str, int],
    errs: _Collector,
    warnings: list[Issue] | None = None,
) -> pl.DataFrame:
    rows = raw.data["_row"]
    out: dict[str, pl.Series] = {"_row": rows}
    for col in ds.columns:
        dtype = POLARS_TYPES[col.type]
        if col.key not in found:
            out[col.key] = pl.Series(col.key, [col.default] * raw.data.height, dtype=dtype)
            continue
        idx = found[col.key]
        head = raw.header[idx]
        s = raw.data[str(raw.data.columns[idx])]
        if col.required:
            for r in rows.filter(s.is_null()).to_list():
                if (r, head) not in errs.formula_errors:
                    errs.add(r, head, "値が空です。この列は必須です。")
        bad: dict[str, str] = {}
        notes: dict[str, str] = {}  # value -> warning (平成31年5月 read as 令和元年5月)
        if col.type in (INT, NUMBER) and (col.unit or col.words):
            parsed, bad = _parse_worded(s, col)
        elif col.type in (INT, NUMBER):
            parsed, bad = _parse_numeric(s, col)
        elif col.type == ENUM:
            parsed, bad = _map_unique(s, _enum_parser(col), dtype)
        elif col.type == BOOL:
            parsed, bad = _map_unique(s, parse.parse_bool, dtype)
        elif col.type == MONTH:
            parsed, bad = _map_unique(s, _noting(parse.month_and_note, notes), dtype)
        elif col.type == DATE:
            parsed, bad = _map_unique(s, _noting(parse.date_and_note, notes), dtype)
        elif col.type == TEXT and col.is_id:
            parsed = _id_values(s)
        else:  # TEXT and AREA stay as typed; areas are resolved later
            parsed = s
        if bad:
            hit = s.is_in(list(bad))
            for r, v in zip(rows.filter(hit).to_list(), s.filter(hit).to_list()):
                errs.add(r, head, f"「{v}」は{bad[v]}")
        if notes and warnings is not None:
            hit = s.is_in(list(notes))
            for r, v in zip(rows.filter(hit).to_list(), s.filter(hit).to_list()):
                warnings.append(Issue(r, head, f"「{v}」は{notes[v]}", "warning"))
        msg = _range_message(col)
        if msg is not None and col.type in (INT, NUMBER):
            too_low = (parsed <= col.min) if col.min_exclusive else (parsed < col.min)
            out_of_range = too_low.fill_null(False)
            if col.max is not None:
                out_of_range = out_of_range | (parsed > col.max).fill_null(False)
            for r, v in zip(rows.filter(out_of_range).to_list(), s.filter(out_of_range).to_list()):
                errs.add(r, head, f"「{v}」は範囲外です。{msg}")
        if col.default is not None:
            parsed = parsed.fill_null(col.default)
        out[col.key] = parsed.alias(col.key)
        if col.key == "weekdays":
            _weekday_warnings(rows, s, head, warnings)
    return pl.DataFrame(out)


def _parse_worded(s: pl.Series, col: Column) -> tuple[pl.Series, dict[str, str]]:
    """A number that may carry its unit or be a word (参加費: 「300円」, 「無料」 = 0); what is
    refused is named as typed, with the column's own example."""
    words = {parse.enum_key(w): str(v) for w, v in col.words}

    def plain(value: str) -> str:
        key = parse.enum_key(value)
        if key in words:
            return words[key]
        return key.removesuffix(col.unit).lstrip("¥\\") if col.unit == "円" else key.removesuffix(col.unit)

    distinct = s.drop_nulls().unique().to_list()
    prepared = {v: plain(v) for v in distinct}
    parsed, bad = _parse_numeric(s.replace_strict(prepared, default=None, return_dtype=pl.String), col)
    refused = {v: col.expected or bad[p] for v, p in prepared.items() if p in bad}
    return parsed, refused


def _weekday_warnings(rows: pl.Series, s: pl.Series, head: str, warnings: list[Issue] | None) -> None:
    """開催曜日 is free text, but one naming no weekday (and no day of the month) is never found
    by the public guide's weekday search: said, not refused."""
    if warnings is None:
        return
    unread = {
        v
        for v in s.drop_nulls().unique().to_list()
        if not weekdays.weekdays(v) and not re.search(r"[0-9０-９一二三四五六七八九十]\s*日", v)
    }
    if not unread:
        return
    hit = s.is_in(list(unread))
    for r, v in zip(rows.filter(hit).to_list(), s.filter(hit).to_list()):
        warnings.append(
            Issue(
                r,
                head,
                f"「{v}」からは曜日を読み取れません。公開ページの曜日での検索には出てきません"
                "（このままでも登録できます。例: 毎週火曜、第1・第3木曜、月・水・金、平日）。",
                "warning",
            )
        )


def _header_of(raw: RawTable, ds: Dataset, found: dict[str, int], key: str) -> str:
    return raw.header[found[key]] if key in found else ds.column(key).header


def check_unique(df: pl.DataFrame, key: str, head: str, errs: _Collector) -> None:
    ids = df[key].drop_nulls().sort()  # sorted, a repeat sits next to itself
    if ids.len() < 2 or not (ids.slice(1) == ids.slice(0, ids.len() - 1)).any():
        return  # the usual case; sorting was ~30x faster than is_duplicated on 1 M read IDs
    dup = df.filter(pl.col(key).is_not_null() & pl.col(key).is_duplicated())
    if dup.height == 0:
        return
    first = dup.group_by(key).agg(pl.col("_row").min().alias("_first"))
    dup = dup.join(first, on=key).filter(pl.col("_row") != pl.col("_first")).sort("_row")
    for r, v, f in dup.select("_row", key, "_first").iter_rows():
        errs.add(
            r, head, f"「{v}」が重複しています（{f}行目と同じ）。IDはファイルの中で1回ずつにしてください。"
        )


def row_rules(
    df: pl.DataFrame,
    ds: Dataset,
    month: str,
    header: Callable[[str], str],
    errs: _Collector,
    warnings: list[Issue],
) -> None:
    def each(mask: pl.Expr, key: str, message: Callable[[dict], str], level="error") -> None:
        for rec in df.filter(mask.fill_null(False)).iter_rows(named=True):
            if level == "error":
                errs.add(rec["_row"], header(key), message(rec))
            else:
                warnings.append(Issue(rec["_row"], header(key), message(rec), "warning"))

    if ds.name == "areas":
        each(
            pl.col("population_65plus") > pl.col("population"),
            "population_65plus",
            lambda r: (
                f"「{r['population_65plus']:,}」は人口（{r['population']:,}）より多くなっています。"
                "人口以下の整数で入力してください。"
            ),
        )
    for key in ("started_on", "opened_on"):  # 開始年月, 設置年月
        if key in ds.keys:
            each(
                pl.col(key) > month,
                key,
                lambda r, key=key: (
                    f"{month_label(r[key])}はアップロードする月（{month_label(month)}）より後です。"
                    "これから始まる予定なら、このままで構いません。"
                ),
                level="warning",
            )
    if ds.name == "places":
        each(
            pl.col("lat").is_null() != pl.col("lon").is_null(),
            "lat",
            lambda r: "緯度と経度は両方入力するか、両方空欄にしてください。",
        )
        # 0 ≤ うち75歳以上 ≤ うち65歳以上 ≤ 参加実人数 (the minimum is the columns' own rule)
        for part, whole in (
            ("participants_65plus", "participants_real"),
            ("participants_75plus", "participants_65plus"),
        ):
            part_name, whole_name = ds.column(part).header, ds.column(whole).header
            each(
                pl.col(part) > pl.col(whole),
                part,
                lambda r, part=part, whole=whole, whole_name=whole_name: (
                    f"「{r[part]:,}」は{whole_name}（{r[whole]:,}）より多くなっています。"
                    f"{whole_name}以下の整数で入力してください。"
                ),
            )
            each(
                pl.col(part).is_not_null() & pl.col(whole).is_null(),
                part,
                lambda r, part_name=part_name, whole_name=whole_name: (
                    f"{whole_name}が空欄です。{part_name}を入れるときは{whole_name}も入れてください。"
                ),
            )
    if ds.name == "pantry":
        each(
            pl.col("referrals") > pl.col("consultations"),
            "referrals",
            lambda r: (
                f"つなぎ件数（{r['referrals']:,}）が相談件数（{r['consultations']:,}）より多くなっています。"
                "誤りでなければこのままで構いません。"
            ),
            level="warning",
        )
    if ds.name == "forums":
        each(
            pl.col("held_on").dt.strftime("%Y-%m") != month,
            "held_on",
            lambda r: (
                f"「{r['held_on']:%Y-%m-%d}」はアップロードする月（{month_label(month)}）の日付ではありません。"
                f"{month} の日付にするか、月の指定を確かめてください。"
            ),
        )
        total = pl.col("attendees_onsite") + pl.col("attendees_online")
        each(
            pl.col("survey_responses") > total,
            "survey_responses",
            lambda r: (
                f"「{r['survey_responses']:,}」は参加者数の合計（{r['attendees_onsite'] + r['attendees_online']:,}）"
                "より多くなっています。参加者数以下にしてください。"
            ),
        )
        each(
            pl.col("survey_positive") > pl.col("survey_responses"),
            "survey_positive",
            lambda r: (
                f"「{r['survey_positive']:,}」はアンケート回答数（{r['survey_responses']:,}）より多くなっています。"
                "回答数以下にしてください。"
            ),
        )
        each(
            pl.col("survey_positive").is_not_null() & pl.col("survey_responses").is_null(),
            "survey_positive",
            lambda r: "アンケート回答数が空欄です。肯定的回答数を入れるときは回答数も入れてください。",
        )


def validate(
    raw: RawTable,
    ds: Dataset,
    month: str,
    areas: pl.DataFrame | None,
    previous: pl.DataFrame | None = None,
    previous_month: str | None = None,
    scope: Scope = EVERYWHERE,
    municipality: tuple[str, str] | None = None,
    mapping: dict[str, str | None] | None = None,
) -> Validated:
    """The whole check (see _validate); every issue names its sheet and column letter."""
    try:
        result = _validate(raw, ds, month, areas, previous, previous_month, scope, municipality, mapping)
    except RefusedError as e:
        raise RefusedError(locate(e.issues, raw)) from None
    result.warnings = locate(result.warnings, raw)
    result.sheet, result.sheets = raw.sheet, raw.sheets
    return result


def _validate(
    raw: RawTable,
    ds: Dataset,
    month: str,
    areas: pl.DataFrame | None,
    previous: pl.DataFrame | None,
    previous_month: str | None,
    scope: Scope,
    municipality: tuple[str, str] | None,
    mapping: dict[str, str | None] | None,
) -> Validated:
    """The whole check. Raises RefusedError with every error (and the warnings) at once.
    `areas`: the live areas, which validate the rows of the other datasets; for an areas
    upload, the codes of the municipalities it leaves alone (two may not share one).
    `scope`: whose rows the uploader may write; `municipality`: the one chosen on upload
    (every row must be its; a file with no rows is its month)."""
    from tsunagu.ingest.areas import municipality_columns, resolve_areas, unique_areas

    errs = _Collector()
    warnings: list[Issue] = []
    found = map_headers(raw, ds, errs, mapping)
    errs.raise_if_any()  # without the right columns, row checks would only repeat the point
    error_cells(raw, found, errs)

    if raw.data.height == 0:
        if ds.allow_empty and municipality is None:
            errs.add(
                None,
                None,
                "行事が0件のファイルです。どの市町村の月かを選んでください"
                "（コマンドでは --municipality 市町村名）。",
            )
            errs.raise_if_any()
        if ds.allow_empty:
            warnings.append(
                Issue(
                    None,
                    None,
                    "行事が0件のファイルです。この月は開催がなかったものとして登録します。",
                    "warning",
                )
            )
            return Validated(pl.DataFrame(schema=ds.stored_schema), warnings, 0)
        errs.add(
            None, None, "見出し行だけで、データの行がありません。データを入れてからアップロードしてください。"
        )
        errs.raise_if_any()

    df = parse_columns(raw, ds, found, errs, warnings)

    def header(key: str) -> str:
        return _header_of(raw, ds, found, key)

    for col in ds.columns:
        if col.unique:
            check_unique(df, col.key, header(col.key), errs)
    row_rules(df, ds, month, header, errs, warnings)

    if ds.has_areas and municipality is not None and "prefecture" in df.columns:
        # the municipality chosen on upload says which 府中市 a row without 都道府県 means
        same = pl.col("municipality").map_elements(parse.nfkc, return_dtype=pl.String) == parse.nfkc(
            municipality[1]
        )
        df = df.with_columns(
            pl.when(pl.col("prefecture").is_null() & same)
            .then(pl.lit(municipality[0]))
            .otherwise(pl.col("prefecture"))
            .alias("prefecture")
        )
    if ds.has_areas:
        df = resolve_areas(df, ds, areas, header, errs)
    else:
        df = unique_areas(df, header, errs)
        df = municipality_columns(df, header, errs, stored=areas)

    check_scope(df, ds, header, errs, scope, municipality)

    if ds.name == "places" and previous is not None and not errs.errors:
        warnings.extend(vanished_places(df, previous, previous_month or ""))

    errs.raise_if_any(warnings)
    frame = df.select([pl.col(c.key).cast(POLARS_TYPES[c.type]) for c in ds.columns])
    return Validated(frame, warnings, df.height)


def check_scope(df, ds: Dataset, header, errs, scope: Scope, municipality) -> None:
    """Rows of a municipality the uploader may not write, or other than the one chosen."""
    if (scope.everywhere and municipality is None) or "municipality" not in df.columns:
        return
    same = (
        (lambda a, b: parse.nfkc(a or "") == parse.nfkc(b or ""))
        if not ds.has_areas
        else (lambda a, b: a == b)
    )

    def mine(pref, muni) -> bool:
        if municipality is not None:
            return same(muni, municipality[1]) and (pref is None or same(pref, municipality[0]))
        if scope.prefecture is not None:
            return same(pref, scope.prefecture)
        return any(same(muni, m) and (pref is None or same(pref, p)) for p, m in scope.municipalities)

    allowed = municipality[1] if municipality is not None else scope.label
    for row, pref, muni in df.select("_row", "prefecture", "municipality").iter_rows():
        if muni is not None and not mine(pref, muni):
            errs.add(
                row,
                header("municipality"),
                f"「{muni}」の行は登録できません。このアップロードで登録できるのは {allowed} の行だけです。",
            )


def vanished_places(df: pl.DataFrame, previous: pl.DataFrame, previous_month: str) -> list[Issue]:
    """Places listed last month (and not ended) that this month's list leaves out — of the
    municipalities this list covers (the others' lists are theirs to upload)."""
    previous = previous.join(
        df.select("prefecture", "municipality").unique(), on=["prefecture", "municipality"], how="semi"
    )
    gone = (
        previous.filter(pl.col("status") != "終了")
        .join(df.select("place_id"), on="place_id", how="anti")
        .sort("place_id")
    )
    label = month_label(previous_month) if previous_month else "前回"
    return [
        Issue(
            None,
            "通いの場ID",
            f"{label}の一覧にあった「{pid}（{name}）」がありません。活動をやめた場合は、"
            "状態を「終了」にした行を1か月残すと、いつ終わったかが記録に残ります。",
            "warning",
        )
        for pid, name in previous.select("place_id", "name")
        .join(gone.select("place_id"), on="place_id")
        .sort("place_id")
        .iter_rows()
    ]
