"""The empty sheet a coordinator starts from."""

from __future__ import annotations

from tsunagu.contract.schema import DATASETS


def template_csv(dataset: str) -> bytes:
    """An empty sheet with the Japanese headers, as Excel opens it (UTF-8 with BOM)."""
    headers = ",".join(c.header for c in DATASETS[dataset].columns)
    return ("\ufeff" + headers + "\r\n").encode("utf-8")
