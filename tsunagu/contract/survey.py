"""The national 通いの場 survey (介護予防・日常生活支援総合事業（地域支援事業）の実施状況に関する
調査, 厚生労働省) as the project reads it: its headings, the one table that maps the project's
own categories onto them, the frequency bands, which month a 年度 counts, and the national
figures shown beside a municipality's as context.

The headings of 主な活動内容 are the contract's (schema.SURVEY_ACTIVITIES). Those of 運営主体
and 会場 follow the survey's published summary (令和4年度実施分); check them against the year's
調査票 before relying on a heading, and change them here only: the report, the workbook and the
README's table all read this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsunagu.contract.schema import OPERATOR_TYPES, PLACE_CATEGORIES, SURVEY_ACTIVITIES, VENUE_TYPES

SURVEY_NAME = "介護予防・日常生活支援総合事業（地域支援事業）の実施状況に関する調査"
SOURCE = f"厚生労働省「{SURVEY_NAME}」"

OPERATORS = ("住民団体", "住民個人", "社会福祉協議会", "社会福祉法人", "NPO法人", "その他")
VENUES = (
    "公民館・自治会館・集会所",
    "介護関係施設・事業所の空きスペース",
    "個人宅",
    "空き家・空き店舗",
    "商店・喫茶店等",
    "公園・屋外",
    "その他",
)
NOT_GIVEN = "未入力"  # a place whose list leaves the column blank: counted, under this line

# The one table: each of the project's categories (種別, 運営主体, 会場種別 of the contract) and
# the survey heading it is counted under. 主な活動 written on a row wins over its 種別.
ACTIVITY_OF_CATEGORY = {
    "サロン": "茶話会",
    "カフェ": "茶話会",
    "体操・運動": "体操（運動）",
    "趣味・習いごと": "趣味活動",
    "会食・地域食堂": "会食",
    "子ども食堂": "多世代交流",
    "多世代交流": "多世代交流",
    "見守り・訪問": "その他",
    "その他": "その他",
}
OPERATOR_OF_TYPE = {
    "住民グループ": "住民団体",
    "地区社協": "住民団体",  # a 地区社協 is the residents' own body, not the 社協 office
    "町内会・自治会": "住民団体",
    "NPO・ボランティア団体": "NPO法人",
    "社会福祉法人": "社会福祉法人",
    "社協直営": "社会福祉協議会",
    "個人": "住民個人",
    "その他": "その他",
}
VENUE_OF_TYPE = {
    "集会所・公民館": "公民館・自治会館・集会所",
    "コミュニティセンター": "公民館・自治会館・集会所",
    "福祉施設": "介護関係施設・事業所の空きスペース",
    "個人宅": "個人宅",
    "空き家": "空き家・空き店舗",
    "店舗・喫茶店": "商店・喫茶店等",
    "屋外": "公園・屋外",
    "その他": "その他",
}
MAPPING = (
    ("種別", "主な活動内容", ACTIVITY_OF_CATEGORY),
    ("運営主体", "運営主体", OPERATOR_OF_TYPE),
    ("会場種別", "会場", VENUE_OF_TYPE),
)


@dataclass(frozen=True)
class Band:
    label: str
    low: float  # sessions_per_month >= low
    high: float | None  # and < high (None: no upper bound)


# from 開催頻度（回/月）: 4 a month is once a week; below 1 a month the survey does not count it
BANDS = (
    Band("週1回以上", 4, None),
    Band("月2〜4回未満", 2, 4),
    Band("月1〜2回未満", 1, 2),
)
MIN_SESSIONS = BANDS[-1].low


def band_of(sessions_per_month: float | None) -> str | None:
    """The survey's frequency band of a place, None when it is not counted (below once a
    month, or no frequency given)."""
    if sessions_per_month is None:
        return None
    for band in BANDS:
        if sessions_per_month >= band.low and (band.high is None or sessions_per_month < band.high):
            return band.label
    return None


BAND_RULE = (
    "開催頻度（回/月）が 4 以上は「週1回以上」、2 以上 4 未満は「月2〜4回未満」、1 以上 2 未満は"
    "「月1〜2回未満」。1 未満（2か月に1回など）と、開催頻度が空欄の通いの場は数えません。"
)
MONTH_RULE = (
    "年度の値は、その年度の最後の月（3月。年度の途中は登録のある最新の月）の一覧で数えます。"
    "国の調査が1か月の状況を、できれば3月時点で求めるのに合わせています。"
)
RATE_RULE = (
    "参加率 = 活動中の通いの場の参加実人数のうち65歳以上 ÷ 65歳以上人口（圏域マスタ）。"
    "参加実人数の入力がない通いの場は合計に入らないため、入力のある通いの場の数を添えます。"
)
SURVEY_RATE_RULE = (
    "調査の参加率 = 調査で数える通いの場（活動中・月1回以上）の参加実人数のうち65歳以上 ÷ "
    "65歳以上人口（圏域マスタ）。月1回未満などの通いの場を含む画面の参加率より低くなることがあります。"
)

TARGET_PCT = 8.0  # 65歳以上の参加率の国の目標
TARGET_LABEL = "国の目標 8%（2025年まで、認知症施策推進大綱 2019年）"


@dataclass(frozen=True)
class NationalFigure:
    label: str
    value_pct: float
    note: str = ""


# the national 参加率 as reported (context, not demo figures)
NATIONAL_RATES = (
    NationalFigure("平成25年度", 2.7),
    NationalFigure("令和元年度", 6.7, "令和2年度は新型コロナで低下し、その後回復"),
)
# 令和4年度実施分: 145,641か所, 1,741市町村のうち1,699 — the shares of places by heading
NATIONAL_YEAR = "令和4年度"
NATIONAL_PLACES = 145_641
NATIONAL_SHARES = {
    "主な活動内容": {"体操（運動）": 53.9, "趣味活動": 20.7, "茶話会": 13.0, "認知症予防": 3.6},
    "運営主体": {"住民団体": 70.5, "住民個人": 18.0, "社会福祉協議会": 4.6},
    "会場": {"公民館・自治会館・集会所": 83.1},
    "開催頻度": {"週1回以上": 38.9, "月2〜4回未満": 23.7, "月1〜2回未満": 31.7},
}


def national_context() -> str:
    """The national figures in one line, each with its year, and the source."""
    rates = "、".join(f"{f.label} {f.value_pct:.1f}%" for f in NATIONAL_RATES)
    return f"全国の参加率: {rates}（{SOURCE}）。{TARGET_LABEL}。"


def mapping_rows() -> list[tuple[str, str, str, str]]:
    """The table as the README and the workbook show it: (project column, its value, survey
    item, heading)."""
    return [
        (column, value, item, heading) for column, item, table in MAPPING for value, heading in table.items()
    ]


assert set(ACTIVITY_OF_CATEGORY) == set(PLACE_CATEGORIES)
assert set(OPERATOR_OF_TYPE) == set(OPERATOR_TYPES)
assert set(VENUE_OF_TYPE) == set(VENUE_TYPES)
assert set(ACTIVITY_OF_CATEGORY.values()) <= set(SURVEY_ACTIVITIES)
assert set(OPERATOR_OF_TYPE.values()) <= set(OPERATORS)
assert set(VENUE_OF_TYPE.values()) <= set(VENUES)
