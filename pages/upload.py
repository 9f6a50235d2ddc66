"""データ更新 (editor): check a month's CSV or workbook, map its own column names, see what it will
change, then commit it. School-district boundaries come as a GeoJSON or a zipped Shapefile:
pick the property holding the school's name if need be, see which school districts matched,
commit."""

import datetime as dt
import hashlib

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.issues import Issue, RefusedError
from tsunagu.contract.labels import COLUMNS
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.scope import EVERYWHERE
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import gate, header, session, uploads, widgets
from tsunagu.ingest.diff import compare
from tsunagu.ingest.geo import MAX_FILE_BYTES
from tsunagu.ingest.pipeline import describe_boundaries, file_columns, ingest, mapping_for, validate_upload
from tsunagu.ingest.read import workbook_sheets
from tsunagu.ingest.template import template_csv
from tsunagu.ingest.workbook import edit_workbook, template_workbook
from tsunagu.store import mappings
from tsunagu.store.versions import StoreError, covered, muni_key

MAX_MB = 20
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

user = gate.require("editor")
header.page_header("データ更新", role="editor", with_filters=False)
store = session.db().store
if store.is_demo():
    st.warning(
        "いまはデモデータのフォルダを表示しています。ここに実データは登録できません（混ざらないよう拒否します）。"
        "実データ用のフォルダで起動してください（README の「データフォルダ」）。",
        icon=":material/science:",
    )

today = dt.date.today()
last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
months = [
    f"{y}-{m:02d}"
    for y in range(today.year + 1, 2015, -1)
    for m in range(12, 0, -1)
    if f"{y}-{m:02d}" <= today.strftime("%Y-%m")
]
scope = getattr(user, "scope", EVERYWHERE)
try:
    known = covered(store.current_areas() if store.months("areas") else pl.DataFrame())
except StoreError:
    known = store.municipalities()
mine = scope.within(known)
FROM_ROWS = None  # the file's rows say which municipalities (a prefecture's combined file)
c0, c1, c2 = st.columns(3)
if scope.everywhere or scope.prefecture:
    # a combined file may cover several: each is replaced, the others are untouched
    choices = [FROM_ROWS, *mine]
else:
    choices = mine or [FROM_ROWS]
municipality = c0.selectbox(
    "市町村",
    choices,
    format_func=lambda m: "ファイルの行のとおり（複数の市町村も可）" if m is None else m[1],
    help="登録で置き換わるのは、選んだ市町村（またはファイルの行にある市町村）のこの月だけです。"
    "小学校区の境界は1回に1つの市町村です（県全体のファイルなら、選んだ市町村の分だけを登録します）。",
)
if not scope.everywhere:
    st.caption(f"あなたが登録できるのは {fmt.plain(scope.label)} のデータです。")
asked = st.query_params.get("dataset")  # a link from the first-run guide: 「upload?dataset=areas」
dataset = c1.selectbox(
    "データの種類",
    list(DATASETS),
    format_func=lambda d: DATASETS[d].label,
    index=list(DATASETS).index(asked if asked in DATASETS else "places"),
)
month = c2.selectbox("対象の月", months, index=months.index(last_month), format_func=month_label)
label = DATASETS[dataset].label
is_geo = DATASETS[dataset].kind == "geo"  # boundaries: not a table
if is_geo:
    st.caption(
        "国土数値情報の小学校区データ（A27）の GeoJSON か Shapefile の ZIP を、そのまま選べます（県全体のファイルも可）。"
        "学校名（「倉敷市立万寿小学校」）を圏域マスタの小学校区（「万寿」）と照合し、小学校区ごとに1つの形を登録します。"
        "地図は、選んだ月とそれより後の月にこの境界を使います（次に登録し直すまで）。"
        "境界は参考のデータで、教育委員会の通学区域と違うことがあります。"
    )
    uploaded = st.file_uploader(
        f"GeoJSON・Shapefile（ZIP）のファイル（{MAX_FILE_BYTES // 2**20}MBまで）",
        type=["geojson", "json", "zip"],
        max_upload_size=MAX_FILE_BYTES // 2**20,
        key=f"file-{dataset}-{month}-{municipality}",
    )
    if uploaded is None:
        st.stop()
