"""Docs and code stay honest with each other: every query is documented, commented and used;
every contract column is handled."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tsunagu.contract.schema import DATASETS
from tsunagu.query.database import load_query, query_params

QUERIES = sorted(p.stem for p in (ROOT / "queries").glob("*.sql"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = "\n".join(
    p.read_text(encoding="utf-8")
    for p in [
        *(ROOT / "pages").glob("*.py"),
        *(ROOT / "tests").glob("test_*.py"),
        *(ROOT / "tsunagu").glob("*.py"),
    ]
)


def test_every_query_has_a_header_naming_its_params():
    for name in QUERIES:
        sql = load_query(name)
        assert sql.startswith(f"-- {name}: "), name
        header = "".join(line for line in sql.splitlines() if line.startswith("--"))
        for param in query_params(sql):
            assert f"${param}" in header, (name, param)


def test_every_query_is_documented_and_used():
    for name in QUERIES:
        assert f"`{name}`" in README, f"{name} is not in the README"
        assert re.search(rf"[\"']{name}[\"']", CODE), f"{name} is used by no page, module or test"


def test_every_contract_column_is_in_the_readme_and_schema():
    contract = ROOT.parent / "shared" / "contract.md"
    if contract.exists():
        text = contract.read_text(encoding="utf-8")
        for ds in DATASETS.values():
            for col in ds.columns:
                assert col.key in text, f"{ds.name}.{col.key} is not in the contract"
    for ds in DATASETS.values():
        assert f"`{ds.name}`" in README
