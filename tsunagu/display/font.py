"""The one Japanese font of charts, PNGs and PDFs: IPAex Gothic, shipped in a PyPI wheel
(matplotlib-fontja), so a fresh machine needs only the package index and no network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FONT_FAMILY = "IPAexGothic"


def font_path() -> Path:
    """ipaexg.ttf inside the installed matplotlib-fontja wheel, found without importing it
    (its __init__ would import matplotlib)."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    for base in (spec.submodule_search_locations or []) if spec else []:
        path = Path(base) / "fonts" / "ipaexg.ttf"
        if path.exists():
            return path
    raise RuntimeError(
        "日本語フォント（IPAexゴシック）が見つかりません。"
        "`pip install -r requirements.txt` で matplotlib-fontja を入れてください。"
    )
