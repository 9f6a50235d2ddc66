"""Hostile and broken input: whatever bytes arrive, the answer is a stored month that reads
back the same, or a list of errors in Japanese (row, column, what was expected) with the
store byte-identical; never a crash or a traceback. Property tests (hypothesis) and a
corpus of nasty files, all generated here (no binaries in git)."""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
import time
import zipfile
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.conftest import AREAS_CSV, ROOT, tree_digest, tsunagu_cli
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.contract.issues import Issue, RefusedError
from tsunagu.contract.schema import DATASETS
from tsunagu.ingest.pipeline import ingest, validate_upload
from tsunagu.ingest.read import read_table
from tsunagu.store.versions import Store

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# bounded and repeatable in CI: the same examples every run (a fixed seed, which unlike
# derandomize does not change when the test's source is reformatted), no time limit
BOUNDED = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEED = 20261201
# how many examples each property test tries, and the fewest of each answer it must see, so
# that neither branch is checked in vain (docs/reliability.md states these numbers)
EXAMPLES = {"bytes": 500, "csv": 150, "mutated": 150}
MAX_BYTES = 4000  # the longest of the arbitrary byte strings
AT_LEAST = {"csv": {"stored": 30, "refused": 30}, "mutated": {"stored": 5, "refused": 30}}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A small store, built once: areas and a live July (2 places). Each answer is given in a
    copy of it, so no test or example depends on what another stored, and checking that a
    refusal wrote nothing hashes a handful of small files."""
    root = tmp_path_factory.mktemp("hostile") / "data"
    s = Store(root)
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", s).ok
    assert ingest(places_csv().encode(), "places", "2024-07", s).ok
    return root


def fresh(base: Path, where: Path) -> Store:
    """A copy of the base store at `where` (replacing what an earlier example left there)."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(base, where)
    return Store(where)


@pytest.fixture
def store(base, tmp_path) -> Store:
    return fresh(base, tmp_path / "data")


class Scratch:
    """One test's working copy of the base store, for many examples: a refusal leaves it as
    it was (answer() checks that, byte for byte), anything else is undone by copying the
    base again, so every example starts from the same store."""

    def __init__(self, base: Path, where: Path):
        self.base, self.where = base, where
        self.store = fresh(base, where)

    def answer(self, content: bytes) -> str:
        outcome = None
        try:
            outcome, _ = answer(content, self.store)
        finally:
            if outcome != "refused":
                self.store = fresh(self.base, self.where)
        return outcome


def assert_good_refusal(issues: list[Issue], content: bytes) -> None:
    """Each error says where (Excel's row, the header or column letter) and what, in Japanese."""
    assert issues and any(i.level == "error" for i in issues)
    lines = content.count(b"\n") + content.count(b"\r") + 2
    for i in issues:
        assert JAPANESE.search(i.message), i
        assert i.row is None or 1 <= i.row <= lines, i
        assert "Traceback" not in i.message and "Error" not in i.message, i


def answer(content: bytes, store: Store, dataset: str = "places", month: str = "2024-07"):
    """The whole path a coordinator's file takes; returns ("stored", frame) or ("refused", issues)
    and checks the promise either way."""
    before = tree_digest(store.root)
    result = ingest(content, dataset, month, store, file_name="hostile.csv")
    if not result.ok:
        assert_good_refusal(result.errors, content)
        assert tree_digest(store.root) == before  # nothing written
        return "refused", result.errors
    stored = store.read_month(dataset, month)
    again = validate_upload(content, dataset, month, store).frame  # the same bytes read the same way
    assert stored.equals(again)
    # and what is stored reads back through a CSV with the contract's headers
    buf = io.BytesIO()
    stored.rename({c.key: c.header for c in DATASETS[dataset].columns}).with_columns(
        pl.col(pl.Boolean).replace_strict({True: "はい", False: "いいえ"}, return_dtype=pl.String)
    ).write_csv(buf)
    assert validate_upload(buf.getvalue(), dataset, month, store).frame.equals(stored)
    return "stored", stored


# property tests


def test_any_bytes_read_as_a_table_or_refused_in_japanese():
    """Any bytes at all: a table of text cells, or every problem in Japanese."""
    tried = Counter()

    @seed(SEED)
    @settings(BOUNDED, max_examples=EXAMPLES["bytes"])
    @given(st.binary(max_size=MAX_BYTES))
    def one(content):
        try:
            raw = read_table(content)
        except RefusedError as e:
            assert_good_refusal(e.issues, content)
            tried["refused"] += 1
            return
        assert len(raw.header) == len(raw.letters) == raw.data.width - 1
        assert all(isinstance(h, str) and h for h in raw.header)
        tried["read"] += 1

    one()
    print(dict(tried))
    assert tried.total() >= EXAMPLES["bytes"] and tried["read"] and tried["refused"]


