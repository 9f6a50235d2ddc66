"""The data contract (docs/contract.md) as data: datasets, columns, types and rules.

Everything that validates, stores, documents or templates a dataset reads it from here,
so the contract is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TEXT, INT, NUMBER, BOOL, ENUM, MONTH, DATE, AREA = (
    "text",
    "int",
    "number",
    "bool",
    "enum",
    "month",
    "date",
    "area",
)
GEOMETRY = "geometry"  # WKB, WGS84 longitude/latitude (boundaries only)

POLARS_TYPES = {
    TEXT: pl.String,
    AREA: pl.String,
    ENUM: pl.String,
    MONTH: pl.String,  # 'YYYY-MM', like the partition folder
    INT: pl.Int64,
    NUMBER: pl.Float64,
    BOOL: pl.Boolean,
    DATE: pl.Date,
    GEOMETRY: pl.Binary,
}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str
    required: bool = True
    values: tuple[str, ...] = ()  # allowed values of an enum, in display order
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    unique: bool = False
    is_id: bool = False  # a key: compared after NFKC, like numbers and dates
    note: str = ""
    # an integer column's ways of writing it beyond digits: a unit that may follow the number
    # (「300円」) and words that stand for a value (「無料」 = 0); `expected` says so on refusal
    unit: str = ""
    words: tuple[tuple[str, int], ...] = ()
    expected: str = ""
    default: object = None  # what a blank cell, or a file without the column, is stored as


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    columns: tuple[Column, ...]
    allow_empty: bool = False
    has_areas: bool = True  # municipality/district/school_district checked against areas
    # "table": a CSV or workbook of these columns; "geo": a GeoJSON or zipped Shapefile whose
    # features become these columns (ingest/geo.py), so no template, workbook or editing
    kind: str = "table"

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def stored_schema(self) -> dict[str, pl.DataType]:
        return {c.key: POLARS_TYPES[c.type] for c in self.columns}

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A stored frame with every column of the contract: a month written before a column
        was added (主な活動, 参加実人数, …) has none of it, and reads as empty there (公開 as its
        default, いいえ)."""
        missing = [c for c in self.columns if c.key not in frame.columns]
        if not missing:
            return frame
        return frame.with_columns(pl.lit(c.default, dtype=POLARS_TYPES[c.type]).alias(c.key) for c in missing)


PREFECTURE_OPTIONAL = Column(
    "prefecture",
    "都道府県",
    AREA,
    required=False,
    note="市町村名が複数の都道府県にあるときは必須",
)


def _geo(district_required: bool = True, school: bool = True) -> tuple[Column, ...]:
    cols = [
        PREFECTURE_OPTIONAL,
        Column("municipality", "市町村", AREA),
        Column(
            "district",
            "地区",
            AREA,
            required=district_required,
            note="" if district_required else "空欄 = 市町村全体",
        ),
    ]
    if school:
        cols.append(Column("school_district", "小学校区", AREA))
    return tuple(cols)


def _count(key: str, header: str, required: bool = True, note: str = "") -> Column:
    return Column(key, header, INT, required=required, min=0, note=note)


AREAS = Dataset(
    "areas",
    "圏域マスタ",
    (
        Column("prefecture", "都道府県", AREA),
        Column("municipality", "市町村", AREA),
        Column("district", "地区", AREA),
        Column(
            "school_district",
            "小学校区",
            AREA,
            note="同じ都道府県・市町村・地区・小学校区の行はファイルの中で1回だけ",
        ),
        _count("population", "人口"),
        _count("population_65plus", "65歳以上人口", note="人口以下"),
        _count("households", "世帯数", required=False),
        Column(
            "municipality_code",
            "団体コード",
            TEXT,
            required=False,
            note="全国地方公共団体コード: 検査数字つきの6桁か、その前の5桁（全角も可。6桁で保存。最初の2桁はその行の都道府県の番号）。"
            "市町村ごとに1つ（空欄の行はその市町村のコードで埋める）、別の市町村と同じコードは不可",
        ),
        Column(
            "project_group",
            "事業グループ",
            TEXT,
            required=False,
            note="県の事業で市町村が属するグループ（長野県: 身近な圏域／多機関協働）。"
            "市町村ごとに1つ（空欄の行はその市町村の値で埋める）",
        ),
    ),
    has_areas=False,
)

