"""python -m tools synth | bench: the development tools' command line (Japanese, like the
product's: python -m tsunagu)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tsunagu.cliargs import ArgumentParser
from tsunagu.config import PROJECT_ROOT, data_dir


def _synth(args) -> int:
    from tools.synth import write_synth

    root = data_dir(args.data_dir)
    if (root / "_manifest.json").exists():
        print(f"{root} にはすでにデータがあります。空のフォルダを指定してください。", file=sys.stderr)
        return 2
    counts = write_synth(root, args.scale, progress=lambda m: print(f"  {m}", file=sys.stderr))
    print(
        f"合成データ（{args.scale}）を作成しました: {root} "
        + "、".join(f"{k} {v:,}行" for k, v in counts.items())
    )
    return 0


def _synthetic(work: Path, scale: str) -> tuple[Path, Path]:
    """The synthetic store of a scale under `work` (made the first time) and its scratch folder."""
    from tools import synth

    root, tmp = work / scale, work / f"{scale}-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    if not (root / "_manifest.json").exists():
        synth.write_synth(root, scale)
    return root, tmp


def _shown(text: str, readme: Path | None) -> int:
    """The report's text printed, and its tables shown in the README (a full run's)."""
    from tools import bench

    if readme is not None:
        bench.show_in_readme(readme, text)
    print(text)
    return 0


def _bench(args) -> int:
    from tools import bench

    scales = ["city"] if args.quick else args.scale or ["city", "prefecture", "nation"]
    ingest_rows = 20_000 if args.quick else args.ingest_rows
    sessions = 2 if args.quick else args.sessions
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    readme = None if args.quick else PROJECT_ROOT / "README.md"
    if args.workbook_only:
        root, _ = _synthetic(work, scales[0])
        text = bench.replace_workbook(Path(args.out), bench.workbook_ingest(root))
        return _shown(text, readme)
    if args.restart_only or args.cpu_only:
        restart, cpu = {}, {}
        with bench._env_kept():
            for scale in scales:
                root, tmp = _synthetic(work, scale)
                if args.restart_only:
                    restart[scale] = bench.restarts(root, tmp)
                if args.cpu_only:
                    cpu[scale] = bench.rerun_cpu(root, tmp)
        out = Path(args.out)
        if restart:
            bench.replace_section(out, "## 再起動後の最初のページ", bench.restart_section(restart))
        if cpu:
            bench.replace_section(out, "## 1回の再実行の CPU 時間", bench.cpu_section(cpu))
        text = out.read_text(encoding="utf-8")
        return _shown(text, readme)
    if args.map_only:
        results = {}
        with bench._env_kept():
            for scale in scales:
                results[scale] = bench.map_reruns(*_synthetic(work, scale))
        command = " ".join(
            ["python -m tools bench", *(f"--scale {s}" for s in args.scale or []), "--map-only"]
        )
        text = bench.replace_section(Path(args.out), bench.MAP_MARKER, bench.map_section(results, command))
        return _shown(text, readme)
    if args.public_only:
        scale = scales[-1]
        root, tmp = _synthetic(work, scale)
        readers = args.readers if args.readers is not None else 2 * sessions
        with bench._env_kept():
            runs = bench.public_runs(root, tmp, sessions, readers)
        (tmp / "public-runs.json").write_text(
            json.dumps(runs, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        command = " ".join(
            ["python -m tools bench", *(f"--scale {s}" for s in args.scale or []), "--public-only"]
            + ([f"--sessions {args.sessions}"] if args.sessions != 20 else [])
            + ([f"--readers {args.readers}"] if args.readers is not None else [])
        )
        text = bench.replace_section(
            Path(args.out),
            bench.PUBLIC_MARKER,
            bench.public_section(scale, runs, command),
            before="\n" + bench.PROXY_MARKER,
        )
        return _shown(text, readme)
    if args.proxy_only:
        scale = scales[-1]
        root, tmp = _synthetic(work, scale)
        with bench._env_kept():
            runs = bench.proxy_runs(root, tmp, sessions, log=lambda m: print(m, file=sys.stderr))
        # the measured figures as they were, to look into or to write the section again
        (tmp / "proxy-runs.json").write_text(json.dumps(runs, ensure_ascii=False, indent=1), encoding="utf-8")
        command = "python -m tools bench " + " ".join(argv_shown(args))
        text = bench.replace_section(
            Path(args.out), bench.PROXY_MARKER, bench.proxy_section(scale, runs, command), before=None
        )
        return _shown(text, readme)
    if args.sessions_only:
        scale = scales[-1]
        with bench._env_kept():
            runs = bench.load_runs(work / scale, work / f"{scale}-tmp", sessions)
        text = bench.replace_sessions(Path(args.out), scale, runs)
        return _shown(text, readme)
    text = bench.run(
        scales,
        work,
        Path(args.out),
        ingest_rows,
        sessions,
        log=lambda m: print(m, file=sys.stderr),
        readme=readme,
    )
    print(text)
    return 0


def argv_shown(args) -> list[str]:
    """The bench options of this run as typed (for the report: how to measure it again)."""
    shown = [f"--scale {s}" for s in args.scale or []]
    if args.sessions != 20:
        shown.append(f"--sessions {args.sessions}")
    return [*shown, "--proxy-only"]


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m tools", description="tsunagu の開発用の道具（合成データ・ベンチマーク）"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="コマンド")

    p = sub.add_parser("synth", help="ベンチマーク用の合成データを作る（city / prefecture / nation）")
    p.add_argument(
        "--scale", choices=["city", "prefecture", "nation"], default="city", help="規模（市・県・全国）"
    )
    p.add_argument("--data-dir", help="データフォルダ（既定: $TSUNAGU_DATA_DIR か data/）")
    p.set_defaults(func=_synth)

    p = sub.add_parser("bench", help="ベンチマークを実行して Markdown の表を書く")
    p.add_argument(
        "--scale",
        action="append",
        choices=["city", "prefecture", "nation"],
        help="測る規模（何度でも。既定: すべて）",
    )
    p.add_argument("--work", default="data/bench", help="合成データを置くフォルダ（再利用します）")
    p.add_argument("--out", default="docs/benchmark.md", help="結果を書く Markdown ファイル")
    p.add_argument("--ingest-rows", type=int, default=1_000_000, help="取り込みを測る行数")
    p.add_argument("--sessions", type=int, default=20, help="同時に開くセッションの数")
    p.add_argument(
        "--quick", action="store_true", help="city だけ・小さな取り込み・2セッション（動作確認用）"
    )
    p.add_argument(
        "--workbook-only",
        action="store_true",
        help="Excel のブックの取り込みだけを測り直し、--out の該当部分を置き換える",
    )
    p.add_argument(
        "--sessions-only",
        action="store_true",
        help="同時アクセスだけを測り直し、--out の該当部分を置き換える",
    )
    p.add_argument(
        "--map-only",
        action="store_true",
        help="地図のあるページ（通いの場の地図タブ・地区カルテ・公開ガイド）の再実行と送る地図の大きさだけを"
        "--scale ごとに測り直し、--out の該当部分を置き換える",
    )
    p.add_argument("--readers", type=int, help="公開ページ（/guide）の読者の数（既定: --sessions の2倍）")
    p.add_argument(
        "--public-only",
        action="store_true",
        help="公開ページ（通いの場ガイド）の読者と同時のアクセスだけを測り、--out の該当部分を置き換える"
        "（せわしないペースの --sessions 人だけの実行を基準に、--readers 人の読者を加えて）",
    )
    p.add_argument(
        "--proxy-only",
        action="store_true",
        help="Caddy（HTTPS）を通した同時アクセスだけを測り、--out の該当部分を置き換える"
        "（1プロセスと2プロセス × 会議のペースとせわしないペースの --sessions 人、会議のペースの2倍の人数。"
        "直結の同じ実行を基準に）",
    )
    p.add_argument(
        "--restart-only",
        action="store_true",
        help="再起動後の最初のページ（キャッシュなし・あり）だけを --scale ごとに測り直し、--out の該当部分を置き換える",
    )
    p.add_argument(
        "--cpu-only",
        action="store_true",
        help="1回の再実行の CPU 時間（キャッシュなし・あり）だけを --scale ごとに測り直し、--out の該当部分を置き換える",
    )
    p.set_defaults(func=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
