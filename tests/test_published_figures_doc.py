"""docs/published-figures.md and tsunagu/demo/published.py say the same: every published
figure is on the page with its value, next to a test of test_published_figures.py that exists."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT
from tsunagu.demo import published

PAGE = ROOT / "docs" / "published-figures.md"
FIGURES = {name: value for name, value in vars(published).items() if name.isupper()}


def sections(text: str) -> list[str]:
    """The page cut at every heading: a figure and its test live under one heading."""
    return re.split(r"^(?=#)", text, flags=re.M)


def shown(text: str, value) -> bool:
    """The value written whole in the text: 478,570 (or 478570), 27.8, a name or a month."""
    if isinstance(value, int):
        forms = [f"{value:,}", str(value)]
    elif isinstance(value, float):
        forms = [f"{value:g}"]
    else:
        forms = [str(value)]
    return any(re.search(rf"(?<![\d,.]){re.escape(f)}(?![\d,]|\.\d)", text) for f in forms)


def flat(value) -> list:
    return [x for v in value for x in flat(v)] if isinstance(value, tuple | list) else [value]


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def mismatches(name: str, value, section: str) -> list[str]:
    """What of the figure the section does not show, as a list a reader can act on."""
    lines = section.splitlines()
    if isinstance(value, dict):
        # a table with a column headed by the figure's name; one row per key
        header = next(
            (i for i, line in enumerate(lines) if line.startswith("|") and f"`{name}`" in line), None
        )
        if header is None:
            return [f"no table column headed `{name}`"]
        column = next(j for j, c in enumerate(cells(lines[header])) if f"`{name}`" in c)
        rows = [cells(line) for line in lines[header + 2 :] if line.startswith("|")]
        return [
            f"{key}: {v}"
            for key, v in value.items()
            if not any(shown(r[0], key) and all(shown(r[column], x) for x in flat(v)) for r in rows)
        ]
    if isinstance(value, list):  # records: all of one record on one line
        return [str(rec) for rec in value if not any(all(shown(line, x) for x in rec) for line in lines)]
    return [str(x) for x in flat(value) if not shown(section, x)]


def test_the_page_reads_the_figures_it_is_checked_against():
    assert len(FIGURES) >= 40
    assert FIGURES["KURASHIKI_POPULATION"] == 478_570 and FIGURES["PLACES_ACTIVE"][2023] == 839


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_is_on_the_page_with_its_value_and_test(name):
    homes = [s for s in sections(PAGE.read_text(encoding="utf-8")) if f"`{name}`" in s]
    assert len(homes) == 1, f"`{name}` should be named under exactly one heading of {PAGE.name}"
    assert mismatches(name, FIGURES[name], homes[0]) == []
    assert re.search(r"`tests/test_published_figures\.py::\w+`", homes[0]), f"no test named for {name}"


def test_the_check_sees_a_wrong_value():
    section = "## x\n| 地区 | 2022年10月（`PANTRY_2022_10`） |\n|---|---|\n| 倉敷 | 29 |\n| 水島 | 16 |\n"
    assert mismatches("PANTRY_2022_10", {"倉敷": 29, "水島": 15}, section) == ["水島: 15"]
    assert mismatches("X", 478_570, "人口 478,57人") == ["478570"]
    assert mismatches("X", 7, "2017年") == ["7"]
    assert mismatches("X", [("2017-08-31", "居場所交流会", 23)], "| 2017-08-31 | 居場所交流会 | 32 |") != []


def test_the_page_names_only_figures_and_tests_that_exist():
    text = PAGE.read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text))
    assert named - set(FIGURES) == set(), "the page names figures published.py does not have"
    node_ids = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))
    assert len(node_ids) >= 15
    for path, function in sorted(node_ids):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert function in tests, f"{path}::{function} does not exist"
