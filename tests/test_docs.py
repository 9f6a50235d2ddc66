"""Docs and code stay honest with each other: every query is documented, commented and used by
the product; every schema column is in the project's own contract (docs/contract.md), and the
contract's prose names only columns that exist."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT
from tsunagu.contract import document
from tsunagu.contract.schema import DATASETS
from tsunagu.query.database import load_query, query_params

QUERIES = sorted(p.stem for p in (ROOT / "queries").glob("*.sql"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRACT = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
# the product: what runs for a user (tests and tools/ do not count as a use)
PRODUCT = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "tsunagu").rglob("*.py"))]
# queries that only the tests run today: kept (they check published figures), but no page,
# document or command asks them. Remove a name here when the product starts to use it.
USED_ONLY_BY_TESTS = {"forums_by_fiscal_year"}


def product_strings() -> set[str]:
    """Every string literal of the product's code: a query is named whole, as one literal."""
    found = set()
    for path in PRODUCT:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_query_has_a_header_naming_its_params():
    for name in QUERIES:
        sql = load_query(name)
        assert sql.startswith(f"-- {name}: "), name
        header = "".join(line for line in sql.splitlines() if line.startswith("--"))
        for param in query_params(sql):
            assert f"${param}" in header, (name, param)


def test_every_query_is_in_the_readme():
    section = README.split("## 名前付きクエリ")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert set(QUERIES) - documented == set()
    assert documented - set(QUERIES) == set(), "the README lists a query that queries/ does not have"


def test_every_query_is_used_by_the_product():
    assert len(PRODUCT) > 40 and any(p.parent.name == "documents" for p in PRODUCT)
    unused = set(QUERIES) - product_strings()
    assert unused == USED_ONLY_BY_TESTS, "used by no page, module of tsunagu/ or app.py"


def test_every_schema_column_is_in_the_contract():
    for ds in DATASETS.values():
        assert f"`{ds.name}`" in README
        assert f"### `{ds.name}` {ds.label}" in CONTRACT
        for col in ds.columns:
            assert f"`{col.key}`" in CONTRACT, f"{ds.name}.{col.key} is not in docs/contract.md"


def test_the_contract_prose_names_only_columns_that_exist():
    """The hand-written part of docs/contract.md (outside the generated tables and the list of
    what is not built yet) names columns and datasets the schema has."""
    start, end = CONTRACT.index(document.START), CONTRACT.index(document.END)
    prose = (CONTRACT[:start] + CONTRACT[end:]).split("## 今後の対応（未実装）")[0]
    named = set(re.findall(r"`([a-z][a-z0-9_]*)`", prose))
    assert {"district", "school_district", "areas"} <= named
    keys = {k for ds in DATASETS.values() for k in ds.keys}
    assert named - keys - set(DATASETS) == set()


def test_the_docs_link_only_to_files_a_clone_has():
    """The README and docs/ once pointed to ../shared/, outside the repository."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, page.name
        prose = re.sub(r"`[^`\n]*`", "", text)  # a link written as code is an example, not a link
        for target in re.findall(r"\]\(([^)#]+)[^)]*\)", prose):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (page.parent / target).exists(), (page.name, target)
    assert "[docs/contract.md](docs/contract.md)" in README
    assert "[docs/published-figures.md](docs/published-figures.md)" in README
    assert "[docs/architecture.md](docs/architecture.md)" in README


def test_the_readme_shows_the_survey_mapping_the_report_uses():
    """The README's table of the project's categories → the survey's headings is the code's table."""
    from tsunagu.contract import survey

    section = README.split("つなぐの区分から調査の区分への対応")[1].split("\n\n**")[0]
    shown = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and "→" in cells[0] and cells[1] != "つなぐの値":
            column, item = (c.strip() for c in cells[0].split("→"))
            shown |= {(column, v, item, cells[2]) for v in cells[1].split("、")}
    assert shown == set(survey.mapping_rows())
