"""Where the data lives."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUERIES_DIR = PROJECT_ROOT / "queries"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """--data-dir, else $TSUNAGU_DATA_DIR, else data/ in the project."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("TSUNAGU_DATA_DIR")
    return Path(env) if env else PROJECT_ROOT / "data"
