"""Users limited to places: the scope kept in the users file, given on the command line by
name, what an admin of a prefecture may manage, the named detail a manager sees only for
their own municipalities, and where a scoped user opens."""

from __future__ import annotations

import io
import shutil

import polars as pl
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import metrics, signed_in
from tsunagu import cli
from tsunagu.access import scopes, users
from tsunagu.contract.scope import EVERYWHERE, Scope
from tsunagu.dashboard import filters
from tsunagu.display import privacy

TATESHINA = Scope(municipalities=frozenset({("長野県", "立科町")}))
NAGANO = Scope(prefecture="長野県")


@pytest.fixture(scope="module")
def a_hash() -> str:
    return users.Hasher.hash("some-password-1")


@pytest.fixture
def people(tmp_path, a_hash):
    """boss (admin, everywhere), nk (admin of 長野県), ta (editor of 立科町), ku (manager of
    倉敷市), ev (viewer, everywhere: a record from before scopes, with no scope key)."""
    path = tmp_path / "users.yaml"
    records = {
        "boss": ("admin", EVERYWHERE),
        "nk": ("admin", NAGANO),
        "ta": ("editor", TATESHINA),
        "ku": ("manager", Scope(municipalities=frozenset({("岡山県", "倉敷市")}))),
        "ev": ("viewer", EVERYWHERE),
    }
    users.save(
        {
            name: {"name": name, "role": role, "password": a_hash, "session_gen": f"{name}-0"}
            | ({"scope": scope.to_record()} if not scope.everywhere else {})
            for name, (role, scope) in records.items()
        },
        path,
    )
    return path


def test_what_lies_within_a_scope():
    two = Scope(municipalities=frozenset({("長野県", "立科町"), ("長野県", "軽井沢町")}))
    fuchu = Scope(municipalities=frozenset({("東京都", "府中市")}))
    assert EVERYWHERE.contains(EVERYWHERE) and EVERYWHERE.contains(NAGANO)
    assert NAGANO.contains(NAGANO) and NAGANO.contains(two) and NAGANO.contains(TATESHINA)
    assert not NAGANO.contains(EVERYWHERE) and not NAGANO.contains(fuchu)
    assert not NAGANO.contains(Scope(prefecture="東京都"))
    assert two.contains(TATESHINA) and not TATESHINA.contains(two) and not two.contains(NAGANO)
    assert not Scope(municipalities=frozenset({("広島県", "府中市")})).contains(fuchu)  # same name


# the users file


def test_scopes_survive_the_users_file_and_old_records_act_everywhere(tmp_path, people):
    two = Scope(municipalities=frozenset({("長野県", "立科町"), ("長野県", "軽井沢町")}))
    users.add("kita", "kita-password-1", "editor", path=people, scope=two)
    assert users.get("kita", people).scope == two
    assert users.get("nk", people).scope == NAGANO
    assert users.get("ev", people).scope == EVERYWHERE  # no scope key: everywhere, as before
    raw = yaml.safe_load(people.read_text(encoding="utf-8"))["users"]
    assert raw["kita"]["scope"] == {"municipalities": [["長野県", "立科町"], ["長野県", "軽井沢町"]]}
    assert "scope" not in raw["ev"]
    assert users.set_scope("kita", EVERYWHERE, people) is True
    assert "scope" not in yaml.safe_load(people.read_text(encoding="utf-8"))["users"]["kita"]


def test_a_new_scope_ends_the_sign_ins_and_the_same_scope_changes_nothing(people):
    before = users.start_session("ta", people)
    assert users.set_scope("ta", TATESHINA, people) is False
    assert users.session_user("ta", before.session_gen, people) == before
    assert users.set_scope("ta", NAGANO, people) is True
    assert users.session_user("ta", before.session_gen, people) is None
    assert users.get("ta", people).scope == NAGANO