NASTY = [
    "",
    " ",
    "　",
    "\t",
    '"',
    '""',
    "'",
    ",",
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x1b[31m",
    "\ufeff",
    "\u202e",
    "\u200b",
    "\u2028",
    "=1+1",
    "+81",
    "-1",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    "**太字**",
    "[x](javascript:alert(1))",
    "![](http://127.0.0.1:9/x)",
    "😀",
    "👨‍👩‍👧",
    "🇯🇵",
    "①",
    "髙",
    "ｶﾀｶﾅ",
    "１２",
    "1,200",
    "△3",
    "12.0",
    "1e309",
    "NaN",
    "-0",
    "9" * 30,
    "令和元年5月",
    "R6.7",
    "2024-13",
    "はい",
    "○",
    "×",
    "活動中",
    "終了",
    "サロン",
    "玉島",
    "玉島小",
    "倉敷市",
    "水島",
    "真備",
    "\\",
    "%s",
    "{0}",
    "${x}",
    "' or '1'='1",
    "NULL",
    "None",
    "null",
]
cell = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.sampled_from(PLACES_ROWS).map(lambda r: random.Random(len(r)).choice(r.split(","))),
)
HEADERS = [c.header for c in DATASETS["places"].columns] + [c.key for c in DATASETS["places"].columns]


