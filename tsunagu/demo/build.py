"""The demo written as the CSVs a coordinator would export from Excel (CP932, UTF-8 with
BOM, plain UTF-8) and stored through the real ingest path, as a user would."""

from __future__ import annotations

import csv
import io
import random
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tsunagu.contract.schema import DATASETS
from tsunagu.demo.areas import KURASHIKI, MUSASHINO, area_rows
from tsunagu.demo.geography import boundaries_geojson
from tsunagu.demo.simulate import (
    AREAS_MONTH,
    PANTRY_MONTHS,
    PLACES_MONTHS,
    SEED,
    Event,
    Place,
    Site,
    build_forums,
    build_pantry,
    build_places,
    donors_by_month,
    guide_fields,
    month_range,
    survey_fields,
)
from tsunagu.ingest.pipeline import ingest
from tsunagu.store.versions import Store


def _fmt_month_variants(month: str | None, rng: random.Random) -> str:
    """Months as people type them: 2016-04, 2016/4, 平成28年4月, R2.7 …"""
    if not month:
        return ""
    import datetime as dt

    from tsunagu.contract.wareki import _era_of_date  # noqa: PLC0415 - a demo-only detail

    y, m = int(month[:4]), int(month[5:])
    name, n = _era_of_date(dt.date(y, m, 1))
    initial = {"令和": "R", "平成": "H", "昭和": "S"}[name]
    return rng.choice([month, f"{y}/{m}", f"{name}{'元' if n == 1 else n}年{m}月", f"{initial}{n}.{m}"])


def place_rows(places: list[Place], month: str, rng: random.Random) -> list[dict]:
    rows = []
    for p in places:
        status = p.status.get(month)
        if status is None:
            continue
        activity, real, older, oldest = survey_fields(p, month, status)
        guide = guide_fields(p, month)
        rows.append(
            {
                "通いの場ID": p.place_id,
                "名称": p.name,
                "都道府県": p.prefecture,
                "市町村": p.municipality,
                "地区": p.district,
                "小学校区": p.school,
                "種別": p.category,
                "会場種別": p.venue or "",
                "運営主体": p.operator or "",
                "対象": p.target or "",
                "開催頻度（回/月）": "" if p.sessions is None else f"{p.sessions:g}",
                "補助金対象": "はい" if p.subsidized.get(month) else "いいえ",
                "状態": status,
                "開始年月": _fmt_month_variants(p.started_on, rng),
                "平均参加者数": "" if p.participants is None else p.participants,
                "緯度": p.latlon[0] if p.latlon else "",
                "経度": p.latlon[1] if p.latlon else "",
                "主な活動": activity or "",
                "参加実人数": "" if real is None else real,
                "うち65歳以上": "" if older is None else older,
                "うち75歳以上": "" if oldest is None else oldest,
                "開催曜日": guide.weekdays or "" if guide else "",
                "開催時間": guide.hours or "" if guide else "",
                "参加費（円）": _fee_text(guide.fee_yen, p.place_id) if guide else "",
                "問い合わせ先": guide.contact or "" if guide else "",
                "公開": ("はい" if guide.published else "いいえ") if guide else "",
            }
        )
    return rows


def _fee_text(fee: int | None, place_id: str) -> str:
    """参加費 as lists write it: 0 often as 「無料」, some amounts with 「円」."""
    if fee is None:
        return ""
    way = sum(map(ord, place_id)) % 3
    if fee == 0:
        return "無料" if way else "0"
    return f"{fee}円" if way == 2 else str(fee)


def pantry_rows(sites: list[Site], month: str, donors: int, rng: random.Random) -> list[dict]:
    live = [s for s in sites if s.opened <= month and (s.closed is None or month < s.closed)]
    kurashiki = [s for s in live if s.municipality == KURASHIKI]
    share = Counter(rng.choices(range(len(kurashiki)), k=donors)) if kurashiki else Counter()
    rows = []
    for s in live:
        i = kurashiki.index(s) if s in kurashiki else None
        households = rng.randint(3, 28)
        consultations = rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 8])
        rows.append(
            {
                "パントリーID": s.pantry_id,
                "設置場所名": s.site_name,
                "都道府県": s.prefecture,
                "市町村": s.municipality,
                "地区": s.district,
                "小学校区": s.school,
                "サポーター種別": s.supporter,
                "活動種別": s.activity,
                "設置年月": _fmt_month_variants(s.opened, rng),
                "新規提供者数": share.get(i, 0) if i is not None else rng.randint(0, 2),
                "提供件数": rng.randint(2, 18),
                "利用世帯数": households,
                "配布点数": households * rng.randint(3, 8),
                "相談件数": consultations,
                "つなぎ件数": min(consultations, rng.choice([0, 0, 1, 1, 2])),
            }
        )
    return rows


def forum_rows(events: list[Event], month: str) -> list[dict]:
    return [
        {
            "行事ID": e.event_id,
            "開催日": e.held_on.replace("-", "/"),
            "行事名": e.title,
            "種別": e.event_type,
            "都道府県": e.prefecture,
            "市町村": e.municipality,
            "地区": e.district or "",
            "会場": e.venue or "",
            "開催形式": e.format,
            "会場参加者数": e.onsite,
            "オンライン参加者数": e.online,
            "アンケート回答数": "" if e.responses is None else e.responses,
            "肯定的回答数": "" if e.positive is None else e.positive,
        }
        for e in events
        if e.held_on[:7] == month
    ]


def to_csv(rows: list[dict], headers: list[str], encoding: str) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=headers, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def headers(dataset: str) -> list[str]:
    return [c.header for c in DATASETS[dataset].columns]


