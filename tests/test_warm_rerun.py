"""Less CPU per rerun (charts reused, query results kept in the process, the old-folder check
remembered) must not change what anyone sees: every page drawn from the caches sends the same
charts, tables and figures as the same page drawn with them off."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import signed_in
from tsunagu.display import charts

PAGES = ["overview", "places", "pantry", "forums", "district", "prefecture", "present", "handouts"]


def drawn(at: AppTest) -> list:
    """What the page sends that a person sees: each chart's spec and data, each table's
    bytes and column settings, each figure and text, in page order."""
    out = []
    for node in at.main:
        out += _leaves(node)
    return out


def _leaves(node) -> list:
    kind = getattr(node, "type", None)
    if kind == "vega_lite_chart":
        p = node.proto
        return [("chart", p.spec, sorted((d.name, d.data.data) for d in p.datasets), p.data.data)]
    if kind == "arrow_data_frame":
        p = node.proto
        return [("table", p.arrow_data.data, p.columns)]
    if kind == "metric":
        return [("metric", node.label, node.value, node.delta)]
    if kind in ("markdown", "caption", "info", "warning", "error", "title", "header", "subheader"):
        return [(kind, node.value)]
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        return [leaf for child in children.values() for leaf in _leaves(child)]
    return []


def _district_picker(at: AppTest):
    boxes = [w for w in at.multiselect if w.key == "f_dists"]
    if boxes:
        return boxes[0], [[d] for d in boxes[0].options[:2]]
    picks = [w for w in at.selectbox if (w.key or "").startswith("present_pick")]
    return picks[0], list(picks[0].options[1:3])


def _page(demo_dir, monkeypatch, page: str, cache: str) -> AppTest:
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    monkeypatch.setenv(charts.REUSE_ENV, cache)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    signed_in(at, "kacho")
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_a_page_from_the_caches_shows_what_it_shows_without_them(demo_dir, monkeypatch, page):
    at = _page(demo_dir, monkeypatch, page, "off")
    picker, (first, second) = _district_picker(at)
    without = [drawn(at)]
    picker.set_value(first).run()
    without.append(drawn(at))

    at = _page(demo_dir, monkeypatch, page, "on")
    picker, _ = _district_picker(at)
    cached = [drawn(at)]
    picker.set_value(first).run()
    picker, _ = _district_picker(at)
    picker.set_value(second).run()
    picker, _ = _district_picker(at)
    picker.set_value(first).run()  # back to an area seen before: charts and results from the caches
    cached.append(drawn(at))
    assert not at.exception, [e.message for e in at.exception]
    assert cached == without
    assert without[0] != without[1]  # the change of area is on screen: the comparison sees it


def test_a_districts_figures_are_ready_before_anyone_chooses_it(demo_dir, monkeypatch):
    """Opening a municipality runs its pages' queries for each of its districts in the
    background (dashboard.session._warm_siblings): in a meeting, everyone's first choice of a
    district comes at once, and a district chosen first queued behind the others' queries."""
    from collections import OrderedDict

    from tsunagu.dashboard import session
    from tsunagu.query.database import Database

    monkeypatch.setattr(session, "_results", OrderedDict())  # nothing kept from other tests
    monkeypatch.setattr(session, "_warmed", OrderedDict())
    asked: list[tuple[str, object]] = []
    query = Database.query

    def recorded(self, name, **params):
        asked.append((name, params.get("districts")))
        return query(self, name, **params)

    monkeypatch.setattr(Database, "query", recorded)
    at = _page(demo_dir, monkeypatch, "overview", "on")  # 倉敷市全域
    session.warmed()  # the background runs are done
    picker, _ = _district_picker(at)
    districts = list(picker.options)
    warmed = {d[0] for _, d in asked if d}
    assert warmed == set(districts)  # every district of the municipality, in the background

    asked.clear()
    for d in districts:
        picker.set_value([d]).run()
        picker, _ = _district_picker(at)
    assert not at.exception
    assert [a for a in asked if a[1]] == []  # choosing one ran no query: its figures were ready


def test_a_stopping_server_drops_the_districts_it_was_still_warming(monkeypatch):
    """At exit the warming thread finishes the query under way and runs no more, so a restart
    is not held up by districts no one is waiting for."""
    import queue
    import threading

    from tsunagu.dashboard import session

    started, release, ran = threading.Event(), threading.Event(), []

    def slow(*job):
        ran.append(job)
        started.set()
        release.wait(timeout=10)

    monkeypatch.setattr(session, "_warm", slow)
    monkeypatch.setattr(session, "_stopping", threading.Event())
    # a worker of this test's own, on a queue of its own: the dropped jobs go with the test
    monkeypatch.setattr(session, "_jobs", queue.Queue())
    monkeypatch.setattr(session, "_worker", None)
    for n in range(20):
        session._submit(n)
    assert started.wait(timeout=10)
    stopper = threading.Thread(target=session._stop_warming)
    stopper.start()
    release.set()  # the query under way ends
    stopper.join(timeout=15)
    assert not stopper.is_alive()
    assert len(ran) == 1