PLACE_CATEGORIES = (
    "サロン",
    "カフェ",
    "体操・運動",
    "趣味・習いごと",
    "会食・地域食堂",
    "子ども食堂",
    "多世代交流",
    "見守り・訪問",
    "その他",
)
VENUE_TYPES = (
    "個人宅",
    "空き家",
    "集会所・公民館",
    "コミュニティセンター",
    "店舗・喫茶店",
    "福祉施設",
    "屋外",
    "その他",
)
OPERATOR_TYPES = (
    "住民グループ",
    "地区社協",
    "町内会・自治会",
    "NPO・ボランティア団体",
    "社会福祉法人",
    "社協直営",
    "個人",
    "その他",
)
TARGETS = ("限定なし", "高齢者", "子ども・子育て", "障がい者", "その他")
PLACE_STATUSES = ("活動中", "休止中", "終了")
# the national 通いの場 survey's headings of 主な活動内容 (contract/survey.py maps 種別 onto them)
SURVEY_ACTIVITIES = (
    "体操（運動）",
    "会食",
    "茶話会",
    "認知症予防",
    "趣味活動",
    "農作業",
    "生涯学習",
    "ボランティア活動",
    "就労的活動",
    "多世代交流",
    "その他",
)

PLACES = Dataset(
    "places",
    "居場所・通いの場",
    (
        Column("place_id", "通いの場ID", TEXT, unique=True, is_id=True),
        Column("name", "名称", TEXT),
        *_geo(),
        Column("category", "種別", ENUM, values=PLACE_CATEGORIES),
        Column("venue_type", "会場種別", ENUM, required=False, values=VENUE_TYPES),
        Column("operator_type", "運営主体", ENUM, required=False, values=OPERATOR_TYPES),
        Column("target", "対象", ENUM, required=False, values=TARGETS),
        Column(
            "sessions_per_month",
            "開催頻度（回/月）",
            NUMBER,
            required=False,
            min=0,
            max=31,
            min_exclusive=True,
        ),
        Column("subsidized", "補助金対象", BOOL),
        Column("status", "状態", ENUM, values=PLACE_STATUSES),
        Column("started_on", "開始年月", MONTH, required=False),
        _count("participants_avg", "平均参加者数", required=False),
        Column(
            "lat",
            "緯度",
            NUMBER,
            required=False,
            min=20,
            max=46,
            note="経度と両方入力するか両方空欄、日本国内",
        ),
        Column("lon", "経度", NUMBER, required=False, min=122, max=154),
        Column(
            "main_activity",
            "主な活動",
            ENUM,
            required=False,
            values=SURVEY_ACTIVITIES,
            note="国の通いの場調査の「主な活動内容」の区分。空欄なら種別から読み替えます",
        ),
        _count(
            "participants_real",
            "参加実人数",
            required=False,
            note="その月に参加した人の実人数（延べではなく、同じ人は1人）。国の調査の参加者実人数",
        ),
        _count("participants_65plus", "うち65歳以上", required=False, note="参加実人数以下"),
        _count("participants_75plus", "うち75歳以上", required=False, note="うち65歳以上以下"),
        # for residents: the public guide (its search and cards) and the printed guidebook
        Column(
            "weekdays",
            "開催曜日",
            TEXT,
            required=False,
            note="書き方は自由（例: 毎週火曜、第1・第3木曜、月・水・金、火曜日と金曜日、平日、毎月15日）。"
            "書かれた曜日が、公開ページの曜日での検索で見つかる曜日です（毎月15日のような日付だけでは見つかりません）",
        ),
        Column("hours", "開催時間", TEXT, required=False, note="例: 10:00～12:00、午後1時半から3時"),
        Column(
            "fee_yen",
            "参加費（円）",
            INT,
            required=False,
            min=0,
            unit="円",
            words=(("無料", 0), ("なし", 0)),
            expected="円の整数か「無料」で入力してください（例: 0、300、300円、無料）",
            note="0 = 無料。「300円」「無料」とも書けます",
        ),
        Column(
            "contact",
            "問い合わせ先",
            TEXT,
            required=False,
            note="公開してよいと運営者が同意した連絡先（社協や団体の電話番号）。個人の名前や電話番号は、"
            "本人が公開に同意したときだけ",
        ),
        Column(
            "published",
            "公開",
            BOOL,
            required=False,
            default=False,
            note="空欄 = いいえ。はい: 運営者が、住民向けの公開ページとガイドブックに載せることに同意した場所",
        ),
    ),
)

