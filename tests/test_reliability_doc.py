"""docs/reliability.md stays true: every command in it names a test that exists, every
hardening test is in it, and its counts are the ones the tests use."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
HARDENING = [
    "tests/test_faults.py",
    "tests/test_hostile_input.py",
    "tests/test_access.py",
    "tests/test_browser_attacks.py",
]


def functions_of(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_command_names_an_existing_test():
    """Each `tests/…::name[param]` in the table runs something real."""
    ids = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+)(?:\[([^\]]+)\])?)?`", DOC)
    assert len(ids) >= 30
    for path, name, param in ids:
        assert (ROOT / path).exists(), path
        if name:
            assert name in functions_of(path), f"{path}::{name}"
        if param:
            assert f'"{param}"' in (ROOT / path).read_text(encoding="utf-8"), f"{path}::{name}[{param}]"


def test_every_hardening_test_is_in_the_table():
    for path in HARDENING:
        missing = {n for n in functions_of(path) if f"{path}::{n}" not in DOC}
        assert missing == set(), path


def test_counts_in_the_table_are_the_tests_counts():
    from tests import test_access, test_hostile_input

    corpus = len(test_hostile_input.CORPUS)
    assert f"悪いファイル {corpus} 種" in DOC and f"| {corpus} | すべて 30 秒以内に" in DOC
    assert f"文字列 {len(test_access.PAYLOADS)} 種" in DOC
    assert f"{len(test_access.NAMES)} 種×2" in DOC
    assert test_hostile_input.EXAMPLES == {"bytes": 500, "csv": 150, "mutated": 150}
    assert "| 500 |" in DOC and DOC.count("| 150 |") == 2
    assert "docs/reliability.md" in (ROOT / "README.md").read_text(encoding="utf-8")
