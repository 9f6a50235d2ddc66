"""docs/reliability.md stays true: every command in it names a test that exists, every
hardening test is in it, and every count it gives is computed here from the tests
themselves (their case lists, parametrize marks and the upload's traced steps)."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
HARDENING = [
    "tests/test_faults.py",
    "tests/test_hostile_input.py",
    "tests/test_access.py",
    "tests/test_browser_attacks.py",
]
BROWSER_ATTACKS = "tests/test_browser_attacks.py"  # read, not imported: it needs a browser


def functions_of(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_command_names_an_existing_test():
    """Each `tests/…::name[param]` in the table runs something real."""
    ids = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+)(?:\[([^\]]+)\])?)?`", DOC)
    assert len(ids) >= 30
    for path, name, param in ids:
        assert (ROOT / path).exists(), path
        if name:
            assert name in functions_of(path), f"{path}::{name}"
        if param:
            assert f'"{param}"' in (ROOT / path).read_text(encoding="utf-8"), f"{path}::{name}[{param}]"


def test_every_hardening_test_is_in_the_table():
    for path in HARDENING:
        missing = {n for n in functions_of(path) if f"{path}::{n}" not in DOC}
        assert missing == set(), path


# counting from the tests


def cases(test) -> int:
    """How many cases pytest makes of a test function: the product of its parametrize lists."""
    n = 1
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize":
            n *= len(mark.args[1])
    return n


def params(test) -> list:
    [mark] = [m for m in test.pytestmark if m.name == "parametrize"]
    return list(mark.args[1])


def module_tree(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"))


def literal(path: str, name: str):
    """The value of a module-level constant, read from the source."""
    for node in module_tree(path).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path}: no {name}")


def function(path: str, name: str) -> ast.FunctionDef:
    [node] = [n for n in module_tree(path).body if isinstance(n, ast.FunctionDef) and n.name == name]
    return node


def parametrized_cases(path: str, name: str) -> int:
    """The length of a test's literal parametrize list, read from the source."""
    [call] = [
        d
        for d in function(path, name).decorator_list
        if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "parametrize"
    ]
    return len(call.args[1].elts)


def returned_dict_size(path: str, name: str) -> int:
    [ret] = [n for n in ast.walk(function(path, name)) if isinstance(n, ast.Return)]
    return len(ret.value.keys)


def counts_of_faults(tmp_path) -> list[str]:
    from tests import test_faults as f

    steps, _ = f.upload_steps(f.make_base(tmp_path / "base"), tmp_path)
    torn = cases(f.test_kill_9_in_the_middle_of_a_write)
    disk_faults = (
        f.test_full_disk_refuses_cleanly_and_keeps_the_data,
        f.test_file_size_limit_refuses_cleanly,
        f.test_an_error_at_the_commit_point_refuses_cleanly,
    )
    free_kb = params(f.test_full_disk_refuses_cleanly_and_keeps_the_data)
    damage = cases(f.test_damaged_month_is_named_and_the_other_months_still_served)
    jobs = len(f.CONCURRENT)
    same = sum(month == "2024-07" for month, _ in f.CONCURRENT)
    return [
        f"強制終了 {len(steps)}＋{torn} か所",
        f"ディスクのエラー {sum(cases(t) for t in disk_faults)} 通り",
        f"壊れ方 {damage} 通り",
        f"同時 {jobs} プロセス",
        f"ファイル操作 {len(steps)} か所それぞれの直前で `kill -9`",
        f"残り {free_kb[0]} KB",
        f"残り {free_kb[1]}）",
        f"| {jobs} プロセスが同時に登録（うち {same} つは同じ月）",
        f"同じ月の{same + 1}版すべて保管",
    ]


