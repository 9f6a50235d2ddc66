"""python -m tsunagu ingest | migrate | demo | query | history | handout | check | backup | restore | sync |
users | contract-doc
(see README).

The development tools (synthetic stores, the benchmark) have their own: python -m tools."""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import getpass
import os
import sys
import tempfile
import traceback
from pathlib import Path

from tsunagu.cliargs import ArgumentParser
from tsunagu.config import PROJECT_ROOT, data_dir
from tsunagu.contract.issues import os_reason
from tsunagu.contract.schema import DATASETS
from tsunagu.store.files import write_atomic


class CommandError(Exception):
    """A refusal of the command, said in Japanese; main() prints it and exits with `status`."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def _month(text: str) -> str:
    """--month as people type it (2024-07, 2024/7, 令和6年7月 …), or a Japanese usage error."""
    from tsunagu.contract.parse import parse_month

    try:
        return parse_month(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"「{text}」は{e}") from None


def _store(args, need_data: bool = False):
    """The store of --data-dir; a folder that is not there is an error, not an empty answer."""
    from tsunagu.store.versions import Store

    root = data_dir(args.data_dir)
    if not root.is_dir():
        raise CommandError(
            f"データフォルダ「{root}」がありません。--data-dir か環境変数 TSUNAGU_DATA_DIR を"
            "確かめてください。"
        )
    store = Store(root)
    if need_data and not store.manifest_path.exists() and not store.audit_path.exists():
        raise CommandError(
            f"データフォルダ「{root}」にはまだ何も登録されていません。"
            "`python -m tsunagu ingest` か `python -m tsunagu demo` で登録してください。",
            1,
        )
    return store


def _database(args):
    from tsunagu.query.database import Database, SetupError

    store = _store(args, need_data=True)
    try:
        return Database(store)
    except SetupError as e:
        raise CommandError(str(e)) from None


def _damage(db) -> int:
    """Months left out because their stored file is damaged: named on stderr; 1 if any."""
    for p in db.problems:
        print(f"[壊れています] {p}", file=sys.stderr)
    if db.problems:
        print(f"壊れている{len(db.problems)}か月分を除いた結果です。", file=sys.stderr)
    return 1 if db.problems else 0


def _ingest(args) -> int:
    from tsunagu.ingest.pipeline import ingest
    from tsunagu.store.versions import Store

    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as e:
        print(f"ファイルを読めません: {path}（{os_reason(e)}）", file=sys.stderr)
        return 2
    store = Store(data_dir(args.data_dir))
    mapping = None  # the municipality's saved column names
    if args.map or args.no_saved_map:
        try:
            mapping = _mapping_args(args, store)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    result = ingest(
        content,
        args.dataset,
        args.month,
        store,
        user=args.user,
        file_name=path.name,
        municipality=args.municipality,
        sheet=args.sheet,
        mapping=mapping,
        name_field=args.name_field,
    )
    if result.ok and args.save_map and args.map:
        from tsunagu.store import mappings

        for muni in result.municipalities:
            mappings.save(store, args.dataset, muni, _mapping_args(args, store, saved=False), user=args.user)
        print("列の対応を保存しました（次回から使います）。", file=sys.stderr)
    out = sys.stdout if result.ok else sys.stderr
    for issue in result.errors + result.warnings:
        # a damaged stored file goes to stderr even when the upload went through
        print(issue, file=sys.stderr if issue.level == "damaged" else out)
    print(result.summary, file=out)
    return 0 if result.ok else 1


def _mapping_args(args, store, saved: bool = True) -> dict[str, str | None]:
    """--map 見出し=列 (列: the contract's header or key, or 使わない) over the saved mapping."""
    from tsunagu.contract.parse import header_key
    from tsunagu.contract.schema import DATASETS
    from tsunagu.ingest.pipeline import mapping_for
    from tsunagu.ingest.validate import column_of

    ds = DATASETS[args.dataset]
    mapping = dict(mapping_for(store, args.dataset, municipality=args.municipality)) if saved else {}
    if args.no_saved_map:
        mapping = {}
    for item in args.map or []:
        head, sep, target = item.partition("=")
        if not sep or not head.strip():
            raise ValueError(
                f"--map「{item}」は「ファイルの列名=つなぐの列名」の形で指定してください（例: サロン名=名称）。"
            )
        if target.strip() == "使わない":
            mapping[header_key(head)] = None
            continue
        key = column_of(target.strip(), ds)
        if not key:
            allowed = "、".join(c.header for c in ds.columns)
            raise ValueError(
                f"--map「{item}」の「{target}」は「{ds.label}」の列ではありません。使える列: {allowed}、使わない"
            )
        mapping[header_key(head)] = key
    return mapping


def _migrate(args) -> int:
    from tsunagu.store.migrate import migrate

    for line in migrate(_store(args)):
        print(line)
    return 0


def _demo(args) -> int:
    from tsunagu.demo.build import write_demo

    root = data_dir(args.data_dir)

    def progress(i, n, result):
        if i % 25 == 0 or i == n:
            print(f"  {i}/{n} {result.summary}", file=sys.stderr)

    summaries = write_demo(root, progress=None if args.quiet else progress)
    print(f"デモデータを作成しました: {root}（{len(summaries)}ファイルを登録）")
    return 0


MONTH_PARAMS = {"month", "from_month", "to_month"}


def _query(args) -> int:
    from tsunagu.query.database import QueryError, load_query

    try:  # an unknown name is the first thing to say, whatever the data folder holds
        load_query(args.name)
    except QueryError as e:
        print(e, file=sys.stderr)
        return 2
    params = {}
    for item in args.param or []:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"--param は キー=値 の形で指定してください: {item}", file=sys.stderr)
            return 2
        if key in MONTH_PARAMS and value:  # an impossible month would answer empty
            try:
                value = _month(value)
            except argparse.ArgumentTypeError as e:
                raise CommandError(f"--param {key}: {e}") from None
        params[key] = value
    db = _database(args)
    try:
        frame = db.query(args.name, **params)
    except QueryError as e:
        print(e, file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        # a shape (WKB) as hex, as GIS tools take it (ST_GeomFromWKB(unhex(...)))
        writer.writerow(["" if v is None else v.hex() if isinstance(v, bytes) else v for v in row])
    return _damage(db)


def _history(args) -> int:
    store = _store(args, need_data=True)
    records = store.history(args.dataset)
    if args.month:
        records = [r for r in records if r.get("month") == args.month]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    cols = [
        "at",
        "action",
        "outcome",
        "dataset",
        "month",
        "municipalities",
        "user",
        "file_name",
        "rows",
        "errors",
        "version",
        "replaced_version",
        "sha256",
    ]

    def cell(r: dict, c: str):
        if c == "municipalities":  # which councils' month the upload replaced: 「長野県立科町」
            return "、".join(p + m for p, m in r.get(c) or []) or r.get("municipality") or ""
        return "" if r.get(c) is None else r.get(c)

    writer.writerow(cols)
    for r in records[-args.limit :] if args.limit else records:
        writer.writerow([cell(r, c) for c in cols])
    return 0


def _handout(args) -> int:
    from tsunagu.contract import codes
    from tsunagu.documents import handout

    db = _database(args)
    munis = db.query("municipalities", prefecture=args.prefecture)
    code = codes.normalise(args.municipality)  # a 団体コード names one municipality (府中市 is two)
    found = munis.filter(
        munis["municipality_code"] == code if code else munis["municipality"] == args.municipality
    )
    if found.height != 1:
        known = "、".join(munis["municipality"].unique(maintain_order=True).to_list()) or "なし"
        many = "複数の都道府県にあります。--prefecture で選ぶか、団体コードで指定してください"
        print(
            f"市町村「{args.municipality}」が{many if found.height else 'ありません'}。（使える市町村: {known}）",
            file=sys.stderr,
        )
        return 2
    one = found.row(0, named=True)
    pref, muni, code = one["prefecture"], one["municipality"], one["municipality_code"]
    districts = db.query("districts", prefecture=pref, municipality=muni)["district"].to_list()
    if args.all_districts:
        chosen = [None, *districts]
    elif args.district:
        if args.district not in districts:
            print(
                f"地区「{args.district}」は{muni}にありません。（使える地区: {'、'.join(districts)}）",
                file=sys.stderr,
            )
            return 2
        chosen = [args.district]
    else:
        chosen = [None]
    months = db.query("months")["month"].to_list()
    month = args.month or (months[0] if months else None)
    if month not in months:
        print(
            f"{args.month or ''}の月次データがありません。（登録されている月: {'、'.join(months[:12]) or 'なし'}…）",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    makers = {"handout": handout.district_handout, "places": handout.places_directory}
    kinds = list(makers) if args.kind == "both" else [args.kind]
    for district in chosen:
        area = handout.Area(pref, muni, district, month, code)
        for kind in kinds:
            path = out / handout.file_name(kind, area)
            write_atomic(path, makers[kind](db, area))
            print(path)
    return _damage(db)  # (each file also names the damage on every page)


def _check(args) -> int:
    from tsunagu.store import integrity

    store = _store(args, need_data=True)
    problems = integrity.find_damaged(store)
    for p in problems:
        print(f"[壊れています] {p}", file=sys.stderr)
    if not problems:
        n = sum(len(m) for m in store.manifest()["datasets"].values())
        print(f"保存されているデータに問題はありません（{n}か月分を確認）: {store.root}")
        return 0
    if not args.repair:
        print(
            f"{len(problems)}件の問題があります。--repair を付けると、読める前の版に戻します（何も削除しません）。",
            file=sys.stderr,
        )
        return 1
    for line in integrity.restore_last_intact(store, user=args.user):
        print(line)
    left = integrity.find_damaged(store)
    for p in left:
        print(f"[未解決] {p}", file=sys.stderr)
    return 1 if left else 0


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _users_file(args) -> Path:
    from tsunagu.access import users

    return Path(args.users_file) if args.users_file else users.users_path()


NO_COOKIE_KEY = (
    "サインイン用のクッキー鍵は含めていません。バックアップが盗まれても、それでサインインのクッキーを"
    "偽造されないようにするためです。このため復元した後は、全員がもう一度サインインします"
    "（含めるときは --with-cookie-key。そのときはバックアップをパスワードと同じように守ってください）。"
)


def _backup(args) -> int:
    from tsunagu.access import users
    from tsunagu.store.backup import BackupError, backup

    store = _store(args, need_data=True)
    users_file = _users_file(args)
    private = {"users.yaml": users_file}
    if args.with_cookie_key:
        private["users.cookie_key"] = users.cookie_key_path(users_file)
    try:
        r = backup(store, Path(args.to), private=private, keep=args.keep)
    except BackupError as e:
        raise CommandError(str(e), e.status) from None
    except OSError as e:  # a full, missing or read-only backup disk
        raise CommandError(
            f"バックアップを作れませんでした（{os_reason(e)}: {e.filename or args.to}）。"
            "前のバックアップはそのまま使えます。",
            1,
        ) from None
    print(
        f"バックアップを作りました: {r.snapshot}（データの版 {r.data_version}、{r.files:,}ファイル。"
        f"新しくコピー {r.copied:,}件・{_mb(r.copied_bytes)}、前回と同じため共有 {r.unchanged:,}件）"
    )
    if "users.yaml" in r.private:
        print(f"ユーザーファイルを含めました: {users_file}")
    else:
        print(f"ユーザーファイル（{users_file}）がないため、含めていません。")
    if not args.with_cookie_key:
        print(NO_COOKIE_KEY)
    elif "users.cookie_key" in r.private:
        print(
            "クッキー鍵を含めました。このバックアップを手に入れた人はサインインのクッキーを偽造できるため、"
            "パスワードと同じように保管してください。"
        )
    else:
        print(f"クッキー鍵（{users.cookie_key_path(users_file)}）はまだないため、含めていません。")
    if r.pruned:
        print(f"古いバックアップを削除しました: {'、'.join(r.pruned)}（新しい{args.keep}件を残します）")
    for rel in r.damaged:
        print(
            f"[壊れています] {rel}: 登録したときとチェックサム（SHA-256）が違います。前回のバックアップにも"
            "正しいものがないため、見つけたままの状態で保存しました。`python -m tsunagu check` で確かめてください。",
            file=sys.stderr,
        )
    return 1 if r.damaged else 0


def _restore(args) -> int:
    from tsunagu.access import users
    from tsunagu.contract.fmt import jst
    from tsunagu.store.backup import BackupError, restore

    users_file = _users_file(args)
    key = users.cookie_key_path(users_file)
    had_key = key.exists()
    try:
        r = restore(
            Path(args.source),
            Path(args.to),
            private={"users.yaml": users_file, "users.cookie_key": key},
            force=args.force,
            user=args.user,
        )
    except BackupError as e:
        raise CommandError(str(e), e.status) from None
    except OSError as e:
        raise CommandError(
            f"復元を中止しました（{os_reason(e)}: {e.filename or args.to}）。"
            f"「{args.to}」には何も書き込んでいません。",
            1,
        ) from None
    print(
        f"復元しました: {r.target}（{jst(r.created_at)} のバックアップ {r.snapshot.name}。{r.files:,}ファイルを"
        f"チェックサムで確かめ、{r.months}か月分、登録した版 {r.versions:,}件）"
    )
    if r.aside:
        print(f"復元先にあった中身は {r.aside} に移して残しました。")
    if "users.yaml" in r.private:
        print(f"ユーザーファイルを復元しました: {users_file}")
    else:
        print(
            "このバックアップにはユーザーファイルがありません。"
            "`python -m tsunagu users init` で最初の管理者を作ってください。"
        )
    if "users.cookie_key" in r.private:
        print("クッキー鍵も復元しました（サインインしたままの人は、そのまま使えます）。")
    elif had_key:
        print(f"クッキー鍵はバックアップに含まれていないため、この機械の鍵（{key}）をそのまま使います。")
    else:
        print(
            "クッキー鍵はバックアップに含まれていないため（盗まれたバックアップでサインインを偽造されないように）、"
            "ダッシュボードを開いたときに新しく作られます。全員がもう一度サインインしてください。"
        )
    for rel in r.damaged_before:
        print(
            f"[注意] {rel} はバックアップを取った時点で壊れていました。"
            f"`python -m tsunagu check --repair --data-dir {r.target}` で前の版に戻せます。",
            file=sys.stderr,
        )
    return 1 if r.damaged_before else 0


def _sync(args) -> int:
    from tsunagu.store.backup import BackupError
    from tsunagu.store.sync import sync

    try:
        r = sync(Path(args.source), Path(args.to), force=args.force)
    except BackupError as e:
        raise CommandError(str(e), e.status) from None
    except OSError as e:
        raise CommandError(
            f"同期を中断しました（{os_reason(e)}: {e.filename or ''}）。同期先は前のデータのままです。"
            "もう一度実行すると、続きから写します。",
            1,
        ) from None
    if r.changed or r.copied or r.published:
        print(
            f"同期しました: {args.to}（データの版 {r.data_version}。新しいファイル {r.copied:,}件・"
            f"{_mb(r.copied_bytes)}、公開用の月のファイル {r.published:,}件）"
        )
    else:
        print(f"同期先はすでに最新です: {args.to}（データの版 {r.data_version}）")
    for rel in r.warnings:
        print(
            f"[注意] 同期元の {rel} は登録したときとチェックサムが違います（有効な月ではない前の版です。"
            "そのまま写しました）。同期元で `python -m tsunagu check` を実行してください。",
            file=sys.stderr,
        )
    return 1 if r.warnings else 0


def _read_password(confirm: bool = True) -> str:
    """From the prompt (twice), or one line of standard input; never from an argument."""
    if sys.stdin.isatty():
        first = getpass.getpass("パスワード: ")
        if confirm and getpass.getpass("もう一度: ") != first:
            raise SystemExit("パスワードが一致しません。")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _scope(args):
    """The scope named by --municipality / --prefecture (none: everywhere), each name checked
    against the municipalities of the store's areas."""
    from tsunagu.access import scopes
    from tsunagu.store.versions import StoreError

    if not (args.municipality or args.prefecture):
        return scopes.EVERYWHERE
    try:
        known = scopes.known_municipalities(_store(args))
        return scopes.resolve(args.municipality, args.prefecture, known)
    except (scopes.ScopeError, StoreError) as e:
        raise CommandError(f"{e}（ユーザーファイルは変更していません）", 1) from None


def _users(args) -> int:
    from tsunagu.access import users

    path = Path(args.users_file) if args.users_file else None
    try:
        if args.action == "init":
            password = users.ensure_first_admin(path)
            if password:
                print(
                    f"最初の管理者を作成しました。ユーザー名: admin  パスワード: {password}\n"
                    "（この表示は一度だけです。サインイン後に python -m tsunagu users passwd admin で変更してください）"
                )
            return 0
        if args.action == "list":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["username", "name", "role", "district", "scope"])
            for name, rec in sorted(users.load(path).items()):
                writer.writerow(
                    [
                        name,
                        rec.get("name", ""),
                        rec.get("role", ""),
                        rec.get("district", ""),
                        users.scope_of(rec).label,
                    ]
                )
            return 0
        if not args.username:
            print("ユーザー名を指定してください。", file=sys.stderr)
            return 2
        if args.action == "role" and not args.role:  # never a silent demotion to a default role
            print(
                f"新しい役割を --role で指定してください（{', '.join(users.ROLES)} のどれか）。"
                f"例: python -m tsunagu users role {args.username} --role manager"
                "（ユーザーファイルは変更していません）",
                file=sys.stderr,
            )
            return 2
        if args.action == "scope" and not (args.municipality or args.prefecture or args.everywhere):
            print(
                "新しい担当範囲を --municipality（複数可）、--prefecture、--everywhere のどれかで指定してください。"
                f"例: python -m tsunagu users scope {args.username} --municipality 立科町"
                "（ユーザーファイルは変更していません）",
                file=sys.stderr,
            )
            return 2
        if args.action not in ("add", "scope") and (args.municipality or args.prefecture or args.everywhere):
            print("担当範囲は add か scope で指定してください。", file=sys.stderr)
            return 2
        if args.action == "add":
            scope = _scope(args)  # before the password is asked for: a wrong name fails at once
            user = users.add(
                args.username,
                _read_password(),
                args.role or "viewer",
                args.name,
                args.district,
                path,
                scope=scope,
            )
            print(
                f"追加しました: {user.username}（{users.ROLE_LABELS[user.role]}、担当: {user.scope.label}）"
            )
        elif args.action == "scope":
            scope = _scope(args)
            if users.set_scope(args.username, scope, path):
                print(
                    f"担当範囲を変えました: {args.username} → {scope.label}（これまでのサインインはすべて終了しました）"
                )
            else:
                print(f"担当範囲は変わりません: {args.username} はすでに {scope.label} の担当です。")
        elif args.action == "passwd":
            users.set_password(args.username, _read_password(), path)
            print(f"パスワードを変えました: {args.username}（これまでのサインインはすべて終了しました）")
        elif args.action == "role":
            if users.set_role(args.username, args.role, path):
                print(
                    f"役割を変えました: {args.username} → {args.role}（これまでのサインインはすべて終了しました）"
                )
            else:
                print(f"役割は変わりません: {args.username} はすでに {args.role} です。")
        elif args.action == "signout":
            users.sign_out_everywhere(args.username, path)
            print(f"サインアウトさせました: {args.username}（すべての端末のサインインを終了しました）")
        elif args.action == "remove":
            users.remove(args.username, path)
            print(f"削除しました: {args.username}")
    except users.UsersError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def _contract_doc(args) -> int:
    from tsunagu.contract import document

    if not args.write:
        print(document.render_tables())
        return 0
    path = Path(args.file) if args.file else PROJECT_ROOT / "docs" / "contract.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CommandError(f"ファイルを読めません: {path}（{os_reason(e)}）", 1) from None
    try:
        new = document.with_tables(text)
    except ValueError as e:
        raise CommandError(f"{path} に表を書く位置がわかりません: {e}", 1) from None
    if new == text:
        print(f"変更はありません（表は schema.py のとおりです）: {path}")
        return 0
    write_atomic(path, new.encode("utf-8"), mode=path.stat().st_mode & 0o777)
    print(f"列の表を schema.py から書き直しました: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m tsunagu", description="tsunagu（つなぐ）: 地域づくりダッシュボード"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="コマンド")

    def add_data_dir(p):
        p.add_argument("--data-dir", help="データフォルダ（既定: $TSUNAGU_DATA_DIR か data/）")

    p = sub.add_parser("ingest", help="月次CSV（境界は GeoJSON・Shapefile の ZIP）を検証して登録する")
    p.add_argument("--dataset", required=True, choices=list(DATASETS), help="データの種類")
    p.add_argument("--month", required=True, type=_month, help="対象月（2024-07、令和6年7月 など）")
    p.add_argument("--user", default=getpass.getuser(), help="監査ログに残す登録者名")
    p.add_argument(
        "--municipality",
        help="どの市町村の月か（行のないフォーラムのファイルと境界で必要。行があるときは、すべての行がこの市町村か確かめる。"
        "県全体の境界のファイルは、この市町村の地物だけを登録する）",
    )
    p.add_argument(
        "--name-field",
        metavar="属性",
        help="境界（boundaries）のファイルで学校名・小学校区名が入った属性（省略時: 国土数値情報 A27 の名称などから自動で選ぶ）",
    )
    p.add_argument(
        "--sheet", help="ブック（.xlsx/.xlsm/.xls/.ods）のどのシートか（省略時: 最初の表示されているシート）"
    )
    p.add_argument(
        "--map",
        action="append",
        metavar="見出し=列",
        help="ファイルの列名をつなぐの列に対応させる（例: サロン名=名称、備考=使わない。何度でも指定可）",
    )
    p.add_argument("--save-map", action="store_true", help="--map の対応を市町村ごとに保存し、次回から使う")
    p.add_argument("--no-saved-map", action="store_true", help="保存してある列の対応を使わない")
    add_data_dir(p)
    p.add_argument(
        "file", help="登録する CSV またはブック（.xlsx/.xlsm/.xls/.ods）、境界は GeoJSON か Shapefile の ZIP"
    )
    p.set_defaults(func=_ingest)

    p = sub.add_parser("migrate", help="以前の形式のデータフォルダを、市町村ごとに登録を保管する形式に移す")
    add_data_dir(p)
    p.set_defaults(func=_migrate)

    p = sub.add_parser("demo", help="デモデータを作成する（同じ登録処理を通す）")
    p.add_argument("--quiet", action="store_true", help="進み具合を表示しない")
    add_data_dir(p)
    p.set_defaults(func=_demo)

    p = sub.add_parser("query", help="名前を付けたクエリ（queries/ の .sql）を実行してCSVで出力する")
    p.add_argument("name", help="クエリ名（queries/ にある .sql ファイルの名前）")
    p.add_argument("--param", action="append", help="クエリに渡す値（何度でも。例: municipality=倉敷市）")
    add_data_dir(p)
    p.set_defaults(func=_query)

    p = sub.add_parser("history", help="登録の履歴（監査ログ）をCSVで出力する")
    p.add_argument("--dataset", choices=list(DATASETS), help="データの種類")
    p.add_argument("--month", type=_month, help="対象月")
    p.add_argument("--limit", type=int, default=0, help="最新のN件だけ")
    add_data_dir(p)
    p.set_defaults(func=_history)

    p = sub.add_parser("handout", help="配布資料（A4 PDF）と通いの場一覧表を作る")
    p.add_argument("--municipality", required=True, help="市町村名か団体コード（例: 倉敷市、332020）")
    p.add_argument("--prefecture", help="同じ名前の市町村が複数の都道府県にあるとき")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--district", help="地区（省略すると市町村全域）")
    group.add_argument("--all-districts", action="store_true", help="全域と全地区のすべて")
    p.add_argument("--month", type=_month, help="対象月（既定: 最新の月）")
    p.add_argument(
        "--kind", choices=["handout", "places", "both"], default="both", help="配布資料・通いの場一覧表・両方"
    )
    p.add_argument("--out", default=".", help="書き出すフォルダ")
    add_data_dir(p)
    p.set_defaults(func=_handout)

    p = sub.add_parser(
        "check", help="保存されているファイルが壊れていないか確かめる（--repair で前の版に戻す）"
    )
    p.add_argument("--repair", action="store_true", help="壊れた月を、読める前の版に戻す（監査ログに記録）")
    p.add_argument("--user", default=getpass.getuser(), help="監査ログに残す作業者名")
    add_data_dir(p)
    p.set_defaults(func=_check)

    users_file_help = "ユーザーファイル（既定: $TSUNAGU_USERS_FILE か .streamlit/users.yaml）"
    p = sub.add_parser(
        "backup", help="データフォルダとユーザーファイルのバックアップを取る（変わったファイルだけコピー）"
    )
    p.add_argument(
        "--to", required=True, help="バックアップを置くフォルダ（日付のフォルダを作り、latest を更新）"
    )
    p.add_argument(
        "--with-cookie-key",
        action="store_true",
        help="サインイン用のクッキー鍵も含める（盗まれるとサインインを偽造されるため、既定では含めない）",
    )
    p.add_argument("--keep", type=int, default=30, help="残すバックアップの数（既定: 30。0 で削除しない）")
    p.add_argument("--users-file", help=users_file_help)
    add_data_dir(p)
    p.set_defaults(func=_backup)

    p = sub.add_parser(
        "restore", help="バックアップからデータフォルダを作り直す（ファイルごとにチェックサムを確かめる）"
    )
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        help="バックアップのフォルダ（最新を使う）か、その日付のフォルダ",
    )
    p.add_argument("--to", required=True, help="復元するデータフォルダ（空か、まだないフォルダ）")
    p.add_argument(
        "--users-file",
        help="ユーザーファイルを復元する場所（既定: $TSUNAGU_USERS_FILE か .streamlit/users.yaml）",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="復元先が空でなくても復元する（今の中身は <フォルダ>.before-restore-… に移して残す）",
    )
    p.add_argument("--user", default=getpass.getuser(), help="監査ログに残す作業者名")
    p.set_defaults(func=_restore)

    p = sub.add_parser(
        "sync", help="読み取り専用の複製へデータを写す（新しいファイルを先に、マニフェストを最後に）"
    )
    p.add_argument(
        "--from", dest="source", required=True, help="写す元のデータフォルダ（かバックアップのフォルダ）"
    )
    p.add_argument("--to", required=True, help="読み取り専用の複製のデータフォルダ")
    p.add_argument("--force", action="store_true", help="同期先で登録されたデータがあっても上書きする")
    p.set_defaults(func=_sync)

    p = sub.add_parser(
        "users", help="サインインできるユーザーを管理する（パスワードは標準入力か入力画面から）"
    )
    p.add_argument("action", choices=["init", "add", "passwd", "role", "scope", "signout", "remove", "list"])
    p.add_argument("username", nargs="?")
    p.add_argument(
        "--role",
        choices=["viewer", "manager", "editor", "admin"],
        help="役割（add では省略すると viewer。role では必須）",
    )
    p.add_argument("--name", help="表示名")
    p.add_argument("--district", help="担当地区（サインイン時に選ばれる）")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--municipality",
        action="append",
        help="担当の市町村（add・scope。繰り返して複数。同名の市町村は 東京都府中市 のように都道府県も）",
    )
    where.add_argument("--prefecture", help="担当の都道府県（add・scope。その都道府県の全市町村）")
    where.add_argument("--everywhere", action="store_true", help="担当を全域に戻す（scope）")
    p.add_argument(
        "--users-file", help="ユーザーファイル（既定: $TSUNAGU_USERS_FILE か .streamlit/users.yaml）"
    )
    add_data_dir(p)  # where the municipalities of --municipality / --prefecture are looked up
    p.set_defaults(func=_users)

    p = sub.add_parser("contract-doc", help="データの約束（docs/contract.md）の列の表を schema.py から作る")
    p.add_argument("--write", action="store_true", help="表を表示せず、docs/contract.md の表を書き直す")
    p.add_argument("--file", help="書き直すファイル（既定: docs/contract.md）")
    p.set_defaults(func=_contract_doc)
    return parser


def _crash_log(argv: list[str] | None) -> str | None:
    """The traceback, for whoever looks into it, in a file rather than on the user's screen."""
    try:
        fd, path = tempfile.mkstemp(prefix="tsunagu-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(
                f"{dt.datetime.now().isoformat(timespec='seconds')}\n"
                f"python -m tsunagu {' '.join(sys.argv[1:] if argv is None else argv)}\n\n"
            )
            f.write(traceback.format_exc())
        return path
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("中断しました。", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`... | head`): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:
        if type(e).__name__ == "OldStoreError":  # the store is imported per command, lazily
            print(e, file=sys.stderr)
            return 1
        if os.environ.get("TSUNAGU_DEBUG"):
            raise
        log = _crash_log(argv)
        where = f"詳しい記録を {log} に書きました。" if log else ""
        print(
            f"思いがけない問題が起きたため、処理を中止しました。{where}管理者に知らせてください"
            "（環境変数 TSUNAGU_DEBUG=1 を付けて実行すると、詳しい内容をここに表示します）。",
            file=sys.stderr,
        )
        return 1
