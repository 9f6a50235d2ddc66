"""The command line typed wrongly, as a new user would: every answer is Japanese, with no
traceback and no English from argparse or Streamlit, and an exit status that tells the
truth (2 for a command line or setting that cannot be used, 1 for a refusal or a failure).
Each case runs as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, tsunagu_cli
from tests.test_ingest_formats import places_csv
from tsunagu.cli import build_parser
from tsunagu.ingest.pipeline import ingest

# what argparse, Python or Streamlit would say in English
ENGLISH = (
    "usage:",
    "positional arguments",
    "options:",
    "show this help",
    "error:",
    "the following arguments",
    "invalid choice",
    "invalid int value",
    "unrecognized",
    "expected one argument",
    "not allowed with",
    "argument ",
    "Traceback",
    "WARNING",
    "ScriptRunContext",
    "Exception",
)
ENGLISH_METAVARS = re.compile(
    r"(?<![-\w])(MONTH|DATA_DIR|USER|USERS_FILE|FILE|NAME|KEY=VALUE|LIMIT|OUT|"
    r"WORK|MUNICIPALITY|DISTRICT|file|name|username|action|command)\b"
)
JAPANESE = re.compile(r"[ぁ-んァ-ヶ一-龠]")


run = tsunagu_cli


def assert_japanese(proc: subprocess.CompletedProcess, status: int, *says: str) -> None:
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    text = proc.stdout + proc.stderr
    for word in ENGLISH:
        assert word not in text, (word, text)
    assert not ENGLISH_METAVARS.search(text), text
    assert JAPANESE.search(proc.stderr), proc.stderr
    for part in says:
        assert part in proc.stderr, (part, proc.stderr)


@pytest.mark.parametrize("month", ["2024-13", "2024-00", "abc", "令和6年13月"])
def test_an_impossible_month_is_a_japanese_usage_error(tmp_path, month):
    source = tmp_path / "x.csv"
    source.write_bytes(places_csv().encode())
    proc = run("ingest", "--dataset", "places", "--month", month, "--data-dir", tmp_path / "data", source)
    assert_japanese(
        proc, 2, "使い方: python -m tsunagu ingest", f"--month の指定: 「{month}」は年月（例: 2024-07"
    )
    assert not (tmp_path / "data").exists()  # nothing written, not even a folder


def test_other_callers_of_ingest_get_the_refusal_not_a_traceback(tmp_path):
    """The month is checked on the command line; ingest() itself (the upload page, scripts)
    still refuses an impossible month with its summary, which used to raise."""
    from tsunagu.store.versions import Store

    result = ingest(places_csv().encode(), "places", "2024-13", Store(tmp_path / "data"))
    assert not result.ok and "「2024-13」は年月" in str(result.errors[0])
    assert (
        result.summary
        == "登録しませんでした: 居場所・通いの場 2024-13 — エラー 1件（データは変更していません）"
    )


@pytest.mark.parametrize(
    "args, says",
    [
        ([], ["次の指定が必要です: コマンド"]),
        (["frob"], ["コマンド の指定: 「frob」は使えません。次のどれかです: 'ingest'"]),
        (["ingest"], ["次の指定が必要です: --dataset, --month, ファイル"]),
        (
            ["ingest", "--dataset", "shops", "--month", "2024-07", "x.csv"],
            ["--dataset の指定: 「shops」は使えません。次のどれかです: 'areas', 'places'"],
        ),
        (["ingest", "--dataset", "places", "--month"], ["--month の指定: 値を1つ続けてください"]),
        (["query", "months", "--bogus"], ["わからない指定があります: --bogus"]),
        (["history", "--limit", "x"], ["--limit の指定: 「x」は数として読めません"]),
        (
            ["handout", "--municipality", "倉敷市", "--district", "玉島", "--all-districts"],
            ["--all-districts の指定: --district と一緒には指定できません"],
        ),
        (["users", "frob"], ["操作 の指定: 「frob」は使えません。次のどれかです: 'init'"]),
    ],
    ids=[
        "no-command",
        "unknown-command",
        "missing-required",
        "bad-choice",
        "no-value",
        "unrecognized",
        "not-a-number",
        "exclusive",
        "users-action",
    ],
)
def test_argparse_answers_in_japanese(args, says):
    assert_japanese(run(*args), 2, "使い方: python -m tsunagu", "エラー: ", *says)


def test_help_is_japanese_everywhere():
    """-h of the command and of every subcommand: Japanese headings and value names."""
    proc = run("-h")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("使い方: python -m tsunagu [-h] コマンド ...")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in {"": parser, **subparsers}.items():
        text = sub.format_help()
        assert text.startswith("使い方: "), name
        assert "オプション:" in text and "この説明を表示して終わります" in text, name
        for word in ENGLISH:
            assert word not in text, (name, word)
        assert not ENGLISH_METAVARS.search(text), (name, text)
    # Python's own parsers (pytest's, for one) are left in English
    import argparse

    assert argparse.ArgumentParser(prog="x").format_usage() == "usage: x [-h]\n"


def test_users_commands_print_no_streamlit_warnings(tmp_path):
    """`make run` calls `users init` just before showing the first password: nothing else
    may crowd the screen (Streamlit used to print five warnings here)."""
    users = tmp_path / "users.yaml"
    proc = run("users", "init", "--users-file", users)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("最初の管理者を作成しました。ユーザー名: admin  パスワード: ")
    listed = run("users", "list", "--users-file", users)
    assert listed.returncode == 0 and listed.stderr == ""
    assert listed.stdout.splitlines()[1].startswith("admin,管理者,admin")


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    from tests.conftest import AREAS_CSV
    from tsunagu.store.versions import Store

    root = tmp_path_factory.mktemp("cli-errors") / "data"
    store = Store(root)
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", store).ok
    assert ingest(places_csv().encode(), "places", "2024-07", store).ok
    return root


@pytest.mark.parametrize(
    "value, says",
    [
        ("lots", "「lots」は使えません。メモリの上限を 400MB や 2GB のように"),
        ("1KB", "「1KB」では小さすぎて、データベースを開けません。100MB 以上に"),
    ],
)
def test_a_bad_memory_setting_is_named(small_store, value, says):
    proc = run("query", "months", "--data-dir", small_store, env={"TSUNAGU_DB_MEMORY": value})
    assert_japanese(proc, 2, "環境変数 TSUNAGU_DB_MEMORY の値", says)
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "command", [["history"], ["query", "months"], ["check"], ["handout", "--municipality", "倉敷市"]]
)
def test_a_data_folder_that_is_not_there_is_an_error_not_an_empty_answer(command):
    proc = run(*command, "--data-dir", "/no/such/dir")
    assert_japanese(proc, 2, "データフォルダ「/no/such/dir」がありません。")
    assert proc.stdout == ""


def test_an_impossible_month_in_a_query_is_an_error_not_an_empty_answer(small_store):
    proc = run("query", "places_list", "--param", "month=2024-13", "--data-dir", small_store)
    assert_japanese(proc, 2, "--param month: 「2024-13」は年月（例: 2024-07")
    assert proc.stdout == ""
    era = run("query", "places_list", "--param", "month=令和6年7月", "--data-dir", small_store)
    assert era.returncode == 0 and len(era.stdout.splitlines()) == 3  # header + 2 places


def test_an_empty_data_folder_says_nothing_is_registered(tmp_path):
    proc = run("query", "months", "--data-dir", tmp_path)
    assert_japanese(proc, 1, "にはまだ何も登録されていません。")


GUARDED = r"""
import sys
from tsunagu import cli

def broken(args):
    raise RuntimeError("boom")

cli._history = broken
sys.exit(cli.main(["history"]))
"""


def test_an_unexpected_failure_is_one_japanese_line_and_a_log(tmp_path):
    """Whatever was not foreseen: one Japanese line saying where the details are, the
    traceback in that file (not on the user's screen), and a non-zero status."""
    proc = subprocess.run(
        [sys.executable, "-c", GUARDED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"TMPDIR": str(tmp_path)},
    )
    assert_japanese(proc, 1, "思いがけない問題が起きたため、処理を中止しました。")
    [line] = proc.stderr.splitlines()
    log = Path(re.search(r"詳しい記録を (\S+) に書きました", line).group(1))
    assert log.parent == tmp_path
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError: boom" in text and "history" in text