else:
    t0, t1, t2 = st.columns(3)
    t0.download_button(
        "ひな形（Excel）",
        lambda: template_workbook(dataset),
        file_name=f"ひな形_{label}.xlsx",
        mime=XLSX_MIME,
        icon=":material/table_view:",
        help="見出しと選択肢の入った空のブックです。行を入れて保存し、そのままアップロードできます。",
    )
    t1.download_button(
        "ひな形（CSV）",
        template_csv(dataset),
        file_name=f"ひな形_{label}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    editable = uploads.month_to_edit(store, dataset, month, [municipality] if municipality else mine)
    if editable is not None:
        source, frame = editable
        t2.download_button(
            "この月をExcelで編集",
            lambda: edit_workbook(dataset, frame, source),  # written when clicked: 1 s for 10,000 rows
            file_name=f"{label}_{source}_編集用.xlsx",
            mime=XLSX_MIME,
            icon=":material/edit_document:",
            help=(
                "いま登録されている内容を、編集しやすいExcelのブックにします。直して保存し、ここでアップロードすると、"
                "変えたところだけが差分に出ます。"
                + (
                    ""
                    if source == month
                    else f"この月はまだ登録がないため、{month_label(source)}の内容です。"
                )
            ),
        )

    uploaded = st.file_uploader(
        f"CSV・Excel のファイル（{MAX_MB}MBまで）",
        type=["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "ods"],
        max_upload_size=MAX_MB,
        key=f"file-{dataset}-{month}-{municipality}",
    )
    if uploaded is None:
        st.caption(
            "いつもの Excel のブック（.xlsx・.xls・.ods）をそのまま選べます。表題の行があっても構いません。"
            "CSV なら「CSV UTF-8（コンマ区切り）」か「CSV（コンマ区切り）」で保存したものを選んでください。"
        )
        st.stop()

content = uploaded.getvalue()
digest = hashlib.sha256(content).hexdigest()
st.markdown(f"## {fmt.plain(uploaded.name)} → {label}・{month_label(month)}")
sheet = None
map_key = f"mapping-{digest}-{dataset}"
mapping = name_field = None
try:
    if is_geo:
        described = describe_boundaries(content, store, scope, municipality)
        name_field = uploads.name_field_picker(described, f"name-field-{digest}")
        result = validate_upload(content, dataset, month, store, scope, municipality, name_field=name_field)
    else:
        sheets = workbook_sheets(content)
        if len(sheets) > 1:  # a workbook of several sheets: the first visible one unless picked
            sheet = st.selectbox(
                "シート", sheets, key=f"sheet-{digest}", help="データのあるシートを選んでください。"
            )
        base = mapping_for(store, dataset, scope, municipality)
        cols = file_columns(content, dataset, sheet, base)
        map_key += f"-{sheet}"
        mapping = {**base, **st.session_state.get(map_key, {})}
        if st.session_state.get(map_key):
            cols = file_columns(content, dataset, sheet, mapping)
        uploads.mapping_form(cols, dataset, map_key)
        result = validate_upload(
            content, dataset, month, store, scope, municipality, sheet=sheet, mapping=mapping
        )
except (RefusedError, StoreError) as e:
    # a damaged stored file (areas, last month) is said like any other refusal
    issues = e.issues if isinstance(e, RefusedError) else [Issue(None, None, str(e))]
    errors = [i for i in issues if i.level == "error"]
    st.error(
        f"このファイルは登録できません。エラーが {len(errors):,} 件あります（データは何も変わっていません）。"
        "直してからもう一度選んでください。",
        icon=":material/error:",
    )
    st.dataframe(
        pl.DataFrame(
            {
                "場所": [i.place for i in errors],
                "内容": [i.message for i in errors],
            }
        ),
        hide_index=True,
        width="stretch",
        placeholder=widgets.EMPTY_CELL,
    )
    warnings = [i for i in issues if i.level == "warning"]
    if warnings:
        st.warning("\n".join(f"- {fmt.plain(w)}" for w in warnings))
    for d in (i for i in issues if i.level == "damaged"):
        st.error(fmt.plain(d.message), icon=":material/broken_image:")
    st.stop()

names = fmt.plain("、".join(m for _, m in result.municipalities))  # names from data: never Markdown
what = f"小学校区 {result.frame.height:,}件の形" if is_geo else f"{result.frame.height:,}行"
st.success(
    f"確認できました: {names}の{what}。"
    f"登録すると{names}のこの月だけが置き換わります。下の内容でよければ「登録する」を押してください。",
    icon=":material/task_alt:",
)
for w in result.warnings:
    if w.level == "damaged":  # last month's stored file: the comparison was skipped
        st.error(fmt.plain(w.message), icon=":material/broken_image:")
    else:
        st.warning(fmt.plain(w), icon=":material/warning:")

if is_geo:  # which school districts got a shape, against what the map shows now
    uploads.boundaries_preview(result.frame, uploads.boundaries_before(store, month, result.municipalities))
else:
    try:
        parts = store.parts(dataset, month)
        if any(muni_key(*m) in parts for m in result.municipalities):
            before = store.read_month(dataset, month, result.municipalities)
        else:
            before = None  # these municipalities have no upload of this month yet
    except StoreError as e:  # the live version is damaged: uploading this month again is the cure
        st.warning(
            fmt.plain(f"{e} 登録すると、この月は新しいファイルに置き換わります（壊れた版も保管されます）。"),
            icon=":material/broken_image:",
        )
        before = None
    change = compare(dataset, before, result.frame)
    st.markdown(
        "## 変わる内容"
        + ("（この月の最初の登録です）" if before is None else "（いま登録されている版との比較）")
    )
    widgets.change_table(change, "いま", "登録後", "diff", f"変更_{month}")
    with st.expander("読み取った内容（先頭20行）"):
        st.dataframe(
            widgets.yes_no(result.frame.head(20)).rename(lambda c: COLUMNS.get(c, c)),
            hide_index=True,
            placeholder=widgets.EMPTY_CELL,
        )

if st.button("登録する", type="primary", icon=":material/cloud_upload:", key=f"commit-{digest}"):
    with st.status("登録しています…", expanded=True) as status:
        st.write("もう一度検証しています")
        outcome = ingest(
            content,
            dataset,
            month,
            store,
            user=user.username,
            file_name=uploaded.name,
            scope=scope,
            municipality=municipality,
            sheet=sheet,
            mapping=mapping,
            name_field=name_field,
        )
        if outcome.ok and st.session_state.get(map_key):
            st.write("列の対応を保存しています（来月から自動で使います）")
            for muni in outcome.municipalities:
                mappings.save(store, dataset, muni, st.session_state[map_key], user=user.username)
        if outcome.ok:
            status.update(label="登録しました", state="complete")
        else:
            status.update(label="登録できませんでした", state="error")
    if outcome.ok:
        st.success(outcome.summary, icon=":material/check_circle:")
        st.caption("ダッシュボードは次に開いたとき（または操作したとき）に新しいデータを表示します。")
    else:
        st.error(outcome.summary, icon=":material/error:")
        for e in outcome.errors:
            st.text(str(e))  # cell values from the file: shown as they are, never as Markdown
