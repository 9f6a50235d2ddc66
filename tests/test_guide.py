"""The first-run guide: on an empty data folder an editor starts on the four steps, each
ticked once its data is in the store for their municipalities; a viewer is told whom to ask."""

from __future__ import annotations

import io

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import AREAS_CSV, ROOT
from tests.test_app import metrics, signed_in
from tests.test_ingest_formats import places_csv
from tsunagu.contract.schema import DATASETS, TABLE_DATASETS
from tsunagu.contract.scope import EVERYWHERE, Scope
from tsunagu.dashboard import guide
from tsunagu.ingest.pipeline import ingest
from tsunagu.store.versions import Store

STEP_TITLES = [f"{i}. {s.title}" for i, s in enumerate(guide.STEPS, start=1)]


@pytest.fixture
def offered(monkeypatch) -> dict[str, tuple[str, bytes]]:
    """What each download button of a run offers, by its URL: (file name, bytes). AppTest
    drops its media store after the run."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    files: dict[str, tuple[str, bytes]] = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        file_id = load(self, data, mimetype, kind, filename)
        files[self.get_url(file_id)] = (filename, bytes(data))
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


@pytest.fixture
def empty(tmp_path, monkeypatch) -> Store:
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(tmp_path / "data"))
    return Store(tmp_path / "data")


def run(user: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    signed_in(at, user)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def steps(at: AppTest) -> list[tuple[str, str]]:
    """Each step's heading as the editor reads it: (title, 済み / 一部済み / まだ)."""
    out = []
    for m in at.markdown:
        if m.value.startswith("## ") and any(t in m.value for t in STEP_TITLES):
            title = next(t for t in STEP_TITLES if t in m.value)
            status = m.value.rsplit("\u3000", 1)[1]
            out.append((title, status.replace(":green[", "").rstrip("]")))
    return out


def links(at: AppTest) -> dict[str, tuple[str, bool]]:
    """Each page link: label -> (page?query, enabled)."""
    return {
        el.proto.label: (f"{el.proto.page}?{el.proto.query_string}", not el.proto.disabled)
        for el in at.get("page_link")
    }


def headers_of(template: bytes) -> list[str]:
    """The column headings of a template, whether CSV or Excel workbook."""
    if template[:2] == b"PK":
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(template)).active
        return [str(c.value) for row in sheet.iter_rows(max_row=10) for c in row if c.value is not None]
    return template.decode("utf-8-sig").splitlines()[0].split(",")


def test_editor_on_an_empty_folder_starts_on_the_four_steps_none_ticked(empty, offered):
    at = run("sc_tanaka")
    assert [t.value for t in at.title] == ["はじめに"]
    assert steps(at) == [(t, "まだ") for t in STEP_TITLES]
    assert "4つの手順のうち 0つが済みました" in at.get("progress")[0].proto.text
    # the first step explains itself with an example of 倉敷市's rows
    example = at.dataframe[0].value
    assert list(example.columns)[:6] == ["都道府県", "市町村", "地区", "小学校区", "人口", "65歳以上人口"]
    assert set(example["市町村"]) == {"倉敷市"}
    # each step links to the upload page set to its dataset; before the areas, only that one
    assert links(at) == {
        "圏域マスタを登録する": ("upload?dataset=areas", True),
        "居場所・通いの場を登録する": ("upload?dataset=places", False),
        "互近助パントリーを登録する": ("upload?dataset=pantry", False),
        "フォーラム・交流会を登録する": ("upload?dataset=forums", False),
    }
    # and offers its template, headed as the contract says
    buttons = at.get("download_button")
    assert [b.proto.label.split("のひな形")[0] for b in buttons] == [d.label for d in TABLE_DATASETS.values()]
    for button, dataset in zip(buttons, TABLE_DATASETS.values()):
        name, template = offered[button.proto.url]
        assert name.startswith(f"ひな形_{dataset.label}.")
        headers = headers_of(template)
        assert all(c.header in headers for c in dataset.columns), dataset.name


