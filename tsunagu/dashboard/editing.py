"""Edits in the browser (the 「編集」 tab of the places and pantry pages): one municipality's
month in a table editor, saved as the same upload a file would be.

The edited table becomes the CSV an upload would be (the contract's Japanese headers), so it
is checked by the same validate_upload, shows the same diff and is stored by the same ingest,
attributed to the signed-in user (file name 「ブラウザでの編集」), undoable from 履歴. The editor
keeps the versions it started from: when someone else saved the month meanwhile, the save is
refused (Store.commit's `expected`), the editor is shown what they changed, and their own
edits stay in the table; nothing is overwritten unless they choose to after seeing it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field

import polars as pl
import streamlit as st

from tsunagu.access import auth
from tsunagu.contract import fmt
from tsunagu.contract.issues import Issue, RefusedError
from tsunagu.contract.schema import AREA, BOOL, DATASETS, ENUM, INT, MONTH, NUMBER, Column
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import widgets
from tsunagu.dashboard.session import db, districts_of
from tsunagu.ingest.diff import Change, compare
from tsunagu.ingest.pipeline import ingest, validate_upload
from tsunagu.store.versions import ConflictError, Municipality, Store, StoreError, muni_key

FILE_NAME = "ブラウザでの編集"  # what the audit log and 履歴 show as the file

# grid order: what changes month to month first (a place's status, a site's counts), the
# fixed facts after; prefecture and municipality are the editor's, not the table's
GRID = {
    "places": (
        "place_id",
        "name",
        "status",
        "district",
        "school_district",
        "category",
        "subsidized",
        "sessions_per_month",
        "participants_avg",
        "participants_real",
        "participants_65plus",
        "participants_75plus",
        "main_activity",
        "published",
        "weekdays",
        "hours",
        "fee_yen",
        "contact",
        "venue_type",
        "operator_type",
        "target",
        "started_on",
        "lat",
        "lon",
    ),
    "pantry": (
        "pantry_id",
        "site_name",
        "households_served",
        "items_distributed",
        "consultations",
        "referrals",
        "new_donors",
        "donations",
        "district",
        "school_district",
        "supporter_type",
        "activity_type",
        "opened_on",
    ),
}
# a pantry month is counts of that month: a new month starts them blank, not at last month's
# figures (which would be saved as this month's if left) nor at 0 (a real figure: "no one came")
MONTHLY_COUNTS = {
    # who took part is the month's own count too (the national survey's 参加実人数)
    "places": ("participants_real", "participants_65plus", "participants_75plus"),
    "pantry": (
        "new_donors",
        "donations",
        "households_served",
        "items_distributed",
        "consultations",
        "referrals",
    ),
}


# --- the logic (no Streamlit) ---------------------------------------------------------------


@dataclass
class Start:
    """What an editor started from: the month's rows of one municipality (or, for a month not
    saved yet, its latest earlier month's), and the versions to give back when saving."""

    dataset: str
    place: Municipality
    month: str
    rows: pl.DataFrame  # stored columns
    expected: dict[str, str | None]
    from_month: str | None  # the month `rows` came from (None: nothing before)
    generation: int = 0  # a new editor widget (fresh edits) per start
    conflict: ConflictError | None = field(default=None, repr=False)

    @property
    def new(self) -> bool:
        return self.from_month != self.month


def month_choices(months: list[str], today: dt.date) -> list[str]:
    """The months an editor may open, newest first: the month after the latest saved one (a
    new month, unless it lies ahead of this one), then the saved ones."""
    if months:
        y, m = map(int, months[-1].split("-"))
        after = f"{y + m // 12}-{m % 12 + 1:02d}"
    else:  # nothing saved yet: last month, as the upload page offers
        after = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    ahead = after > today.strftime("%Y-%m")
    return ([] if ahead else [after]) + list(reversed(months))


def start(store: Store, dataset: str, place: Municipality, month: str, generation: int = 0) -> Start:
    """The rows and versions an editor of `month` starts from. (A save landing between the two
    reads gives a needless conflict at worst, never an overwrite.)"""
    expected = store.month_versions(dataset, month, [place])
    if expected[muni_key(*place)] is not None:
        rows, from_month = store.read_month(dataset, month, [place]), month
    else:
        rows, from_month = store.previous_rows(dataset, month, [place])
    if rows is None:
        rows = pl.DataFrame(schema=DATASETS[dataset].stored_schema)
    rows = DATASETS[dataset].conform(rows)  # a month stored before a column was added
    return Start(dataset, place, month, rows, expected, from_month, generation)