def counts_of_hostile_input() -> list[str]:
    from tests import test_hostile_input as h

    n, least = h.EXAMPLES, h.AT_LEAST
    return [
        f"性質テスト {sum(n.values())} 件（任意のバイト列 {n['bytes']}、CSV {n['csv']}、壊したファイル {n['mutated']}）",
        f"悪いファイル {len(h.CORPUS)} 種（うち {len(h.BY_COMMAND)} 種はコマンドでも）",
        f"| 任意のバイト列（{h.MAX_BYTES:,} バイトまで） | {n['bytes']} |",
        f"UTF-8／BOM／CP932／UTF-16 | {n['csv']} |",
        f"ビット反転・削除・挿入 | {n['mutated']} |",
        f"CSV は保存 {least['csv']['stored']} 件以上・拒否 {least['csv']['refused']} 件以上",
        f"壊したファイルは保存 {least['mutated']['stored']} 件以上・拒否 {least['mutated']['refused']} 件以上",
        f"| 悪いファイル {len(h.CORPUS)} 種（テストが生成",
        f"| {len(h.CORPUS)} | すべて {h.ANSWER_WITHIN_S} 秒以内に",
        f"上の {len(h.CORPUS)} 種はテストが毎回作る",
        f"名前 | {len(h.KEPT_NAMES)} 種 |",
        f"をコマンドで登録 | {len(h.BY_COMMAND)} |",
    ]


def counts_of_access() -> list[str]:
    from tests import test_access as a

    roles = [None, *a.ROLES]
    sweep = len(a.PAGES) * len(roles)
    sweep_refused = sum(not a.allowed(r, p) for r in roles for p in a.PAGES)
    own = len(a.GUARDED) * len(roles)
    own_refused = sum(not a.allowed(r, p) for r in roles for p in a.GUARDED)
    injections = a.injection_cases()
    with_values = len({name for name, _, _ in injections})
    url_attacks = len(a.URL_ATTACKS) * len(a.URL_ATTACK_PAGES)
    urls = literal(BROWSER_ATTACKS, "URLS")
    browser_roles = literal(BROWSER_ATTACKS, "ROLES")
    above_editor = sum(browser_roles.index(r) > browser_roles.index("editor") for r in urls.values())
    cookies = returned_dict_size(BROWSER_ATTACKS, "tampered_cookies")
    files = parametrized_cases(BROWSER_ATTACKS, "test_no_url_serves_the_users_file_or_the_data")
    return [
        f"ページ×役割 {sweep + own} 回（うち拒否 {sweep_refused + own_refused}）",
        f"ブラウザで URL {len(urls) + above_editor} 回",
        f"改ざんクッキー {cookies} 個",
        f"ファイルの URL {files} 個",
        f"ユーザーファイルの権限 {len(a.LOOSE_MODES)} 通り",
        f"SQL インジェクション {len(injections)} 回",
        f"ファイル名 {len(a.NAMES)} 種×2",
        f"| 全 {len(a.PAGES)} ページを",
        f"| {sweep}（拒否 {sweep_refused}） |",
        f"| {own}（拒否 {own_refused}） |",
        f"セッションなしに全 {len(urls)} URL | {len(urls)} |",
        f"を入力 | {above_editor} |",
        f"| {cookies}＋1 |",
        f"| {files} | どれも",
        f"| {len(a.LOOSE_MODES)} | 画面は",
        f"パラメータを取る {with_values} クエリ（全 {len(a.query_names())} のうち）の全パラメータに"
        f" SQL インジェクション文字列 {len(a.PAYLOADS)} 種（`Database.query`） | {len(injections)} |",
        f"URL の絞り込み（{'・'.join(a.URL_ATTACKS)}）に SQL、{len(a.URL_ATTACK_PAGES)} ページ | {url_attacks} |",
        f"| {len(a.BAD_QUERY_NAMES)} | 終了コード 2",
        f"| {len(a.NAMES)} 種×2（登録・拒否） |",
    ]


def test_every_count_in_the_page_is_the_tests_count(tmp_path):
    """Each figure in the page, as the phrase that states it, computed from the tests; a
    failure lists the phrases the page should carry (correct the page, not the test)."""
    expected = counts_of_faults(tmp_path) + counts_of_hostile_input() + counts_of_access()
    missing = [phrase for phrase in expected if phrase not in DOC]
    assert missing == [], "\n".join(missing)
    assert "docs/reliability.md" in (ROOT / "README.md").read_text(encoding="utf-8")
