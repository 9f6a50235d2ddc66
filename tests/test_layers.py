"""The product never imports the development tools: the dashboard, its pages and its command
line run without tools/ (and without tools/requirements.txt)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def product_files():
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "tsunagu").rglob("*.py"))]


def test_the_product_never_imports_a_tool():
    files = product_files()
    assert len(files) > 30
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p)
                                                  if m == "tools" or m.startswith("tools."))
                 for p in files}
    assert {p: m for p, m in offenders.items() if m} == {}


def test_the_check_sees_an_import_of_a_tool(tmp_path):
    """The check itself: a module importing a tool, directly or from the package, is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom tools import bench\n\ndef f():\n    import tools.synth\n", encoding="utf-8")
    assert {"tools", "tools.synth"} <= imported_modules(bad)