def grid(s: Start) -> pl.DataFrame:
    """The table the editor shows: Japanese headers, in GRID order; a new month's counts blank."""
    ds = DATASETS[s.dataset]
    blank = MONTHLY_COUNTS.get(s.dataset, ()) if s.new else ()
    return s.rows.select(
        (pl.lit(None, dtype=s.rows.schema[k]) if k in blank else pl.col(k)).alias(ds.column(k).header)
        for k in GRID[s.dataset]
    )


def _cell(col: Column, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if col.type == BOOL:
        return "はい" if value else "いいえ"
    if isinstance(value, float) and value.is_integer() and col.type == INT:
        return str(int(value))  # the editor hands integers back as floats once a cell is empty
    return str(value)


def to_csv(dataset: str, table: pl.DataFrame, place: Municipality) -> bytes:
    """The edited table as the file an upload would be: every column of the contract under
    its Japanese header, the editor's municipality on every row."""
    ds = DATASETS[dataset]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in ds.columns])
    fixed = {"prefecture": place[0], "municipality": place[1]}
    for row in table.iter_rows(named=True):
        writer.writerow([fixed[c.key] if c.key in fixed else _cell(c, row.get(c.header)) for c in ds.columns])
    return out.getvalue().encode("utf-8")


def _row_id(dataset: str, issue: Issue, table: pl.DataFrame) -> tuple[int | None, str | None]:
    """The table's row of an issue (the file's row less its header) and that row's ID."""
    header = DATASETS[dataset].columns[0].header
    n = issue.row - 1 if issue.row else None
    if n is None or not 0 < n <= table.height or header not in table.columns:
        return n, None
    return n, table[header][n - 1]


def located(dataset: str, issues: list[Issue], table: pl.DataFrame) -> pl.DataFrame:
    """Issues as the editor's rows: the table's row and the row's ID (to find it even in a
    sorted table), the column and what is wrong."""
    id_header = DATASETS[dataset].columns[0].header
    rows = []
    for i in issues:
        n, row_id = _row_id(dataset, i, table)
        rows.append({"行": n, id_header: row_id, "列": i.column or "", "内容": i.message})
    return pl.DataFrame(
        rows, schema={"行": pl.Int64, id_header: pl.String, "列": pl.String, "内容": pl.String}
    )


def said(dataset: str, issue: Issue, table: pl.DataFrame) -> str:
    """One issue in a sentence, by the table's row: 「表の3行目（TM-003）・「状態」列: …」."""
    n, row_id = _row_id(dataset, issue, table)
    where = []
    if n is not None:
        where.append(f"表の{n}行目" + (f"（{row_id}）" if row_id else ""))
    if issue.column:
        where.append(f"「{issue.column}」列")
    return f"{'・'.join(where)}: {issue.message}" if where else issue.message


# --- the screen -----------------------------------------------------------------------------


def can_edit(place: Municipality) -> bool:
    """Editors (and admins), for the municipalities of their scope."""
    user = auth.current_user()
    return bool(user and user.can("editor") and user.scope.covers(*place))


def _config(s: Start, table: pl.DataFrame) -> dict:
    ds = DATASETS[s.dataset]
    districts, schools = districts_of(*s.place)
    areas = {"district": districts, "school_district": [x for d in districts for x in schools.get(d, [])]}
    example = table[ds.columns[0].header].drop_nulls().head(1).to_list()
    config = {}
    for key in GRID[s.dataset]:
        col = ds.column(key)
        text = col.note or None
        if col.is_id:
            hint = f"（例: {example[0]}）" if example else ""
            text = f"新しい行には、ほかと重ならないIDを入れてください{hint}。"
        if col.type == ENUM:
            config[col.header] = st.column_config.SelectboxColumn(
                col.header, options=list(col.values), help=text, default="活動中" if key == "status" else None
            )
        elif col.type == AREA and areas.get(key):
            config[col.header] = st.column_config.SelectboxColumn(col.header, options=areas[key], help=text)
        elif col.type == BOOL:
            config[col.header] = st.column_config.CheckboxColumn(col.header, help=text, default=False)
        elif col.type == INT:
            config[col.header] = st.column_config.NumberColumn(
                col.header, help=text, min_value=0, step=1, format="%d"
            )
        elif col.type == NUMBER:
            step = 0.5 if key == "sessions_per_month" else 0.00001
            config[col.header] = st.column_config.NumberColumn(
                col.header, help=text, min_value=col.min, max_value=col.max, step=step
            )
        elif col.type == MONTH:
            config[col.header] = st.column_config.TextColumn(
                col.header, help="例: 2024-07、令和6年7月、R6.7（空欄も可）"
            )
        else:
            # the ID and the name stay in view while the other columns scroll
            config[col.header] = st.column_config.TextColumn(
                col.header, help=text, pinned=key in GRID[s.dataset][:2]
            )
    return config


