"""The pieces of the upload page that are plain functions: the diff and the templates."""

from __future__ import annotations

import polars as pl

from tests.conftest import PASSWORDS  # noqa: F401 - the users fixture sets TSUNAGU_USERS_FILE
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.contract.schema import TABLE_DATASETS
from tsunagu.ingest.diff import compare
from tsunagu.ingest.pipeline import ingest, validate_upload
from tsunagu.ingest.template import template_csv


def test_places_diff_lists_added_removed_and_changed(store):
    assert ingest(places_csv().encode(), "places", "2024-07", store).ok
    new = places_csv(
        [
            PLACES_ROWS[0].replace("活動中", "休止中").replace("サロン", "カフェ"),
            "TM-003,新しいサロン,倉敷市,玉島,玉島小,サロン,いいえ,活動中,,,,,",
        ]
    )
    change = compare(
        "places",
        store.read_month("places", "2024-07"),
        validate_upload(new.encode(), "places", "2024-07", store).frame,
    )
    assert change.added["place_id"].to_list() == ["TM-003"]
    assert change.removed["place_id"].to_list() == ["TM-002"]
    # every field that differs, in the contract's order (the replace also renamed the salon)
    assert change.changed.select("place_id", "what", "before", "after").rows() == [
        ("TM-001", "名称", "ふれあいサロン①", "ふれあいカフェ①"),
        ("TM-001", "種別", "サロン", "カフェ"),
        ("TM-001", "状態", "活動中", "休止中"),
    ]
    totals = dict(zip(change.totals["measure"], zip(change.totals["before"], change.totals["after"])))
    assert totals["活動中"] == (1, 1) and totals["休止中"] == (1, 1) and totals["うち補助金対象"] == (1, 0)


def test_pantry_diff_gives_totals_before_and_after(store):
    from tests.test_ingest_formats import PANTRY_CSV

    frame = validate_upload(PANTRY_CSV.encode(), "pantry", "2024-07", store).frame
    change = compare("pantry", None, frame)
    assert change.added["pantry_id"].to_list() == ["P-001", "P-002"] and change.changed.height == 0
    totals = dict(zip(change.totals["measure"], change.totals["after"]))
    assert totals["行数"] == 2 and totals["利用世帯数"] == 1031 and totals["相談件数"] == 5


def test_templates_have_japanese_headers_and_open_in_excel(store):
    for name, ds in TABLE_DATASETS.items():
        data = template_csv(name)
        assert data.startswith(b"\xef\xbb\xbf")
        assert data[3:].decode("utf-8").strip() == ",".join(c.header for c in ds.columns)
    # a filled-in template is accepted as it is
    filled = (
        template_csv("places")[3:].decode()
        + PLACES_ROWS[0].replace(
            "TM-001,ふれあいサロン①,倉敷市,玉島,玉島小,サロン,はい,活動中,R6.7,2,12,34.54,133.67",
            "TM-001,ふれあいサロン①,,倉敷市,玉島,玉島小,サロン,,,,2,はい,活動中,R6.7,12,34.54,133.67",
        )
        + "\r\n"
    )
    result = ingest(filled.encode("utf-8-sig"), "places", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    assert pl.Series(store.read_month("places", "2024-07")["sessions_per_month"]).to_list() == [2.0]
