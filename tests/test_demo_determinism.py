"""The README promises the demo is the same on every run: nothing in it may depend on the
process's hash seed (set iteration once shuffled the pantry sites' supporter types)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, tree_digest

# what the demo writes that a user reads: the stored months and the CSVs beside them (the
# audit log and the manifest carry timestamps)
COMPARED = ("areas", "places", "pantry", "forums", "boundaries", "_demo_csv")


def test_demo_is_the_same_under_different_hash_seeds(demo_dir, tmp_path):
    """The run's demo store (built in this process, with its own hash seed) against one built
    by the command under another seed."""
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    proc = subprocess.run(
        [sys.executable, "-m", "tsunagu", "demo", "--quiet", "--data-dir", str(tmp_path / "other")],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    digests = [
        {f"{top}/{path}": digest for top in COMPARED for path, digest in tree_digest(root / top).items()}
        for root in (demo_dir, tmp_path / "other")
    ]
    assert any(p.startswith("pantry/month=2024-07/") for p in digests[0])
    assert any(p.startswith("_demo_csv/pantry/") for p in digests[0])
    differ = sorted(
        p for p in digests[0].keys() | digests[1].keys() if digests[0].get(p) != digests[1].get(p)
    )
    assert not differ, f"{len(differ)} files differ between this run and hash seed {seed}: {differ[:10]}"