def test_the_last_admin_of_everywhere_keeps_their_scope(people):
    with pytest.raises(users.UsersError, match="全域を担当する最後の管理者の担当範囲は変えられません"):
        users.set_scope("boss", NAGANO, people)
    with pytest.raises(users.UsersError, match="全域を担当する最後の管理者は削除できません"):
        users.remove("boss", people)
    assert users.get("boss", people).scope == EVERYWHERE


# an admin of a prefecture


def test_a_prefecture_admin_manages_only_the_users_of_that_prefecture(people):
    before = people.read_bytes()
    assert set(users.manageable(NAGANO, people)) == {"nk", "ta"}
    assert set(users.manageable(EVERYWHERE, people)) == {"boss", "nk", "ta", "ku", "ev"}
    refusals = {
        "role": lambda: users.set_role("ku", "viewer", people, by=NAGANO),
        "password": lambda: users.set_password("ku", "another-password-2", people, by=NAGANO),
        "remove": lambda: users.remove("ev", people, by=NAGANO),
        "sign out": lambda: users.sign_out_everywhere("boss", people, by=NAGANO),
        "scope": lambda: users.set_scope("ku", NAGANO, people, by=NAGANO),
    }
    for change in refusals.values():
        with pytest.raises(users.UsersError, match="担当範囲（長野県）の外にいるため変更できません"):
            change()
    for scope in (
        EVERYWHERE,
        Scope(prefecture="岡山県"),
        Scope(municipalities=frozenset({("岡山県", "倉敷市")})),
    ):
        with pytest.raises(users.UsersError, match="あなたの担当範囲（長野県）の外です"):
            users.add("new", "new-password-1", "admin", path=people, scope=scope, by=NAGANO)
        with pytest.raises(users.UsersError, match="外です"):
            users.set_scope("ta", scope, people, by=NAGANO)
    assert people.read_bytes() == before  # nothing was written
    # within the prefecture: allowed
    assert users.set_scope("ta", NAGANO, people, by=NAGANO) is True
    users.add("karuizawa", "new-password-1", "editor", path=people, scope=NAGANO, by=NAGANO)
    assert users.get("karuizawa", people).scope == NAGANO


# the command line


