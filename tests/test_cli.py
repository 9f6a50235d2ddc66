"""The command line, as a coordinator or an administrator types it."""

from __future__ import annotations

import pytest

from tests.conftest import AREAS_CSV, tsunagu_cli
from tests.test_ingest_formats import PLACES_ROWS, places_csv

run = tsunagu_cli


def cli_ingest(data, dataset: str, month: str, *args):
    """`python -m tsunagu ingest` of one file into `data` (args: options, then the file)."""
    return run("ingest", "--dataset", dataset, "--month", month, "--data-dir", data, *args)


def test_ingest_success_prints_one_summary_line(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "areas.csv").write_text(AREAS_CSV, encoding="utf-8")
    (tmp_path / "places.csv").write_bytes(places_csv().encode("cp932"))
    out = cli_ingest(data, "areas", "2024-04", str(tmp_path / "areas.csv"))
    assert out.returncode == 0, out.stderr
    out = cli_ingest(data, "places", "R6.7", "--user", "yamada", str(tmp_path / "places.csv"))
    assert out.returncode == 0, out.stderr
    (line,) = out.stdout.splitlines()
    assert line.startswith("登録しました: 居場所・通いの場 2024年7月（令和6年7月） 2行")
    assert (data / "places" / "month=2024-07" / "data.parquet").exists()
    hist = run("history", "--dataset", "places", "--data-dir", str(data))
    assert hist.returncode == 0
    assert ",ingest,committed,places,2024-07,岡山県倉敷市,yamada,places.csv,2," in hist.stdout


def test_ingest_refusal_lists_every_error_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "areas.csv").write_text(AREAS_CSV, encoding="utf-8")
    cli_ingest(data, "areas", "2024-04", str(tmp_path / "areas.csv"))
    bad = places_csv([PLACES_ROWS[0].replace("玉島,", "玉嶋,"), PLACES_ROWS[1].replace("カフェ", "喫茶")])
    (tmp_path / "bad.csv").write_bytes(bad.encode("cp932"))
    out = cli_ingest(data, "places", "2024-07", str(tmp_path / "bad.csv"))
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert lines[0].startswith("[エラー] 2行目・D列（地区）: 「玉嶋」は倉敷市の地区にありません。")
    assert lines[1].startswith("[エラー] 3行目・F列（種別）: 「喫茶」は選べる値ではありません。")
    assert (
        lines[2]
        == "登録しませんでした: 居場所・通いの場 2024年7月（令和6年7月） — エラー 2件（データは変更していません）"
    )
    assert not (data / "places").exists()


def test_data_dir_from_environment(tmp_path):

    (tmp_path / "areas.csv").write_text(AREAS_CSV, encoding="utf-8")
    env = {"TSUNAGU_DATA_DIR": str(tmp_path / "envdata")}
    out = run("ingest", "--dataset", "areas", "--month", "2024-04", str(tmp_path / "areas.csv"), env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "envdata" / "areas" / "month=2024-04" / "data.parquet").exists()


@pytest.mark.parametrize(
    "name, reason", [("nai.csv", "ファイルまたはフォルダがありません"), (".", "ファイルではなくフォルダです")]
)
def test_a_file_that_cannot_be_read_is_a_clear_error_in_japanese(tmp_path, name, reason):
    path = tmp_path / name
    out = run("ingest", "--dataset", "places", "--month", "2024-07", "--data-dir", str(tmp_path), str(path))
    assert out.returncode == 2
    assert out.stderr.strip() == f"ファイルを読めません: {path}（{reason}）"
