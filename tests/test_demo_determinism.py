"""The README promises the demo is the same on every run: nothing in it may depend on the
process's hash seed (set iteration once shuffled the pantry sites' supporter types)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, tree_digest

# what the demo writes that a user reads: the stored months and the CSVs beside them (the
# audit log and the manifest carry timestamps)
COMPARED = ("areas", "places", "pantry", "forums", "_demo_csv")


def test_demo_is_the_same_under_different_hash_seeds(tmp_path):
    procs = {}
    for seed in ("1", "2"):  # in parallel: each run takes ~8 s of one core
        env = {**os.environ, "PYTHONHASHSEED": seed}
        procs[seed] = subprocess.Popen(
            [sys.executable, "-m", "tsunagu", "demo", "--quiet", "--data-dir", str(tmp_path / seed)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    for seed, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (seed, out, err)
    digests = [
        {
            f"{top}/{path}": digest
            for top in COMPARED
            for path, digest in tree_digest(tmp_path / seed / top).items()
        }
        for seed in procs
    ]
    assert any(p.startswith("pantry/month=2024-07/") for p in digests[0])
    assert any(p.startswith("_demo_csv/pantry/") for p in digests[0])
    differ = sorted(
        p for p in digests[0].keys() | digests[1].keys() if digests[0].get(p) != digests[1].get(p)
    )
    assert not differ, f"{len(differ)} files differ between hash seeds 1 and 2: {differ[:10]}"
