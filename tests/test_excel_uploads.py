"""A coordinator's own workbook, as it is: .xlsx, .xlsm, .xls, .ods, title lines above the
header, typed cells, their own column names. It stores exactly what the same data as CSV
stores; a bad one is refused naming the sheet, Excel's row and the column letter, and
nothing changes."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.conftest import AREAS_CSV, tree_digest, tsunagu_cli
from tests.workbook_shapes import CSV_ROWS, FIXTURES, HEADER, RECORDS, SHEET, openpyxl_xlsx, places_csv, xlsx
from tsunagu.ingest.pipeline import ingest, validate_upload
from tsunagu.store import mappings
from tsunagu.store.versions import Store

MONTH = "2024-07"


@pytest.fixture
def twin(tmp_path):
    """A second store with the same areas, which takes the CSV."""
    s = Store(tmp_path / "csv")
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", s).ok
    return s


@pytest.fixture
def as_csv(twin) -> pl.DataFrame:
    result = ingest(places_csv(), "places", MONTH, twin)
    assert result.ok, [str(e) for e in result.errors]
    return twin.read_month("places", MONTH)


def stored_from(store, content, **kw) -> pl.DataFrame:
    result = ingest(content, "places", MONTH, store, file_name="一覧.xlsx", **kw)
    assert result.ok, [str(e) for e in result.errors]
    return store.read_month("places", MONTH)


def refused(store, content, **kw):
    before = tree_digest(store.root)
    result = ingest(content, "places", MONTH, store, **kw)
    assert not result.ok
    assert tree_digest(store.root) == before, "a refused workbook changed the store"
    return result.errors


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: xlsx(), id="xlsx-title-dates-formula-hidden-sheet-and-row"),
        pytest.param(openpyxl_xlsx, id="openpyxl-merged-title-blank-rows"),
        pytest.param(lambda: (FIXTURES / "places.xls").read_bytes(), id="xls-from-libreoffice"),
        pytest.param(lambda: (FIXTURES / "places.ods").read_bytes(), id="ods-from-libreoffice"),
    ],
)
def test_a_workbook_stores_what_the_same_csv_stores(store, as_csv, make):
    assert stored_from(store, make()).equals(as_csv)


def test_what_was_read_from_the_workbook(store):
    """The cells as Excel shows them: a date cell is its month, a formula its value, 1200 a
    number, 和暦 text read as 和暦, the hidden row kept (Excel's CSV export keeps it)."""
    df = stored_from(store, xlsx()).sort("place_id")
    assert df["started_on"].to_list() == ["2024-07", "2016-09", "2023-04"]
    assert df["participants_avg"].to_list() == [12, None, 1200]
    assert df["sessions_per_month"].to_list() == [2.0, 0.5, 4.0]
    assert df["district"].to_list() == ["玉島", "玉島", "水島"]
    assert df["subsidized"].to_list() == [True, True, False]


def test_an_xlsm_is_read_like_an_xlsx(store, as_csv):
    """A macro-enabled workbook: the same package with a VBA part (never run)."""
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            z.writestr(item, src.read(item.filename))
        z.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert stored_from(store, out.getvalue()).equals(as_csv)


def test_a_bad_cell_is_named_by_sheet_row_and_column_letter(store):
    records = [list(r) for r in RECORDS]
    records[1][3] = "玉嶋"  # Excel row 7, column D
    records[2][6] = "たぶん"  # Excel row 8 (the hidden row), column G
    errors = refused(store, xlsx(records))
    assert [e.place for e in errors] == [
        "通いの場 の 7行目・D列（地区）",
        "通いの場 の 8行目・G列（補助金対象）",
    ]
    assert str(errors[0]).startswith(
        "[エラー] 通いの場 の 7行目・D列（地区）: 「玉嶋」は倉敷市の地区にありません"
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: xlsx(error_at=(1, 10)), id="xlsx"),
        pytest.param(lambda: (FIXTURES / "places_error.xls").read_bytes(), id="xls"),
        pytest.param(lambda: (FIXTURES / "places_error.ods").read_bytes(), id="ods"),
    ],
)
def test_a_formula_error_cell_is_refused_not_read_as_blank(store, make):
    (error,) = refused(store, make())
    assert error.place == "通いの場 の 7行目・K列（平均参加者数）"
    assert "数式のエラー「#DIV/0!」" in error.message


