"""Each error class of the contract, one good and one bad row each: the bad row is named by
Excel's row number, its column header and what was expected, in Japanese; the file is
refused whole and every error comes at once."""

from __future__ import annotations

import pytest

from tests.conftest import tree_digest
from tests.test_ingest_formats import FORUMS_CSV, PANTRY_CSV, PLACES_HEADER, PLACES_ROWS, places_csv
from tsunagu.ingest.pipeline import ingest

GOOD = PLACES_ROWS[0]


def refuse(store, dataset, text, month="2024-07", encoding="utf-8"):
    before = tree_digest(store.root)
    result = ingest(text.encode(encoding) if isinstance(text, str) else text, dataset, month, store)
    assert not result.ok, "the file should have been refused"
    assert tree_digest(store.root) == before, "a refused file changed the store"
    return result.errors


def one_error(store, dataset, text, **kw):
    errors = refuse(store, dataset, text, **kw)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def bad_place(old: str, new: str) -> str:
    """A file with the good row first (row 2) and the bad row second (row 3)."""
    return places_csv([GOOD, PLACES_ROWS[1].replace(old, new, 1)])


@pytest.mark.parametrize(
    "old, new, column, expected",
    [
        ("玉島地区", "玉嶋", "地区", "「玉嶋」は倉敷市の地区にありません。使える地区: 玉島、水島、真備"),
        ("長尾小学校区", "連島東小", "小学校区", "「連島東小」は水島地区の小学校区です"),
        ("長尾小学校区", "存在しない小", "小学校区", "使える小学校区: 玉島小、長尾小"),
        (",倉敷市,", ",倉敷町,", "市町村", "「倉敷町」は圏域マスタ（areas）にない市町村です"),
        ("カフェ", "喫茶", "種別", "次のどれかにしてください: サロン、カフェ、体操・運動、趣味・習いごと"),
        ("休止中", "やすみ", "状態", "次のどれかにしてください: 活動中、休止中、終了"),
        ("○", "たぶん", "補助金対象", "はい／いいえ、○／×、true／false、1／0"),
        ("平成28年9月", "平成28年13月", "開始年月", "年月（例: 2024-07"),
        (",0.5,", ",40,", "開催頻度（回/月）", "0より大きく31以下の数値"),
        (",0.5,,", ",0.5,-3,", "平均参加者数", "0以上の整数"),
        (",0.5,,,", ",0.5,,35.1,", "緯度", "緯度と経度は両方入力するか、両方空欄に"),
        (",0.5,,,", ",0.5,,10.0,133.0", "緯度", "20以上46以下の数値"),
        ("TM-002", "TM-001", "通いの場ID", "「TM-001」が重複しています（2行目と同じ）"),
        ("TM-002,", ",", "通いの場ID", "値が空です。この列は必須です。"),
    ],
)
def test_places_row_errors(store, old, new, column, expected):
    error = one_error(store, "places", bad_place(old, new))
    assert (error.row, error.column) == (3, column)
    assert expected in error.message
    # Excel's row, and the column by its letter and the header as the file spells it
    assert error.letter and error.letter.isalpha()
    assert str(error).startswith(f"[エラー] 3行目・{error.letter}列（{column}）: ")


def test_good_row_alone_is_accepted(store):
    assert ingest(places_csv([GOOD]).encode(), "places", "2024-07", store).ok


def test_unknown_and_missing_columns(store):
    header = PLACES_HEADER.replace("種別,", "しゅべつ,").replace(",状態", ",備考")
    errors = refuse(store, "places", places_csv([GOOD], header))
    messages = {(e.row, e.column): e.message for e in errors}
    assert "「居場所・通いの場」にない列です" in messages[(1, "しゅべつ")]
    assert [str(e) for e in errors if e.column == "しゅべつ"][0].startswith(
        "[エラー] 1行目・F列（しゅべつ）: "
    )
    assert "使える列: 通いの場ID、名称" in messages[(1, "しゅべつ")]
    assert (
        messages[(1, "種別")]
        == "必須の列「種別」がありません。見出し行（1行目）に「種別」の列を追加してください。"
    )
    assert messages[(1, "状態")].startswith("必須の列「状態」がありません")


def test_duplicate_column(store):
    header = PLACES_HEADER + ",名称"
    (error,) = refuse(store, "places", places_csv([GOOD + ",x"], header))
    assert (error.row, error.column) == (1, "名称")
    assert "同じ列が2回あります（B列とN列）" in error.message


def test_value_under_a_column_without_header(store):
    (error,) = refuse(store, "places", places_csv([GOOD + ",,メモ"], PLACES_HEADER + ",,"))
    assert (error.row, error.column, error.letter) == (2, None, "O")
    assert str(error).startswith("[エラー] 2行目・O列: ")
    assert "見出しのない列に値「メモ」があります" in error.message