def _edited(key: str) -> bool:
    state = st.session_state.get(key) or {}
    return bool(state.get("edited_rows") or state.get("added_rows") or state.get("deleted_rows"))


def _change_table(change: Change, before: str, key: str) -> None:
    """The same diff as the upload page: totals, then records added, removed and changed."""
    widgets.change_table(change, before, "保存後", key, "編集")


def _session(store: Store, dataset: str, place: Municipality, month: str) -> Start:
    """This user's editor of the month: kept across reruns; started again from the store when
    someone else saved meanwhile and nothing has been edited here yet."""
    name = f"_edit:{dataset}:{muni_key(*place)}:{month}"
    s = st.session_state.get(name)
    if s is None:
        s = st.session_state[name] = start(store, dataset, place, month)
    elif s.conflict is None and not _edited(_editor_key(s)):
        if store.month_versions(dataset, month, [place]) != s.expected:
            s = st.session_state[name] = start(store, dataset, place, month, s.generation + 1)
    return s


def _editor_key(s: Start) -> str:
    return f"edit-{s.dataset}-{muni_key(*s.place)}-{s.month}-{s.generation}"


def _restart(s: Start) -> None:
    st.session_state[f"_edit:{s.dataset}:{muni_key(*s.place)}:{s.month}"] = start(
        db().store, s.dataset, s.place, s.month, s.generation + 1
    )