def run_users(capsys, monkeypatch, *args, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(["users", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_add_names_municipalities_as_areas_spells_them(store, tmp_path, capsys, monkeypatch):
    """The conftest store's areas hold 倉敷市 and 府中市 of 東京都 and of 広島県."""
    path = tmp_path / "u.yaml"
    common = ["--users-file", str(path), "--data-dir", str(store.root)]
    code, out, err = run_users(
        capsys, monkeypatch, "add", "fuchu", "--municipality", "府中市", *common, stdin="long-enough-pw\n"
    )
    assert code == 1 and not path.exists()
    assert "「府中市」は複数の都道府県（広島県、東京都）にあります。都道府県も付けて指定してください" in err
    code, out, err = run_users(
        capsys, monkeypatch, "add", "kura", "--municipality", "倉敷", *common, stdin="long-enough-pw\n"
    )
    assert code == 1 and "「倉敷」は圏域マスタ（areas）にない市町村です。近い名前: 倉敷市" in err
    assert not path.exists()
    code, out, err = run_users(
        capsys,
        monkeypatch,
        "add",
        "fuchu",
        "--role",
        "editor",
        "--municipality",
        "東京都府中市",
        "--municipality",
        "広島県/府中市",
        "--municipality",
        "倉敷市",
        *common,
        stdin="long-enough-pw\n",
    )
    assert code == 0, err
    assert users.get("fuchu", path).scope == Scope(
        municipalities=frozenset({("東京都", "府中市"), ("広島県", "府中市"), ("岡山県", "倉敷市")})
    )
    code, out, err = run_users(
        capsys, monkeypatch, "add", "okayama", "--prefecture", "岡山", *common, stdin="long-enough-pw\n"
    )
    assert code == 0 and "担当: 岡山県" in out
    code, out, err = run_users(capsys, monkeypatch, "add", "x", "--prefecture", "長野県", *common)
    assert code == 1 and "「長野県」は圏域マスタ（areas）にない都道府県です。" in err
    assert users.get("x", path) is None


def test_users_scope_changes_or_refuses_and_ends_sign_ins(store, tmp_path, capsys, monkeypatch):
    path = tmp_path / "u.yaml"
    common = ["--users-file", str(path), "--data-dir", str(store.root)]
    assert run_users(capsys, monkeypatch, "add", "kura", *common, stdin="long-enough-pw\n")[0] == 0
    gen = users.start_session("kura", path).session_gen
    code, out, err = run_users(capsys, monkeypatch, "scope", "kura", *common)
    assert code == 2 and "--municipality（複数可）、--prefecture、--everywhere のどれか" in err
    code, out, err = run_users(capsys, monkeypatch, "scope", "kura", "--municipality", "倉敷市", *common)
    assert code == 0 and "担当範囲を変えました: kura → 倉敷市" in out
    assert users.session_user("kura", gen, path) is None
    code, out, err = run_users(capsys, monkeypatch, "list", "--users-file", str(path))
    assert out.splitlines() == ["username,name,role,district,scope", "kura,kura,viewer,,倉敷市"]
    code, out, err = run_users(capsys, monkeypatch, "scope", "kura", "--everywhere", *common)
    assert code == 0 and users.get("kura", path).scope == EVERYWHERE


def test_known_municipalities_unions_every_areas_month(store):
    from tsunagu.ingest.pipeline import ingest

    more = "都道府県,市町村,地区,小学校区,人口,65歳以上人口,世帯数\n長野県,立科町,北,北小,7000,2800,2700\n"
    assert ingest(more.encode(), "areas", "2024-05", store).ok
    assert scopes.known_municipalities(store) == [
        ("岡山県", "倉敷市"),
        ("広島県", "府中市"),
        ("東京都", "府中市"),
        ("長野県", "立科町"),
    ]


# the dashboard


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))

    def start(user: str, **query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        signed_in(at, user)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return start


def place_names(at: AppTest) -> list[str]:
    return [n for df in at.dataframe if "名称" in df.value.columns for n in df.value["名称"]]


def test_a_scoped_manager_sees_names_only_in_their_municipality(app):
    """倉敷市's manager: the places of 倉敷市 by name; 武蔵野市's counts but not its names
    (kacho, a manager of everywhere, sees both)."""
    at = app("kurashiki_kacho", places_tab="一覧・検索")
    assert privacy.note() not in [c.value for c in at.caption]  # exact small counts at home
    at.switch_page("pages/places.py").run()
    assert at.session_state["f_muni"] == "倉敷市"
    assert len(place_names(at)) > 10

    at = app("kurashiki_kacho", places_tab="一覧・検索", pref="東京都", muni="武蔵野市")
    assert at.session_state["f_muni"] == "武蔵野市"
    assert any("前年同月" in c.value for c in at.caption)  # the home page's figures are there
    assert privacy.note() in [c.value for c in at.caption]  # small counts hidden, as for a viewer
    at.switch_page("pages/places.py").run()
    assert place_names(at) == []
    assert any(
        "この市町村の詳細は、担当の方だけが見られます（あなたの担当: 倉敷市）" in c.value for c in at.caption
    )
    shown = metrics(at)
    assert shown["通いの場（活動中）"] != "0か所"

    at = app("kacho", places_tab="一覧・検索", pref="東京都", muni="武蔵野市")
    at.switch_page("pages/places.py").run()
    assert len(place_names(at)) > 10
    assert metrics(at)["通いの場（活動中）"] == shown["通いの場（活動中）"]


def test_a_scoped_user_opens_on_their_own_municipality(app):
    at = app("tateshina")
    assert (at.session_state["f_pref"], at.session_state["f_muni"]) == ("長野県", "立科町")
    at = app("tateshina", pref="岡山県", muni="倉敷市")  # a link naming another still opens it
    assert (at.session_state["f_pref"], at.session_state["f_muni"]) == ("岡山県", "倉敷市")


def test_home_is_the_first_own_municipality_the_data_knows():
    munis = pl.DataFrame(
        {"prefecture": ["岡山県", "長野県", "長野県"], "municipality": ["倉敷市", "信濃町", "立科町"]}
    )
    assert filters.home(munis, EVERYWHERE) == ("岡山県", "倉敷市")
    assert filters.home(munis, NAGANO) == ("長野県", "信濃町")
    assert filters.home(munis, TATESHINA) == ("長野県", "立科町")
    assert filters.home(munis, Scope(prefecture="北海道")) == ("岡山県", "倉敷市")


@pytest.fixture
def own_copy(users_file, tmp_path, monkeypatch):
    """The test users in a file of this test alone (the page adds and changes users)."""
    path = tmp_path / "users.yaml"
    shutil.copy(users_file, path)
    monkeypatch.setenv("TSUNAGU_USERS_FILE", str(path))
    return path


def test_the_users_page_of_a_prefecture_admin(app, own_copy):
    at = app("nagano_kanri")
    at.switch_page("pages/admin_users.py").run()
    (table,) = at.dataframe
    rows = dict(zip(table.value["ユーザー名"], table.value["担当範囲"], strict=True))
    assert rows == {"nagano_etsuran": "長野県", "nagano_kanri": "長野県", "tateshina": "立科町"}
    assert "あなたの担当範囲（長野県）のユーザーだけを表示・追加・変更できます。" in [
        i.value for i in at.info
    ]
    target = next(s for s in at.selectbox if s.label == "ユーザー")
    assert set(target.options) == {"nagano_etsuran", "nagano_kanri", "tateshina"}
    munis = at.multiselect(key="add_munis")
    assert len(munis.options) == 18 and all("（長野県）" in o for o in munis.options)
    assert at.selectbox(key="add_pref").options == ["長野県"]
    assert at.radio(key="add_kind").options == ["都道府県の全市町村", "市町村を選ぶ"]  # no 全域

    # municipalities, none chosen: the form says so and nothing is written
    before = own_copy.read_bytes()
    at.text_input[0].input("tateshina2")
    next(s for s in at.selectbox if s.label == "役割").select("editor")
    at.radio(key="add_kind").set_value("municipalities")
    next(b for b in at.button if b.label == "追加する").click().run()
    assert [e.value for e in at.error] == ["担当の都道府県か市町村を選んでください。"]
    assert own_copy.read_bytes() == before

    # a 立科町 editor
    at.text_input[0].input("tateshina2")
    next(s for s in at.selectbox if s.label == "役割").select("editor")
    at.radio(key="add_kind").set_value("municipalities")
    at.multiselect(key="add_munis").select("長野県/立科町")
    next(b for b in at.button if b.label == "追加する").click().run()
    assert any("追加しました（担当: 立科町）" in s.value for s in at.success), [e.value for e in at.error]
    new = users.get("tateshina2", own_copy)
    assert (new.role, new.scope) == ("editor", TATESHINA)

    # the scope of one of theirs, changed to the whole prefecture: their sign-in ends
    gen = users.start_session("tateshina", own_copy).session_gen
    next(s for s in at.selectbox if s.label == "ユーザー").select("tateshina").run()
    assert at.multiselect(key="edit_tateshina_munis").value == ["長野県/立科町"]
    at.radio(key="edit_tateshina_kind").set_value("prefecture").run()
    assert at.selectbox(key="edit_tateshina_pref").value == "長野県"
    at.button(key="set_scope").click().run()
    assert "「tateshina」の担当範囲を「長野県」に変えました。これまでのサインインはすべて終了しました。" in [
        s.value for s in at.success
    ]
    assert users.get("tateshina", own_copy).scope == NAGANO
    assert users.session_user("tateshina", gen, own_copy) is None