def test_many_errors_come_together(store):
    rows = [
        GOOD,
        PLACES_ROWS[1].replace("玉島地区", "玉嶋").replace("カフェ", "喫茶"),
        "TM-001,,倉敷市,玉島,玉島小,サロン,はい,活動中,,,-1,,",
    ]
    errors = refuse(store, "places", places_csv(rows))
    # as the file reads: by row, then left to right
    assert [(e.row, e.letter, e.column) for e in errors] == [
        (3, "D", "地区"),
        (3, "F", "種別"),
        (4, "A", "通いの場ID"),
        (4, "B", "名称"),
        (4, "K", "平均参加者数"),
    ]


def test_values_under_columns_without_a_header_are_listed_left_to_right(store):
    rows = [GOOD + ",,いい" + "," * 12 + "あ"]  # O and AA: the later column's value sorts first by text
    errors = refuse(store, "places", places_csv(rows, PLACES_HEADER + "," * 15))
    assert [(e.row, e.letter) for e in errors] == [(2, "O"), (2, "AA")]


def test_a_header_below_the_tenth_row_is_said_to_be_too_far_down(store):
    """Eleven lines of title and notes: one error that says where the header is and where it
    must be, not one "column without a header" per column of a title line read as the header."""
    text = "令和6年7月 通いの場一覧\n" + "メモ\n" * 9 + places_csv([GOOD])
    error = one_error(store, "places", text)
    assert (error.row, error.column) == (11, None)
    assert error.message.startswith("見出し行が11行目にあります。見出し行は10行目までに置いてください")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "ファイルが空です"),
        (b"\r\n\r\n", "ファイルが空です"),
        # the start of a workbook, cut off: read as one, and said to be broken
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel ブック（.xlsx）として読み取れませんでした（壊れているか"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003 ブック（.xls）として読み取れませんでした"),
        (b"%PDF-1.7\n", "PDF ファイルです"),
        (b"\x00\x01\x02binary\x00", "CSV ではないファイルです"),
        (b"\x81\x00\xff\xfe\xfd\x80", "文字コードを読み取れません"),
    ],
)
def test_not_a_csv(store, content, expected):
    error = one_error(store, "places", content)
    assert (error.row, error.column) == (None, None)
    assert expected in error.message


def test_header_only_is_refused_except_for_forums(store):
    error = one_error(store, "places", PLACES_HEADER + "\r\n")
    assert "データの行がありません" in error.message
    # a forums month with no events: in a store of several municipalities, whose month it is
    # must be said (it replaces only that municipality's month)
    empty = FORUMS_CSV.splitlines()[0].encode()
    refused = ingest(empty, "forums", "2024-07", store)
    assert [e.message for e in refused.errors] == [
        "行事が0件のファイルです。どの市町村の月かを選んでください（コマンドでは --municipality 市町村名）。"
    ]
    assert store.months("forums") == []
    done = ingest(empty, "forums", "2024-07", store, municipality="倉敷市")
    assert done.ok and done.municipalities == [("岡山県", "倉敷市")]
    assert store.months("forums", municipality=("岡山県", "倉敷市")) == ["2024-07"]
    # 府中市 is in two prefectures: the name alone does not say which
    ambiguous = ingest(empty, "forums", "2024-07", store, municipality="府中市")
    assert "「府中市」は複数の都道府県にあります（東京都府中市、広島県府中市）" in ambiguous.errors[0].message
    assert ingest(empty, "forums", "2024-07", store, municipality="東京都府中市").ok


def test_areas_must_exist_first(tmp_path):
    from tsunagu.store.versions import Store

    error = one_error(Store(tmp_path / "empty"), "places", places_csv([GOOD]))
    assert "圏域マスタ（areas）がまだ登録されていない" in error.message


def test_ambiguous_municipality_needs_prefecture(store):
    csv = (
        "市町村,地区,小学校区,通いの場ID,名称,種別,補助金対象,状態\n"
        "府中市,中央,府中小,H-1,中央サロン,サロン,いいえ,活動中\n"
    )
    error = one_error(store, "places", csv)
    assert (error.row, error.column) == (2, "市町村")
    assert "複数の都道府県（東京都、広島県）にあります。「都道府県」列を追加して" in error.message


def test_prefecture_must_match(store):
    csv = (
        "都道府県,市町村,地区,小学校区,通いの場ID,名称,種別,補助金対象,状態\n"
        "岡山県,府中市,中央,府中小,H-1,中央サロン,サロン,いいえ,活動中\n"
    )
    error = one_error(store, "places", csv)
    assert (
        error.column == "都道府県"
        and "「府中市」は「岡山県」の市町村として圏域マスタにありません" in error.message
    )