def editor(dataset: str, place: Municipality) -> None:
    """The 「編集」 tab: pick a month, edit the table, see what it changes, save."""
    user = auth.current_user()
    if not can_edit(place):  # the page shows the tab only to these; checked here all the same
        st.error("この市町村のデータを編集する権限がありません。", icon=":material/block:")
        return
    store = db().store
    ds = DATASETS[dataset]
    done = st.session_state.pop(f"_edit_done:{dataset}", None)
    if done:
        st.success(done, icon=":material/check_circle:")
        st.caption("間違えたときは、管理者が「履歴・復元」でこの保存の前の版に戻せます。")

    months = store.months(dataset, municipality=place)
    choices = month_choices(months, dt.date.today())
    if dataset == "pantry" or not months:
        default = 0  # a month's counts are entered once the month is over: the new month
    else:
        default = choices.index(months[-1])
    month = st.selectbox(
        "編集する月",
        choices,
        index=default,
        format_func=lambda m: month_label(m) + ("" if m in months else "（新しい月）"),
        key=f"edit_month_{dataset}",
    )
    try:
        s = _session(store, dataset, place, month)
    except StoreError as e:  # a damaged stored month: said as on every page, with what to do
        st.error(fmt.plain(str(e)), icon=":material/broken_image:")
        return
    where = fmt.plain(place[1])
    if s.new and s.from_month:
        note = (
            f"{month_label(month)}はまだ保存されていません。{month_label(s.from_month)}の設置場所を並べました。"
            "数の列は空欄です。この月の数を入れてください（活動がなかったときは 0）。"
            if dataset == "pantry"
            else f"{month_label(month)}はまだ保存されていません。{month_label(s.from_month)}の一覧から始めます。"
        )
        st.info(f"{where}の{note}", icon=":material/edit_calendar:")
    elif s.new:
        st.info(f"{where}の{ds.label}はまだありません。下の表に行を追加してください。", icon=":material/add:")
    st.caption(
        f"表は{where}全体の{month_label(month)}です（左の地区の絞り込みは表には効きません）。"
        "セルをダブルクリックすると編集できます。行の追加は表の右上の「＋」、削除は行の左端を選んで"
        "ごみ箱のボタンです。保存するまで、ほかの人には見えません。"
    )
    if store.is_demo():
        st.caption("デモデータのフォルダです。編集はデモデータとして保存されます。")

    start_table = grid(s)
    key = _editor_key(s)
    table = st.data_editor(
        start_table,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        height=420,
        column_config=_config(s, start_table),
        placeholder="",  # an empty cell is one to fill in, not a value
        alt=f"{ds.label}の編集（{place[1]}、{month_label(month)}）",
    )
    edited = _edited(key)
    if st.button("編集をやめて、いま保存されている内容に戻す", icon=":material/undo:", disabled=not edited):
        _restart(s)
        st.rerun()

    if s.conflict is not None:
        _conflict(store, s, table)
    if not edited and not s.new:
        st.caption("表を変更すると、ここに確認の結果と変わる内容が出ます。")
        return
    content = to_csv(dataset, table, place)
    try:
        result = validate_upload(content, dataset, month, store, user.scope, place)
    except (RefusedError, StoreError) as e:
        issues = e.issues if isinstance(e, RefusedError) else [Issue(None, None, str(e))]
        errors = [i for i in issues if i.level == "error"]
        st.error(
            f"このままでは保存できません。直すところが {len(errors):,} 件あります（まだ何も保存していません）。",
            icon=":material/error:",
        )
        st.dataframe(
            located(dataset, errors, table), hide_index=True, width="stretch", placeholder=widgets.EMPTY_CELL
        )
        st.caption("「行」は表の上から数えた行です（列見出しで並べ替えたときは、IDで探してください）。")
        for w in (i for i in issues if i.level != "error"):
            st.warning(fmt.plain(said(dataset, w, table)), icon=":material/warning:")
        return
    for w in result.warnings:
        st.warning(fmt.plain(said(dataset, w, table)), icon=":material/warning:")
    if not s.new:
        before, heading = "いま", "（いま保存されている版との比較）"
    elif s.from_month:  # a new month: against the month it started from
        before = month_label(s.from_month).split("（")[0]
        heading = f"（{before}との比較）"
    else:
        before, heading = "いま", "（この月の最初の保存です）"
    st.markdown(f"### 保存すると変わる内容{heading}")
    _change_table(compare(dataset, s.rows if s.from_month else None, result.frame), before, key)

    expected = s.expected
    label = "保存する"
    if s.conflict is not None:
        if not st.checkbox("上のほかの人の変更を確認しました。この表の内容で上書きします", key=f"{key}-over"):
            return
        expected, label = s.conflict.current, "上書きして保存する"
    if st.button(label, type="primary", icon=":material/save:", key=f"{key}-save"):
        outcome = ingest(
            content,
            dataset,
            month,
            store,
            user=user.username,
            file_name=FILE_NAME,
            demo=store.is_demo(),  # an edit of the demo's rows is demo data still
            scope=user.scope,
            municipality=place,
            expected=expected,
        )
        if outcome.ok:
            st.session_state[f"_edit_done:{dataset}"] = outcome.summary
            _restart(s)
            st.rerun()
        if outcome.conflict is not None:
            s.conflict = outcome.conflict
            st.rerun()  # drawn above the diff, with the overwrite choice
        st.error(outcome.summary, icon=":material/error:")
        for e in outcome.errors:
            st.text(said(dataset, e, table))  # cell values: shown as they are, never as Markdown


def _conflict(store: Store, s: Start, table: pl.DataFrame) -> None:
    """What someone else saved since this editor started, and the two ways on."""
    st.error(fmt.plain(str(s.conflict)), icon=":material/sync_problem:")
    try:
        now = store.read_month(s.dataset, s.month, [s.place])
    except StoreError as e:
        st.warning(fmt.plain(str(e)), icon=":material/broken_image:")
        now = None
    if now is not None:  # against what this editor started from (for a new month: last month's)
        st.markdown("#### 編集を始めた後に、ほかの人が変えた内容")
        _change_table(
            compare(s.dataset, s.rows if s.rows.height else None, now), "編集を始めたとき", "theirs"
        )
    st.caption(
        "あなたの変更は、まだ上の表に残っています。最新の内容に自分の変更を入れ直すか、"
        "ほかの人の変更を確認したうえで、この表の内容で上書きしてください。"
    )
    if st.button("最新の内容から編集し直す（この表の変更は消えます）", icon=":material/refresh:"):
        _restart(s)
        st.rerun()