def test_a_password_protected_workbook_is_refused(store):
    (error,) = refused(store, (FIXTURES / "places_protected.xlsx").read_bytes())
    assert "パスワードで保護されたブックは読み取れません" in error.message


def test_the_first_visible_sheet_unless_another_is_picked(store, as_csv):
    content = xlsx(first_sheet_visible_other=True)
    errors = refused(store, content)
    assert errors[0].sheet == "集計"
    assert "見出し行が見つかりません" in errors[0].message and "通いの場" in errors[0].message
    assert stored_from(store, content, sheet=SHEET).equals(as_csv)
    (missing,) = refused(store, content, sheet="ありません")
    assert "シート「ありません」はこのブックにありません。あるシート: 集計、通いの場" in missing.message


def test_their_own_column_names_mapped_once_are_used_next_month(store, as_csv):
    own = ["ID", "サロン名", *HEADER[2:4], "校区", *HEADER[5:]]
    content = xlsx(header=own)
    errors = refused(store, content)
    assert {
        (e.place, e.message.split("。")[0]) for e in errors if e.column in ("ID", "サロン名", "校区")
    } == {
        ("通いの場 の 4行目・A列（ID）", "「居場所・通いの場」にない列です"),
        ("通いの場 の 4行目・B列（サロン名）", "「居場所・通いの場」にない列です"),
        ("通いの場 の 4行目・E列（校区）", "「居場所・通いの場」にない列です"),
    }
    chosen = {"ID": "place_id", "サロン名": "name", "校区": "school_district"}
    assert stored_from(store, content, mapping=chosen).equals(as_csv)
    kurashiki = ("岡山県", "倉敷市")
    assert mappings.save(store, "places", kurashiki, chosen, user="tateshina")
    # next month: nothing to choose, for the page and the command line alike
    result = ingest(content, "places", "2024-08", store, municipality="倉敷市")
    assert result.ok, [str(e) for e in result.errors]
    assert (
        store.read_month("places", "2024-08")
        .drop("month", strict=False)
        .equals(as_csv.drop("month", strict=False))
    )


def test_a_changed_mapping_is_audited(store):
    kurashiki = ("岡山県", "倉敷市")
    assert mappings.save(store, "places", kurashiki, {"サロン名": "name"}, user="a")
    assert not mappings.save(store, "places", kurashiki, {"サロン名": "name"}, user="a")  # unchanged
    assert mappings.save(store, "places", kurashiki, {"サロン名": None, "名前": "name"}, user="b")
    records = [r for r in store.history() if r.get("action") == "mapping"]
    assert [(r["user"], r["before"], r["after"]) for r in records] == [
        ("a", {}, {"サロン名": "name"}),
        ("b", {"サロン名": "name"}, {"サロン名": None, "名前": "name"}),
    ]
    assert mappings.load(store, "places", kurashiki) == {"サロン名": None, "名前": "name"}
    assert mappings.load(store, "places", ("東京都", "府中市")) == {}


def test_the_command_line_reads_workbooks_and_uses_the_saved_mapping(store, tmp_path):
    own = ["ID", "サロン名", *HEADER[2:]]
    path = tmp_path / "サロン一覧.xlsx"
    path.write_bytes(xlsx(header=own))
    args = ("ingest", "--dataset", "places", "--month", MONTH, "--data-dir", str(store.root))
    first = tsunagu_cli(*args, str(path))
    assert first.returncode == 1
    assert "[エラー] 通いの場 の 4行目・B列（サロン名）: 「居場所・通いの場」にない列です" in first.stderr
    saved = tsunagu_cli(
        *args,
        "--map",
        "ID=通いの場ID",
        "--map",
        "サロン名=名称",
        "--save-map",
        "--municipality",
        "倉敷市",
        str(path),
    )
    assert saved.returncode == 0, saved.stderr
    assert "登録しました: 居場所・通いの場 2024年7月（令和6年7月） 3行" in saved.stdout
    again = tsunagu_cli(*args[:4], "2024-08", *args[5:], str(path))  # no --map: the saved one
    assert again.returncode == 0, again.stderr
    bad = tsunagu_cli(*args, "--map", "サロン名=なまえ", str(path))
    assert bad.returncode == 2 and "「なまえ」は「居場所・通いの場」の列ではありません" in bad.stderr
    audit = [json.loads(x) for x in store.audit_path.read_text(encoding="utf-8").splitlines() if x]
    assert [a["after"] for a in audit if a.get("action") == "mapping"] == [
        {"id": "place_id", "サロン名": "name"}
    ]


