"""The layers stay layers: each folder of tsunagu/ imports only the layers below it (the table
in docs/architecture.md), Streamlit stays in the sign-in and the dashboard, and the product
never imports the development tools (tools/)."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT

# what each layer may import, in the order data flows; config.py (where the data lives) is
# open to all. docs/architecture.md shows this table; a test keeps the two equal.
LAYERS: dict[str, set[str]] = {
    "contract": set(),
    "store": {"contract"},
    "ingest": {"contract", "store"},
    "query": {"contract", "store"},
    "display": {"contract"},
    "access": {"contract", "store"},
    "dashboard": {"contract", "store", "ingest", "query", "display", "access"},
    "documents": {"contract", "query", "display"},
    "demo": {"contract", "store", "ingest"},
    # the command line (cli.py, cliargs.py, __main__.py): everything but the dashboard
    "cli": {"contract", "store", "ingest", "query", "display", "access", "documents", "demo"},
}
STREAMLIT_LAYERS = {"access", "dashboard"}  # the rest runs from the command line too


def imports(path) -> set[str]:
    """Every module a file imports, at any depth of the file (a lazy import counts too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def layer_of(path) -> str:
    parts = path.relative_to(ROOT / "tsunagu").parts
    return parts[0] if len(parts) > 1 else "cli"


def imported_layer(module: str) -> str | None:
    """The layer a `tsunagu...` module belongs to; None for config and what is not tsunagu's."""
    parts = module.split(".")
    if parts[0] != "tsunagu" or len(parts) < 2 or parts[1] == "config":
        return None
    return parts[1] if parts[1] in LAYERS else "cli"


def violations(files) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        mine = layer_of(path)
        bad = []
        for module in sorted(imports(path)):
            if module == "tools" or module.startswith("tools."):
                bad.append(f"{module} (a development tool)")
            elif module.split(".")[0] == "streamlit" and mine not in STREAMLIT_LAYERS:
                bad.append(f"{module} (Streamlit outside access/ and dashboard/)")
            else:
                theirs = imported_layer(module)
                if theirs and theirs != mine and theirs not in LAYERS[mine]:
                    bad.append(f"{module} ({mine} may not import {theirs})")
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def package_files():
    return sorted((ROOT / "tsunagu").rglob("*.py"))


def test_every_folder_of_the_package_is_a_layer():
    folders = {p.name for p in (ROOT / "tsunagu").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(LAYERS) - {"cli"}
    loose = {p.name for p in (ROOT / "tsunagu").glob("*.py")}
    assert loose == {"__init__.py", "__main__.py", "cli.py", "cliargs.py", "config.py"}


def test_each_layer_imports_only_the_layers_below_it():
    files = package_files()
    assert len(files) > 40
    assert violations(files) == {}


def test_the_product_never_imports_a_tool():
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in imports(p) if m.split(".")[0] == "tools") for p in files
    }
    assert {p: m for p, m in offenders.items() if m} == {}


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("store/late.py", "from tsunagu.dashboard import session\n", "store may not import dashboard"),
        ("contract/late.py", "def f():\n    import tsunagu.ingest.read\n", "contract may not import ingest"),
        (
            "documents/late.py",
            "from tsunagu.dashboard.widgets import table\n",
            "documents may not import dashboard",
        ),
        ("display/late.py", "import streamlit as st\n", "Streamlit outside"),
        ("cli_extra.py", "from tsunagu import dashboard\n", "cli may not import dashboard"),
        ("query/late.py", "from tools import bench\n", "a development tool"),
    ],
)
def test_the_rule_sees_a_forbidden_import(tmp_path, monkeypatch, where, source, expected):
    """The rule itself: a file added in the wrong place is named with the reason."""
    fake = tmp_path / "tsunagu" / where
    fake.parent.mkdir(parents=True)
    fake.write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    found = violations([fake])
    assert list(found) == [str(fake.relative_to(tmp_path))]
    assert any(expected in reason for reason in found[str(fake.relative_to(tmp_path))])


def test_the_architecture_page_shows_the_same_rule():
    """docs/architecture.md's table (layer | folder | may import) is this file's LAYERS."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*\d+\s*\|\s*`([^`]+)`\s*\|[^|]*\|([^|]*)\|\s*$", text, re.M)
    table = {}
    for folder, allowed in rows:
        layer = "cli" if folder.endswith(".py") else folder.removeprefix("tsunagu/").strip("/")
        table[layer] = set(re.findall(r"`([a-z]+)`", allowed))
    assert table == LAYERS


def test_the_architecture_page_names_files_that_exist():
    """The path of a figure names real files, and each step's folder is a layer."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    steps = re.findall(r"^\d+\. (.+)$", text, re.M)
    assert len(steps) >= 8
    named = re.findall(r"`((?:tsunagu|queries|pages)/[^`]+)`", text)
    assert len(named) >= 10
    assert [p for p in named if not any(ROOT.glob(p))] == []
    for step in steps[1:]:  # the first is the user's file, not yet in the project
        folders = re.findall(r"`tsunagu/([a-z]+)/", step)
        assert all(f in LAYERS for f in folders), step


def test_the_architecture_page_names_every_module_in_its_layer():
    """A newcomer finds each module in its layer's row (named in parentheses, e.g. 「（geo）」)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\|\s*\d+\s*\|\s*`([a-z]+)`\s*\|([^|]*)\|", text, re.M))
    unnamed = [
        f"{path.parent.name}/{path.stem}"
        for path in sorted((ROOT / "tsunagu").glob("*/*.py"))
        if path.stem != "__init__" and not re.search(rf"[（、 ]{path.stem}[）、]", rows[path.parent.name])
    ]
    assert unnamed == []
