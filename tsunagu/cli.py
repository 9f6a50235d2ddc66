"""python -m tsunagu ingest | demo | query | history (see README)."""

from __future__ import annotations

import argparse
import csv
import getpass
import sys
from pathlib import Path

from tsunagu.config import data_dir
from tsunagu.schema import DATASETS


def _ingest(args) -> int:
    from tsunagu.ingest import ingest
    from tsunagu.store import Store

    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as e:
        print(f"ファイルを読めません: {path}（{e.strerror}）", file=sys.stderr)
        return 2
    store = Store(data_dir(args.data_dir))
    result = ingest(content, args.dataset, args.month, store, user=args.user,
                    file_name=path.name)
    out = sys.stdout if result.ok else sys.stderr
    for issue in result.errors + result.warnings:
        print(issue, file=out)
    print(result.summary, file=out)
    return 0 if result.ok else 1


def _demo(args) -> int:
    from tsunagu.demo import write_demo

    root = data_dir(args.data_dir)

    def progress(i, n, result):
        if i % 25 == 0 or i == n:
            print(f"  {i}/{n} {result.summary}", file=sys.stderr)

    summaries = write_demo(root, progress=None if args.quiet else progress)
    print(f"デモデータを作成しました: {root}（{len(summaries)}ファイルを登録）")
    return 0


def _query(args) -> int:
    from tsunagu.db import Database, QueryError
    from tsunagu.store import Store

    params = {}
    for item in args.param or []:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"--param は KEY=VALUE の形で指定してください: {item}", file=sys.stderr)
            return 2
        params[key] = value
    db = Database(Store(data_dir(args.data_dir)))
    try:
        frame = db.query(args.name, **params)
    except QueryError as e:
        print(e, file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow(["" if v is None else v for v in row])
    return 0


def _history(args) -> int:
    from tsunagu.store import Store

    store = Store(data_dir(args.data_dir))
    records = store.history(args.dataset)
    if args.month:
        records = [r for r in records if r.get("month") == args.month]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    cols = ["at", "action", "outcome", "dataset", "month", "user", "file_name", "rows",
            "errors", "version", "replaced_version", "sha256"]
    writer.writerow(cols)
    for r in records[-args.limit:] if args.limit else records:
        writer.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tsunagu", description="tsunagu（つなぐ）")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_data_dir(p):
        p.add_argument("--data-dir", help="データフォルダ（既定: $TSUNAGU_DATA_DIR か data/）")

    p = sub.add_parser("ingest", help="月次CSVを検証して登録する")
    p.add_argument("--dataset", required=True, choices=list(DATASETS))
    p.add_argument("--month", required=True, help="対象月 YYYY-MM")
    p.add_argument("--user", default=getpass.getuser(), help="監査ログに残す登録者名")
    add_data_dir(p)
    p.add_argument("file")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("demo", help="デモデータを作成する（同じ登録処理を通す）")
    p.add_argument("--quiet", action="store_true")
    add_data_dir(p)
    p.set_defaults(func=_demo)

    p = sub.add_parser("query", help="queries/NAME.sql を実行してCSVで出力する")
    p.add_argument("name")
    p.add_argument("--param", action="append", metavar="KEY=VALUE")
    add_data_dir(p)
    p.set_defaults(func=_query)

    p = sub.add_parser("history", help="登録の履歴（監査ログ）をCSVで出力する")
    p.add_argument("--dataset", choices=list(DATASETS))
    p.add_argument("--month")
    p.add_argument("--limit", type=int, default=0, help="最新のN件だけ")
    add_data_dir(p)
    p.set_defaults(func=_history)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