def test_a_sheet_without_a_header_says_so(store):
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("Sheet1")
    for r in range(12):
        ws.write_row(r, 0, [r, r * 2, r * 3])
    book.close()
    (error,) = refused(store, out.getvalue())
    assert error.sheet == "Sheet1"
    assert "見出し行が見つかりません" in error.message and "通いの場ID" in error.message


def test_validate_upload_tells_the_page_which_sheets_there_are(store):
    result = validate_upload(xlsx(), "places", MONTH, store)
    assert result.sheet == SHEET and result.sheets == [SHEET, "集計"]


@pytest.mark.parametrize(
    "dataset, content, edits",
    [
        ("places", places_csv(), {("TM-002", "状態"): "活動中", ("TM-003", "平均参加者数"): 15}),
        ("pantry", None, {("P-001", "相談件数"): 9, ("P-002", "サポーター種別"): "教会等"}),
    ],
)
def test_the_excel_round_trip_shows_exactly_the_cells_changed(store, dataset, content, edits):
    """「この月をExcelで編集」: download, change two cells in a spreadsheet program, upload."""
    import io

    import openpyxl

    from tests.test_ingest_formats import PANTRY_CSV
    from tsunagu.ingest.diff import compare
    from tsunagu.ingest.workbook import edit_workbook

    content = content or PANTRY_CSV.encode()
    assert ingest(content, dataset, MONTH, store).ok
    before = store.read_month(dataset, MONTH)
    book = openpyxl.load_workbook(io.BytesIO(edit_workbook(dataset, before, MONTH)))
    sheet = book.worksheets[0]
    heads = [c.value for c in sheet[1]]
    for (record, header), value in edits.items():
        row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == record)
        sheet.cell(row, heads.index(header) + 1).value = value
    out = io.BytesIO()
    book.save(out)  # openpyxl keeps the 和暦 formulas without their values: still ignored

    after = validate_upload(out.getvalue(), dataset, MONTH, store).frame
    change = compare(dataset, before, after)
    assert change.added.height == change.removed.height == 0
    assert {(r[0], r[2], r[4]) for r in change.changed.rows()} == {
        (record, header, f"{value:,}" if isinstance(value, int) else value)
        for (record, header), value in edits.items()
    }


def test_a_stray_cell_far_away_is_refused_and_the_process_lives_on(store):
    """One value at row 1,000,001 / column ALM: calamine would fill a 32 GB range and abort
    the process (the dashboard, for everyone). The workbook is read apart, and refused."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(SHEET)
    sheet.write_row(0, 0, HEADER)
    sheet.write(1_000_000, 1000, "メモ")
    book.close()
    (error,) = refused(store, out.getvalue())
    assert "ブックが大きすぎて読み取れません" in error.message and "Ctrl+End" in error.message
    assert stored_from(store, xlsx()).height == 3  # and the next upload is read as usual


def _workbook(
    rows: dict[tuple[int, int], object], formats: dict[tuple[int, int], str] | None = None
) -> bytes:
    """A plain sheet named 通いの場: HEADER on row 1 and `rows` {(Excel row, column index): value},
    a datetime written as a date cell, with an Excel number format where `formats` gives one."""
    import datetime as dt
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(SHEET)
    sheet.write_row(0, 0, HEADER)
    for (row, col), value in rows.items():
        fmt = book.add_format({"num_format": (formats or {}).get((row, col), "General")})
        if isinstance(value, dt.datetime):
            sheet.write_datetime(row - 1, col, value, fmt)
        else:
            sheet.write(row - 1, col, value, fmt)
    book.close()
    return out.getvalue()


def _record(row: int, **cells) -> dict[tuple[int, int], object]:
    """The CSV's first place on Excel row `row`, with `cells` {column index as "c8": value}."""
    values = CSV_ROWS[0].split(",")
    record = {(row, c): v for c, v in enumerate(values) if v}
    record.update({(row, int(k[1:])): v for k, v in cells.items()})
    return record