@st.composite
def csv_files(draw) -> bytes:
    """Mostly well-formed places files with nasty cells, odd headers, and Excel's encodings."""
    base_header = places_csv([]).splitlines()[0].split(",")
    header = draw(
        st.one_of(
            st.just(base_header),
            st.just(base_header),
            st.just(base_header),
            st.permutations(base_header),
            st.lists(st.one_of(st.sampled_from(HEADERS), cell), max_size=16),
        )
    )

    def named(pair):  # a good row whose name (free text, kept as typed) is a nasty value
        row, name = pair[0].split(","), pair[1]
        return [row[0], name.strip() or "名前", *row[2:]]

    good = st.tuples(st.sampled_from(PLACES_ROWS), cell).map(named)
    if draw(st.booleans()):  # only good rows with nasty names: these should be stored
        rows = [[f"ID-{i}", *r[1:]] for i, r in enumerate(draw(st.lists(good, min_size=1, max_size=8)))]
    else:
        rows = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(PLACES_ROWS).map(lambda r: r.split(",")),
                    good,
                    st.lists(cell, min_size=len(header), max_size=len(header)),
                    st.lists(cell, max_size=len(header) + 3),
                ),
                max_size=8,
            )
        )
    sep = draw(st.sampled_from([",", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quote = lambda v: '"' + v.replace('"', '""') + '"' if re.search(r'[",\t\r\n]', v) else v  # noqa: E731
    text = newline.join(sep.join(quote(v) for v in r) for r in [header, *rows]) + newline
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:  # emoji has no CP932 code: Excel would have written UTF-8
        return text.encode("utf-8")


def assert_tried(kind: str, tried: Counter) -> None:
    print(kind, dict(tried))
    assert tried.total() >= EXAMPLES[kind]
    for outcome, least in AT_LEAST[kind].items():
        assert tried[outcome] >= least, (kind, dict(tried))


def test_any_csv_is_stored_and_reads_back_or_refused_with_every_error(base, tmp_path):
    """Well-formed CSV with nasty cells: stored and read back unchanged, or refused whole
    with errors naming row and column, nothing written."""
    tried, scratch = Counter(), Scratch(base, tmp_path / "data")

    @seed(SEED)
    @settings(BOUNDED, max_examples=EXAMPLES["csv"])
    @given(csv_files())
    def one(content):
        tried[scratch.answer(content)] += 1

    one()
    assert_tried("csv", tried)


def test_a_valid_file_damaged_anywhere_is_stored_or_refused(base, tmp_path):
    """A good file with bytes flipped, cut, or inserted anywhere (a bad copy, a mail client)."""
    tried, scratch = Counter(), Scratch(base, tmp_path / "data")

    @seed(SEED)
    @settings(BOUNDED, max_examples=EXAMPLES["mutated"])
    @given(st.data())
    def one(data):
        good = bytearray(places_csv().encode(data.draw(st.sampled_from(["utf-8", "cp932", "utf-8-sig"]))))
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(good)))
            action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
            if action == "flip" and at < len(good):
                good[at] ^= data.draw(st.integers(1, 255))
            elif action == "cut":
                del good[at : at + data.draw(st.integers(1, 40))]
            else:
                good[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        tried[scratch.answer(bytes(good))] += 1

    one()
    assert_tried("mutated", tried)


# the corpus of nasty files, generated here


def xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>")
    return buf.getvalue()


def rows_csv(n: int, bad_at: int | None = None) -> bytes:
    rows = (
        f"TM-{i:06d},サロン{i},倉敷市,{'玉嶋' if i == bad_at else '玉島'},玉島小,サロン,はい,活動中,,,,,"
        for i in range(n)
    )
    return places_csv(list(rows)).encode()


HEAD = places_csv([]).splitlines()[0]
ONE_ROW = "KRS-1,{name},倉敷市,玉島,玉島小,サロン,はい,活動中,,,,,"

# name -> (a function that makes the bytes, "stored" or "refused", text the answer must contain);
# made when a test uses them (some are megabytes), not when the module is imported
CORPUS = {
    "binary": (lambda: random.Random(1).randbytes(64_000), "refused", "文字コードを読み取れません"),
    "png": (lambda: b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(5000), "refused", ""),
    "xlsx-renamed": (lambda: xlsx_bytes(), "refused", "Excel ブック（.xlsx）"),
    "xls-renamed": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000),
        "refused",
        "Excel 97-2003 ブック（.xls）として読み取れませんでした",
    ),
    "pdf": (lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", "refused", "PDF"),
    "gzip": (lambda: b"\x1f\x8b\x08\x00" + random.Random(3).randbytes(3000), "refused", ""),
    "empty": (lambda: b"", "refused", "ファイルが空です"),
    "only-bom": (lambda: b"\xef\xbb\xbf", "refused", "ファイルが空です"),
    "1M-empty-lines-only": (lambda: b"\n" * 1_000_000, "refused", "ファイルが空です"),
    "1M-empty-lines-after-a-row": (lambda: rows_csv(1) + b"\r\n" * 1_000_000, "stored", ""),
    "1M-comma-lines": (lambda: rows_csv(1) + b",,,,,,,,,,,,\n" * 1_000_000, "stored", ""),
    "huge-300k-rows-one-error-at-the-end": (
        lambda: rows_csv(300_000, bad_at=299_999),
        "refused",
        "300001行目",
    ),
    "one-cell-of-20MB": (
        lambda: (HEAD + "\n" + ONE_ROW.format(name="あ" * 7_000_000)).encode(),
        "stored",
        "",
    ),
    "100k-columns": (
        lambda: (",".join(f"列{i}" for i in range(100_000)) + "\n" + "1," * 99_999 + "1\n").encode(),
        "refused",
        "100,000 列",
    ),
    "excel-16384-trailing-empty-columns": (
        lambda: "\n".join(line + "," * 16_370 for line in places_csv().splitlines()).encode(),
        "stored",
        "",
    ),
    "mixed-encodings": (
        lambda: (
            HEAD.encode("utf-8")
            + b"\n"
            + PLACES_ROWS[0].encode("cp932")
            + b"\n"
            + PLACES_ROWS[1].encode("utf-8")
            + b"\n"
        ),
        "refused",
        "",
    ),
    "utf16-without-bom": (lambda: places_csv().replace(",", "\t").encode("utf-16-le"), "refused", ""),
    "utf16-odd-length": (lambda: b"\xff\xfe" + places_csv().encode("utf-16-le")[:-1], "refused", ""),
    "nul-bytes": (
        lambda: places_csv().encode().replace(b"\xe3\x82\xb5", b"\x00\x00\x00", 1),
        "refused",
        "文字以外のデータ",
    ),
    "invalid-utf8-overlong": (lambda: HEAD.encode() + b"\nKRS-1,\xc0\xaf\xc0\xae,x\n", "refused", ""),
    "unterminated-quote": (lambda: (HEAD + '\nKRS-1,"never closed,倉敷市,玉島\n').encode(), "refused", ""),
    "classic-mac-cr": (lambda: places_csv().replace("\n", "\r").encode(), "stored", ""),
    "10k-quotes": (lambda: (HEAD + "\n" + '"' * 10_001 + "\n").encode(), "refused", ""),
    "ragged-rows": (
        lambda: (HEAD + "\n" + PLACES_ROWS[0] + ",extra,cells,here\nKRS-9\n").encode(),
        "refused",
        "見出しのない列",
    ),
    "control-chars-in-header": (lambda: ("\x1b[2J" + HEAD).encode(), "refused", "にない列です"),
    "formula-cells": (
        lambda: (
            HEAD
            + "\n"
            + "\n".join(
                ONE_ROW.replace("KRS-1", f"KRS-{i}").format(name=f)
                for i, f in enumerate(
                    ['"=HYPERLINK(""http://x"",""y"")"', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]
                )
            )
        ).encode(),
        "stored",
        "",
    ),
    "html-and-script-in-names": (
        lambda: (
            HEAD
            + "\n"
            + "\n".join(
                ONE_ROW.replace("KRS-1", f"KRS-{i}").format(name=n)
                for i, n in enumerate(
                    [
                        "<script>alert(1)</script>",
                        "<img src=x onerror=alert(1)>",
                        "**太字**",
                        "[リンク](javascript:alert(1))",
                        "![](http://127.0.0.1:9/x.png)",
                        ":red[赤]",
                        "$x^2$",
                    ]
                )
            )
        ).encode(),
        "stored",
        "",
    ),
    "right-to-left-marks": (
        lambda: (
            HEAD
            + "\n"
            + ONE_ROW.format(name="\u202eサロン\u202c\u200f")
            + "\n"
            + ONE_ROW.replace("KRS-1", "KRS-2").replace("玉島,玉島小", "\u202e玉島,玉島小").format(name="x")
        ).encode(),
        "refused",
        "「\u202e玉島」は倉敷市の地区にありません",
    ),
    "emoji": (
        lambda: (HEAD + "\n" + ONE_ROW.format(name="👨‍👩‍👧‍👦 みんなの食堂 🍙🇯🇵") + "\n").encode(),
        "stored",
        "",
    ),
}


ANSWER_WITHIN_S = 30


@pytest.mark.parametrize("name", list(CORPUS))
def test_nasty_file_is_answered_not_crashed(store, name):
    """Each nasty file gets a stored month that reads back, or errors in Japanese; quickly."""
    make, expected, must_say = CORPUS[name]
    content = make()
    started = time.monotonic()
    outcome, detail = answer(content, store)
    elapsed = time.monotonic() - started
    assert outcome == expected, (name, [str(i) for i in detail][:5] if outcome == "refused" else detail)
    if must_say:
        assert any(must_say in str(i) for i in detail), [str(i) for i in detail][:5]
    assert elapsed < ANSWER_WITHIN_S, (
        f"{name} took {elapsed:.1f}s"
    )  # no quadratic path (16,384 columns took 47 s)


KEPT_NAMES = ["formula-cells", "html-and-script-in-names", "emoji"]


def test_names_are_kept_exactly_and_downloads_do_not_run_formulas(store):
    """Formula, HTML and emoji names are stored as typed; the CSV a manager downloads keeps
    formulas as text (a leading quote) for Excel."""
    from tsunagu.dashboard.export import to_excel_csv

    frames = {}
    for name in KEPT_NAMES:
        outcome, frames[name] = answer(CORPUS[name][0](), store)
        assert outcome == "stored", name
    assert frames["formula-cells"]["name"].to_list() == [
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "=cmd|' /C calc'!A0",
    ]
    assert frames["html-and-script-in-names"]["name"].to_list()[:2] == [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
    ]
    assert frames["emoji"]["name"].to_list() == ["👨\u200d👩\u200d👧\u200d👦 みんなの食堂 🍙🇯🇵"]
    text = to_excel_csv(frames["formula-cells"].select("name"))[3:].decode("utf-8").splitlines()[1:]
    assert all(line.lstrip('"').startswith("'") for line in text), text


BY_COMMAND = ["binary", "xlsx-renamed", "100k-columns", "nul-bytes"]


@pytest.mark.parametrize("name", BY_COMMAND)
def test_command_line_answers_nasty_files_without_a_traceback(tmp_path, store, name):
    """The same files through `python -m tsunagu ingest`: exit status 1, errors in Japanese."""
    path = tmp_path / f"{name}.csv"
    path.write_bytes(CORPUS[name][0]())
    proc = tsunagu_cli(
        "ingest", "--dataset", "places", "--month", "2024-07", "--data-dir", str(store.root), str(path)
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("[エラー]") and "登録しませんでした" in proc.stderr


def test_corpus_is_generated_not_committed():
    """No big binaries in git: every nasty file above is made by the test."""
    tracked = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True).stdout
    big = [
        line
        for line in tracked.splitlines()
        if (ROOT / line.split("\t")[1]).exists() and (ROOT / line.split("\t")[1]).stat().st_size > 1_000_000
    ]
    assert big == [] and len(CORPUS) >= 25
