"""docs/contract.md says what the code does: its column tables are the schema's, rendered, and
what it lists as not done yet is indeed not in the schema."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.conftest import ROOT
from tsunagu import cli
from tsunagu.contract import document
from tsunagu.contract.schema import DATASETS

CONTRACT = ROOT / "docs" / "contract.md"


def test_the_contract_tables_are_the_schema_rendered():
    text = CONTRACT.read_text(encoding="utf-8")
    assert document.tables_in(text) == document.render_tables(), (
        "docs/contract.md's column tables differ from tsunagu/contract/schema.py: "
        f"run `{document.REGENERATE}` (or `make docs`) and commit the result"
    )


def test_a_change_to_the_schema_changes_the_tables(monkeypatch):
    """The comparison above can fail: a new allowed value, a column made optional and a new
    range each show in the rendered tables."""
    places = DATASETS["places"]
    changed = []
    for col in places.columns:
        if col.key == "status":
            col = dataclasses.replace(col, values=(*col.values, "準備中"))
        elif col.key == "name":
            col = dataclasses.replace(col, required=False)
        elif col.key == "participants_avg":
            col = dataclasses.replace(col, max=500)
        changed.append(col)
    monkeypatch.setitem(document.DATASETS, "places", dataclasses.replace(places, columns=tuple(changed)))
    rendered = document.render_tables()
    assert rendered != document.tables_in(CONTRACT.read_text(encoding="utf-8"))
    assert "活動中、休止中、終了、準備中 |" in rendered
    assert "| 名称 | `name` | 文字 | 任意 |" in rendered
    assert "| `participants_avg` | 整数 | 任意 | 0以上500以下 |" in rendered


def test_every_column_is_a_row_with_its_header_key_and_values():
    rendered = document.render_tables()
    for ds in DATASETS.values():
        section = rendered.split(f"### `{ds.name}`")[1].split("### ")[0]
        rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
        assert [re.search(r"`(\w+)`", r)[1] for r in rows] == ds.keys
        for col, row in zip(ds.columns, rows):
            assert row.startswith(f"| {col.header} | `{col.key}` |")
            assert ("| 必須 |" if col.required else "| 任意 |") in row
            assert all(v in row for v in col.values)


def test_what_is_listed_as_not_done_is_not_in_the_schema():
    """Once a column or dataset of 「今後の対応（未実装）」 is built, the page must move it up."""
    text = CONTRACT.read_text(encoding="utf-8")
    later = text.split("## 今後の対応（未実装）")[1].split("\n---")[0]
    named = set(re.findall(r"`([a-z_]+)`", later))
    keys = {k for ds in DATASETS.values() for k in ds.keys}
    assert named & (keys | set(DATASETS)) == set()


def test_contract_doc_write_rewrites_only_the_tables(tmp_path, capsys):
    page = tmp_path / "contract.md"
    before, after = "# 約束\n\n手で書いた文。\n\n", "\n\n## 次の節\n"
    page.write_text(f"{before}{document.START}\n古い表\n{document.END}{after}", encoding="utf-8")
    page.chmod(0o644)
    assert cli.main(["contract-doc", "--write", "--file", str(page)]) == 0
    assert "列の表を schema.py から書き直しました" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert text.startswith(before + document.START) and text.endswith(document.END + after)
    assert "古い表" not in text
    assert document.tables_in(text) == document.render_tables()
    assert page.stat().st_mode & 0o777 == 0o644
    assert cli.main(["contract-doc", "--write", "--file", str(page)]) == 0
    assert "変更はありません" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content", ["# 印のないページ\n", f"{document.END}\n{document.START}\n", f"{document.START}\n"]
)
def test_contract_doc_write_refuses_a_page_without_markers(tmp_path, capsys, content):
    page = tmp_path / "contract.md"
    page.write_text(content, encoding="utf-8")
    assert cli.main(["contract-doc", "--write", "--file", str(page)]) == 1
    err = capsys.readouterr().err
    assert "表を書く位置がわかりません" in err and document.START in err
    assert page.read_text(encoding="utf-8") == content


def test_contract_doc_prints_the_tables(capsys):
    assert cli.main(["contract-doc"]) == 0
    assert capsys.readouterr().out == document.render_tables() + "\n"