def test_a_date_cell_with_a_time_of_day_is_read_as_the_date_it_shows(store):
    """開始年月 typed as 2024/7/1 9:30 and formatted 2024年7月: Excel shows (and its CSV export
    writes) the month; the time of day is not the point of the column."""
    import datetime as dt

    content = _workbook(_record(2, c8=dt.datetime(2024, 7, 1, 9, 30)), {(2, 8): 'yyyy"年"m"月"'})
    assert stored_from(store, content)["started_on"].to_list() == ["2024-07"]


def test_a_number_shown_with_leading_zeros_keeps_them(store):
    """An ID typed as 1 in a column formatted 0000 shows 0001, as the same place's CSV has it:
    the month after, from either, is the same place."""
    content = _workbook(_record(2, c0=1), {(2, 0): "0000"})
    assert stored_from(store, content)["place_id"].to_list() == ["0001"]


def test_a_formula_error_in_a_required_column_is_one_error_not_also_blank(store):
    (error,) = refused(store, xlsx(error_at=(1, 1)))
    assert error.place == "通いの場 の 7行目・B列（名称）"
    assert "数式のエラー「#DIV/0!」" in error.message


def _strict(content: bytes) -> bytes:
    """The workbook as Excel's "Strict Open XML" saves it: the same parts under other namespaces."""
    import io
    import zipfile

    from tsunagu.ingest.excel import _STRICT

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as z, zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            data = z.read(info)
            for strict, usual in _STRICT:
                data = data.replace(usual, strict)
            w.writestr(info, data)
    return out.getvalue()


def _stale_dimension(content: bytes) -> bytes:
    """The sheet claiming to end at A1, as some programs other than Excel write it."""
    import io
    import re
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as z, zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
            w.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize("shape", [_strict, _stale_dimension], ids=["strict-open-xml", "stale-dimension"])
def test_a_formula_error_is_found_in_every_kind_of_xlsx(store, as_csv, shape):
    (error,) = refused(store, shape(xlsx(error_at=(1, 10))))
    assert error.place == "通いの場 の 7行目・K列（平均参加者数）"
    assert "数式のエラー「#DIV/0!」" in error.message
    assert stored_from(store, shape(xlsx())).equals(as_csv)  # and without the error, the same as the CSV


def test_a_value_far_beyond_the_last_column_is_named_by_its_cell(store):
    content = _workbook(_record(2) | {(3, 2000): "x"})
    (error,) = refused(store, content)
    assert error.place == "通いの場 の 3行目・BXY列"
    assert error.message.startswith(
        "値「x」があります。このデータで使う列は多くても 1,000 列（ALL列）までです。"
    )


def test_error_cells_that_cannot_be_placed_refuse_the_workbook(monkeypatch):
    """calamine reads the sheet with the error cells as blanks; should the second reader fail on
    the file, a blank must still not stand for an error: the workbook is refused, saying why."""
    import openpyxl

    from tsunagu.contract.issues import RefusedError
    from tsunagu.ingest import excel

    def fails(*a, **k):
        raise ValueError("not a workbook openpyxl can read")

    monkeypatch.setattr(openpyxl, "load_workbook", fails)
    with pytest.raises(RefusedError) as refusal:
        excel._read_here(xlsx(error_at=(1, 10)), None)  # in this process: the child would not see the patch
    assert [i.message for i in refusal.value.issues] == [excel.ERRORS_UNPLACED]
    assert excel._read_here(xlsx(), None)["errors"] == []  # without error cells it is not needed
