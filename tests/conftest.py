"""Shared fixtures: the demo store is built once per run, through the real ingest path."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tsunagu.demo.build import write_demo
from tsunagu.query.database import Database
from tsunagu.store.versions import Store

ROOT = Path(__file__).resolve().parents[1]


def scan_components_once() -> None:
    """Each AppTest scans every installed package for Streamlit components (~0.3 s, mostly
    reading package metadata); a server does it once at start. The packages do not change
    during a run: scan once per process, as the server does."""
    import functools

    from streamlit.components.v2 import manifest_scanner

    if not hasattr(manifest_scanner.scan_component_manifests, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


scan_components_once()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The demo store, built once per run: with several workers (pytest -n), the first builds
    it under a lock in the run's shared folder and the others read the same one. Tests read
    it only; a test that writes copies it first."""
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder all workers of this run share
    path = shared / "demo"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "demo.ready").exists():
            if path.exists():  # a build that did not finish
                import shutil

                shutil.rmtree(path)
            path.mkdir()
            write_demo(path)
            (shared / "demo.ready").touch()
    return path


@pytest.fixture(scope="session")
def demo_db(demo_dir) -> Database:
    return Database(Store(demo_dir))


def tsunagu_cli(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m tsunagu ARGS` as a user types it, from the project folder (`env`: added to
    this process's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "tsunagu", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else os.environ | env,
    )


def q(db: Database, name: str, **params) -> list[tuple]:
    return db.query(name, **params).rows()


AREAS_CSV = """都道府県,市町村,地区,小学校区,人口,65歳以上人口,世帯数
岡山県,倉敷市,玉島,玉島小,12000,3000,5000
岡山県,倉敷市,玉島,長尾小,8000,2600,3500
岡山県,倉敷市,水島,連島東小,10000,2500,4300
岡山県,倉敷市,真備,箭田小,6000,2100,2500
東京都,府中市,中央,府中第一小,9000,2000,4000
広島県,府中市,中央,府中小,5000,1900,2200
"""


@pytest.fixture
def store(tmp_path) -> Store:
    """A small real store with areas (including 府中市 in two prefectures)."""
    from tsunagu.ingest.pipeline import ingest

    s = Store(tmp_path / "data")
    result = ingest(AREAS_CSV.encode(), "areas", "2024-04", s, file_name="areas.csv")
    assert result.ok, result.errors
    return s


def tree_digest(root: Path, skip: tuple[str, ...] = ("_audit", "_lock", "_cache")) -> dict[str, str]:
    """Every file under root with its SHA-256, except the audit log, the lock file and the
    dashboard's loaded-database cache (derived, written in the background: query.warm)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip:
            continue
        out[str(rel)] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


PASSWORDS = {
    "etsuran": "viewer-pass-1",
    "kacho": "manager-pass-2",
    "sc_tanaka": "editor-pass-3",
    "kanri": "admin-pass-4",
    "etsuran2": "viewer-pass-5",
    "tateshina": "editor-pass-6",
    "nagano_etsuran": "viewer-pass-7",
    "nagano_kanri": "admin-pass-8",
    "kurashiki_kacho": "manager-pass-9",
}
ROLES = {
    "etsuran": "viewer",
    "kacho": "manager",
    "sc_tanaka": "editor",
    "kanri": "admin",
    "etsuran2": "viewer",
    "tateshina": "editor",
    "nagano_etsuran": "viewer",
    "nagano_kanri": "admin",
    "kurashiki_kacho": "manager",
}
# users limited to places (the rest act everywhere), as `users add --municipality/--prefecture` keeps them
SCOPES = {
    "tateshina": {"municipalities": [["長野県", "立科町"]]},
    "nagano_etsuran": {"prefecture": "長野県"},
    "nagano_kanri": {"prefecture": "長野県"},
    "kurashiki_kacho": {"municipalities": [["岡山県", "倉敷市"]]},
}


@pytest.fixture(scope="session", autouse=True)
def users_file(tmp_path_factory) -> Path:
    """Test users (passwords known to the tests), in a file outside the repo."""
    from tsunagu.access import users
    from tsunagu.contract.scope import Scope

    path = tmp_path_factory.mktemp("users") / "users.yaml"
    for name, role in ROLES.items():
        users.add(
            name,
            PASSWORDS[name],
            role,
            name=f"{name}さん",
            district="玉島" if name == "sc_tanaka" else None,
            path=path,
            scope=Scope.from_record(SCOPES.get(name)),
        )
    os.environ["TSUNAGU_USERS_FILE"] = str(path)
    return path


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    # tests name their data dir explicitly; a developer's TSUNAGU_DATA_DIR must not leak in
    if "TSUNAGU_DATA_DIR" in os.environ:
        monkeypatch.delenv("TSUNAGU_DATA_DIR")


# the longest tests start first, so that with several workers (make test) none is left
# running alone at the end; the rest keep their order
LONGEST_FIRST = (
    "tests/test_disclosure.py",
    "tests/test_browser.py",
    "tests/test_browser_a11y.py",
    "tests/test_browser_attacks.py",
    "tests/test_browser_sessions.py",
    "tests/test_bench.py",
    "tests/test_deploy.py",
    "tests/test_browser_guide.py",
    "tests/test_browser_editing.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file is kept


@pytest.fixture(scope="module")
def browser():
    """Chromium for the length of a browser test module (test_deploy.py has its own, trusting
    Caddy's certificate)."""
    from tests.browser_helpers import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def demo_server(demo_dir):
    """A dashboard on the demo store, for the browser tests that only read it and sign in as
    the standard users: one per worker process, shared by its modules."""
    from tests.browser_helpers import served

    with served(demo_dir) as url:
        yield url