def test_areas_rules(tmp_path):
    from tsunagu.store.versions import Store

    csv = (
        "都道府県,市町村,地区,小学校区,人口,65歳以上人口,世帯数\n"
        "岡山県,倉敷市,玉島,玉島小,1000,200,\n"
        "岡山県,倉敷市,玉島,玉島小,1000,1001,-5\n"
        "岡山県,倉敷市,玉島地区,玉島小学校区,900,100,\n"
    )
    errors = refuse(Store(tmp_path / "a"), "areas", csv)
    assert [(e.row, e.column) for e in errors] == [
        (3, "小学校区"),
        (3, "65歳以上人口"),
        (3, "世帯数"),
        (4, "小学校区"),
    ]
    assert "人口（1,000）より多くなっています" in errors[1].message
    assert "2行目にもあります" in errors[0].message


@pytest.mark.parametrize(
    "old, new, column, expected",
    [
        (
            "2024/7/6",
            "2024/8/1",
            "開催日",
            "アップロードする月（2024年7月（令和6年7月））の日付ではありません",
        ),
        ("2024/7/6", "2024/2/30", "開催日", "実在する日付"),
        ("住民フォーラム,倉敷", "講演会,倉敷", "種別", "住民フォーラム、通いの場交流会"),
        (",300,270", ",2000,270", "アンケート回答数", "参加者数の合計（1,244）より多くなっています"),
        (",300,270", ",300,301", "肯定的回答数", "アンケート回答数（300）より多くなっています"),
        (",300,270", ",,270", "肯定的回答数", "アンケート回答数が空欄です"),
        ("ハイブリッド,210", "ハイブリッド,-210", "会場参加者数", "0以上の整数"),
    ],
)
def test_forum_errors(store, old, new, column, expected):
    error = one_error(store, "forums", FORUMS_CSV.replace(old, new, 1))
    assert (error.row, error.column) == (2, column)
    assert expected in error.message


@pytest.mark.parametrize(
    "old, new, column, expected",
    [
        ("教会等", "お寺", "サポーター種別", "ボランティア・サロングループ、障がい者（児）支援団体"),
        (",4,7,30,", ",4,-7,30,", "利用世帯数", "0以上の整数"),
        ("P-002", "P-001", "パントリーID", "「P-001」が重複しています（2行目と同じ）"),
    ],
)
def test_pantry_errors(store, old, new, column, expected):
    error = one_error(
        store,
        "pantry",
        PANTRY_CSV.replace(old, new, 1) if old != "P-002" else PANTRY_CSV.replace("P-002,", "P-001,"),
    )
    assert error.column == column and expected in error.message


def test_warnings_do_not_block(store):
    result = ingest(PANTRY_CSV.replace(",5,2\n", ",1,2\n").encode(), "pantry", "2024-07", store)
    assert result.ok
    (warning,) = result.warnings
    assert (warning.row, warning.column, warning.level) == (2, "つなぎ件数", "warning")
    assert "つなぎ件数（2）が相談件数（1）より多くなっています" in warning.message


def test_vanished_place_warns(store):
    assert ingest(places_csv().encode(), "places", "2024-06", store).ok
    result = ingest(places_csv([GOOD]).encode(), "places", "2024-07", store)
    assert result.ok
    (warning,) = result.warnings
    assert (
        "2024年6月（令和6年6月）の一覧にあった「TM-002（髙橋さんちのお茶会～）」がありません"
        in warning.message
    )
    # marked 終了 the month before, it may go without a word
    ended = PLACES_ROWS[1].replace("休止中", "終了")
    assert ingest(places_csv([GOOD, ended]).encode(), "places", "2024-08", store).ok
    assert ingest(places_csv([GOOD]).encode(), "places", "2024-09", store).warnings == []


def test_bad_month_argument(store):
    result = ingest(places_csv().encode(), "places", "2024-13", store)
    assert not result.ok and "月の指定「2024-13」" in result.errors[0].message


def test_rows_of_another_encoding_are_named_not_read_as_garbage(store):
    """A UTF-8 list with one row pasted from a Shift_JIS file: read as Shift_JIS, every other
    row's Japanese would turn to garbage (縺ゅ≠); it is refused at the row that differs."""
    text = places_csv(PLACES_ROWS[:1]).encode("utf-8") + (PLACES_ROWS[1] + "\r\n").encode("cp932")
    error = one_error(store, "places", text)
    assert (error.row, error.column) == (3, None)
    assert error.message.startswith(
        "この行から文字コードを読み取れません（ほかの行と違う文字コードの文字があります。"
    )