def test_areas_tick_step_one_and_places_bring_home_its_figures(empty):
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", empty).ok
    at = run("sc_tanaka")
    assert at.title[0].value == "はじめに"  # nothing to show on ホーム yet
    assert steps(at)[0] == (STEP_TITLES[0], "済み")
    assert [s for _, s in steps(at)[1:]] == ["まだ"] * 3
    assert links(at)["居場所・通いの場を登録する"] == ("upload?dataset=places", True)

    # places for one of the three municipalities of the areas: begun, not done; ホーム now opens
    assert ingest(places_csv().encode(), "places", "2024-07", empty).ok
    at = run("sc_tanaka")
    assert at.title[0].value == "地域づくりダッシュボード「つなぐ」"
    assert metrics(at)["通いの場（活動中）"] == "1か所"
    at.switch_page("pages/start.py").run()
    assert steps(at)[1] == (STEP_TITLES[1], "一部済み")
    assert any("まだ: 東京都府中市、広島県府中市" in c.value for c in at.caption)
    assert "ホームを見る" in links(at)


def test_all_steps_done_points_home(empty):
    # a municipality's editor: done once 立科町 alone has every dataset
    areas = "都道府県,市町村,地区,小学校区,人口,65歳以上人口\n長野県,立科町,芦田,立科,7000,2800\n"
    assert ingest(areas.encode(), "areas", "2024-04", empty).ok
    scope = Scope(municipalities=frozenset({("長野県", "立科町")}))
    place = "TS-1,みんなの茶の間,立科町,芦田,立科,サロン,はい,活動中,,,,,"
    assert ingest(places_csv([place]).encode(), "places", "2024-07", empty, scope=scope).ok
    pantry = (
        ",".join(c.header for c in DATASETS["pantry"].columns)
        + "\nTP-1,駅前,長野県,立科町,芦田,立科,教会等,随時相談・対応,,1,2,3,4,5,6\n"
    )
    assert ingest(pantry.encode(), "pantry", "2024-07", empty, scope=scope).ok
    forums = ",".join(c.header for c in DATASETS["forums"].columns) + "\n"
    assert ingest(forums.encode(), "forums", "2024-07", empty, scope=scope, municipality="立科町").ok
    assert guide.progress(empty, scope).complete
    at = run("tateshina")
    at.switch_page("pages/start.py").run()
    assert "すべての手順が済みました" in at.success[0].value
    assert links(at)["ホームで数字を見る"][1] and all(s == "済み" for _, s in steps(at))


def test_steps_count_only_the_users_own_municipalities(store):
    """Areas of 倉敷市 and both 府中市 leave 立科町's editor at step 1."""
    assert guide.progress(store, EVERYWHERE).steps[0].complete
    mine = guide.progress(store, Scope(municipalities=frozenset({("長野県", "立科町")})))
    assert not mine.steps[0].started and mine.first
    tokyo = guide.progress(store, Scope(prefecture="東京都")).steps[0]
    assert tokyo.done == (("東京都", "府中市"),) and tokyo.complete


def test_viewer_on_an_empty_folder_is_told_whom_to_ask_and_offered_no_upload(empty):
    at = run("etsuran")
    (warning,) = [w.value.replace("\\", "") for w in at.warning]  # as read: Markdown escapes gone
    assert "まだデータが登録されていません" in warning
    assert "管理者: kanriさん、nagano_kanriさん" in warning
    assert "データ更新の担当: sc_tanakaさん、tateshinaさん" in warning
    assert not at.get("page_link") and not at.get("file_uploader")
    # someone acting for 倉敷市 hears of those who reach 倉敷市, not of 長野県's
    (warning,) = [w.value.replace("\\", "") for w in run("kurashiki_kacho").warning]
    assert "管理者: kanriさん" in warning and "データ更新の担当: sc_tanakaさん" in warning
    assert "nagano" not in warning and "tateshina" not in warning


def test_whom_to_ask_names_people_never_their_usernames(tmp_path, monkeypatch):
    from tsunagu.access import users

    path = tmp_path / "users.yaml"
    users.add("yamada", "password-1", "admin", name="山田 花子", path=path)
    users.add("ops7", "password-2", "admin", path=path)  # no display name given
    users.add("suzuki", "password-3", "editor", name="鈴木", path=path, scope=Scope(prefecture="長野県"))
    users.add("sato", "password-4", "viewer", name="佐藤", path=path)
    monkeypatch.setenv("TSUNAGU_USERS_FILE", str(path))
    okayama = guide.contacts(Scope(municipalities=frozenset({("岡山県", "倉敷市")})))
    assert (okayama.admins, okayama.editors, okayama.unnamed) == (["山田 花子"], [], 1)
    assert guide.contacts(Scope(prefecture="長野県")).editors == ["鈴木"]
    assert guide.listed([f"{i}さん" for i in range(7)]) == "0さん、1さん、2さん、3さん、4さん ほか2名"