SUPPORTER_TYPES = (
    "ボランティア・サロングループ",
    "障がい者（児）支援団体",
    "教会等",
    "地域交流拠点",
    "ボランティア個人・グループ",
    "子育て支援拠点",
    "社会福祉法人",
    "地区社協・地区社協有志",
    "駄菓子屋・喫茶店",
    "学校・児童クラブ",
    "生活支援サービス団体",
    "町内会・子ども会",
    "法律相談所",
    "子ども食堂・地域食堂",
    "フードシェアハウス",
    "障がい当事者団体",
    "被災地支援団体",
    "その他",
)
ACTIVITY_TYPES = (
    "随時相談・対応",
    "既存の活動での相談支援",
    "フードシェア等イベント",
    "子ども食堂・地域食堂",
    "見守り・訪問型",
)

PANTRY = Dataset(
    "pantry",
    "互近助パントリー",
    (
        Column("pantry_id", "パントリーID", TEXT, unique=True, is_id=True),
        Column("site_name", "設置場所名", TEXT),
        *_geo(),
        Column("supporter_type", "サポーター種別", ENUM, values=SUPPORTER_TYPES),
        Column("activity_type", "活動種別", ENUM, values=ACTIVITY_TYPES),
        Column("opened_on", "設置年月", MONTH, required=False),
        _count("new_donors", "新規提供者数", note="この月に初めて提供した個人・企業・団体"),
        _count("donations", "提供件数"),
        _count("households_served", "利用世帯数"),
        _count("items_distributed", "配布点数"),
        _count("consultations", "相談件数"),
        _count("referrals", "つなぎ件数", note="相談・支援機関へつないだ件数"),
    ),
)

EVENT_TYPES = (
    "住民フォーラム",
    "通いの場交流会",
    "居場所交流会・学習会",
    "サポーター養成講座",
    "地区懇談会",
    "協議体会議",
    "研修会・セミナー",
    "その他",
)
FORMATS = ("会場", "オンライン", "ハイブリッド")

FORUMS = Dataset(
    "forums",
    "フォーラム・交流会",
    (
        Column("event_id", "行事ID", TEXT, unique=True, is_id=True),
        Column("held_on", "開催日", DATE, note="アップロードする月の日付"),
        Column("title", "行事名", TEXT),
        Column("event_type", "種別", ENUM, values=EVENT_TYPES),
        *_geo(district_required=False, school=False),
        Column("venue", "会場", TEXT, required=False),
        Column("format", "開催形式", ENUM, values=FORMATS),
        _count("attendees_onsite", "会場参加者数"),
        _count("attendees_online", "オンライン参加者数"),
        _count("survey_responses", "アンケート回答数", required=False, note="会場＋オンライン参加者数以下"),
        _count("survey_positive", "肯定的回答数", required=False, note="アンケート回答数以下"),
    ),
    allow_empty=True,
)

BOUNDARIES = Dataset(
    "boundaries",
    "小学校区の境界",
    (
        Column("prefecture", "都道府県", AREA),
        Column("municipality", "市町村", AREA),
        Column("district", "地区", AREA),
        Column("school_district", "小学校区", AREA, note="1つの小学校区に1つの形"),
        Column(
            "feature_name",
            "地物の名前",
            TEXT,
            note="ファイルにあった名前（国土数値情報 A27 なら学校名、例: 倉敷市立万寿小学校）",
        ),
        Column("geometry", "形", GEOMETRY, note="ポリゴンかマルチポリゴン。世界測地系（WGS84）の経度・緯度"),
        Column(
            "geometry_display",
            "表示用の形",
            GEOMETRY,
            note="地図に描くために登録のとき一度だけ簡略化したもの（誤差およそ2m）",
        ),
        Column("label_lon", "ラベルの経度", NUMBER, note="形の内側にある1点（地図の名前の位置）"),
        Column("label_lat", "ラベルの緯度", NUMBER),
    ),
    kind="geo",
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (AREAS, PLACES, PANTRY, FORUMS, BOUNDARIES)}
# the datasets uploaded as tables (CSV, workbooks): templates, column mappings, editing
TABLE_DATASETS: dict[str, Dataset] = {n: d for n, d in DATASETS.items() if d.kind == "table"}