# who uploads: from OWN_UPLOADS_FROM each council its own month, under its coordinator's
# account (the audit log shows who); the months before were imported as one combined file a
# month (user "demo"), as the demo always was. (Every council uploading every month of nine
# years would make the demo take minutes to build.)
UPLOADERS = {
    KURASHIKI: "kurashiki",
    MUSASHINO: "musashino",
    "立科町": "tateshina",
    "南箕輪村": "minamiminowa",
    "高森町": "takamori",
    "天龍村": "tenryu",
    "南木曽町": "nagiso",
    "大桑村": "okuwa",
    "生坂村": "ikusaka",
    "信濃町": "shinano",
    "飯綱町": "iizuna",
    "軽井沢町": "karuizawa",
    "御代田町": "miyota",
    "下諏訪町": "shimosuwa",
    "富士見町": "fujimi",
    "辰野町": "tatsuno",
    "山形村": "yamagata",
    "池田町": "ikeda",
    "坂城町": "sakaki",
    "山ノ内町": "yamanouchi",
}
HISTORY_IMPORTER = "demo"
BOUNDARIES_MONTH = PLACES_MONTHS[0]
BOUNDARIES_FILE = "A27_倉敷市_架空.geojson"
OWN_UPLOADS_FROM = "2025-01"


@dataclass(frozen=True)
class DemoFile:
    dataset: str
    month: str
    name: str
    content: bytes
    user: str
    municipality: str | None = None  # for a file with no rows: whose month it is


@dataclass
class DemoFiles:
    """Every demo file, in the order it is uploaded."""

    files: list[DemoFile]


def _by_council(
    rows: list[dict], month: str, everyone: list[str]
) -> list[tuple[str, str | None, list[dict]]]:
    """(uploader, municipality for a file with no rows, rows) for a month: each council its
    own from OWN_UPLOADS_FROM (`everyone`: those that upload even with no rows), else one
    combined file."""
    if month < OWN_UPLOADS_FROM:
        if rows:
            return [(HISTORY_IMPORTER, None, rows)]
        return [(HISTORY_IMPORTER, m, []) for m in everyone if m in (KURASHIKI, MUSASHINO)]
    groups: dict[str, list[dict]] = {m: [] for m in everyone}
    for r in rows:
        groups.setdefault(r["市町村"], []).append(r)
    return [(UPLOADERS[muni], muni if not mine else None, mine) for muni, mine in groups.items()]


def build(seed: int = SEED) -> DemoFiles:
    rng = random.Random(seed)
    files: list[DemoFile] = []

    def add(dataset, month, rows, encoding, everyone=()):
        for user, muni, mine in _by_council(rows, month, list(everyone)):
            name = f"{dataset}_{month}.csv" if user == HISTORY_IMPORTER else f"{dataset}_{month}_{user}.csv"
            files.append(DemoFile(dataset, month, name, to_csv(mine, headers(dataset), encoding), user, muni))

    # areas as UTF-8 with BOM ("CSV UTF-8" in Excel), each council its own
    rows = area_rows(rng)
    for muni in dict.fromkeys(r["市町村"] for r in rows):
        mine = [r for r in rows if r["市町村"] == muni]
        name = f"areas_{AREAS_MONTH}_{UPLOADERS[muni]}.csv"
        files.append(
            DemoFile("areas", AREAS_MONTH, name, to_csv(mine, headers("areas"), "utf-8-sig"), UPLOADERS[muni])
        )
    # 倉敷市's school-district shapes (synthetic, not A27) as the council would upload A27's
    # GeoJSON: from the demo's first month, so every month's map has them
    files.append(
        DemoFile(
            "boundaries",
            BOUNDARIES_MONTH,
            BOUNDARIES_FILE,
            boundaries_geojson(),
            UPLOADERS[KURASHIKI],
            KURASHIKI,
        )
    )
    places = build_places(rng)
    for month in month_range(*PLACES_MONTHS):
        # places as CP932, Excel's default "CSV (コンマ区切り)" in Japan
        add("places", month, place_rows(places, month, rng), "cp932")
    sites = build_pantry(rng)
    months = month_range(*PANTRY_MONTHS)
    donors = donors_by_month(months, rng)
    for month in months:
        add("pantry", month, pantry_rows(sites, month, donors[month], rng), "cp932")
    events = build_forums(rng)
    for month in month_range("2016-04", "2025-03"):
        # a month with no events is uploaded too (an empty list): by every council from
        # OWN_UPLOADS_FROM, before that for 倉敷市 and 武蔵野市 (whose forums the demo follows)
        add("forums", month, forum_rows(events, month), "utf-8", UPLOADERS)
    return DemoFiles(files)


def write_demo(data_dir: Path, progress=None) -> list[str]:
    """Write the demo CSVs beside the store and ingest each one, as a user would."""
    store = Store(data_dir)
    if store.manifest()["datasets"] and not store.is_demo():
        raise SystemExit(
            f"{data_dir} には実データがあります。デモは別のフォルダ（--data-dir）に作成してください。"
        )
    demo = build()
    csv_dir = data_dir / "_demo_csv"
    if csv_dir.exists():
        shutil.rmtree(csv_dir)
    summaries = []
    for i, f in enumerate(demo.files):
        path = csv_dir / f.dataset / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content)
        result = ingest(
            f.content,
            f.dataset,
            f.month,
            store,
            user=f.user,
            file_name=f.name,
            demo=True,
            municipality=f.municipality,
        )
        if not result.ok:
            raise RuntimeError(
                f"demo file {f.name} was refused:\n" + "\n".join(str(e) for e in result.errors[:20])
            )
        summaries.append(result.summary)
        if progress:
            progress(i + 1, len(demo.files), result)
    return summaries
