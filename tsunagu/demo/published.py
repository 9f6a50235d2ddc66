"""The published figures the demo reproduces exactly, as data.

docs/published-figures.md lists each one with the document it was published in and the test
that reads it back from the demo store (tests/test_published_figures_doc.py keeps the page and
this file equal). Only published values belong here: what the demo needs and no document gives
(the R6 counts, 真備 after R1, exactly how many donors) is the simulation's (simulate.py,
areas.py), said there as plausible.
"""

from __future__ import annotations

# 倉敷市 --------------------------------------------------------------------------------
# the city (令和4年9月末): the SC カフェ slides of 倉敷市社協 (2022)
KURASHIKI_POPULATION = 478_570
KURASHIKI_HOUSEHOLDS = 218_097
KURASHIKI_AGING_RATE_PCT = 27.8
KURASHIKI_SCHOOL_DISTRICTS = 63
KURASHIKI_SCHOOL_AGING_RATE_RANGE_PCT = (15, 50)  # the youngest and the oldest school district
KURASHIKI_DISTRICTS = ("倉敷", "水島", "児島", "玉島", "真備", "船穂")

# 活動中 places and 補助金対象サロン per 年度 (its March snapshot), H28–R5: the 2025 talk. The
# 2022 slides give other 補助金対象 counts for H29–R3; the later publication is followed.
PLACES_ACTIVE = {2016: 430, 2017: 499, 2018: 600, 2019: 705, 2020: 771, 2021: 840, 2022: 876, 2023: 839}
PLACES_SUBSIDIZED = {
    2016: 160,
    2017: 223,
    2018: 263,
    2019: 275,
    2020: 290,
    2021: 288,
    2022: 305,
    2023: 311,
}
MABI_ACTIVE = {2016: 38, 2017: 51, 2018: 58, 2019: 98}  # 真備, H28–R1 (the 2018 flood between)

# 互近助パントリー sites as of 2022-10 (the 2022 slides) and 2024-07 (the 2025 talk)
PANTRY_2022_10 = {"倉敷": 29, "水島": 15, "児島": 11, "玉島": 15, "真備": 6, "船穂": 3}
PANTRY_2024_07 = {"倉敷": 29, "水島": 19, "児島": 17, "玉島": 19, "真備": 6, "船穂": 5}
ACTIVITY_2022_10 = {
    "随時相談・対応": 28,
    "既存の活動での相談支援": 17,
    "フードシェア等イベント": 16,
    "子ども食堂・地域食堂": 11,
    "見守り・訪問型": 7,
}
ACTIVITY_2024_07 = {
    "随時相談・対応": 29,
    "既存の活動での相談支援": 23,
    "フードシェア等イベント": 19,
    "子ども食堂・地域食堂": 17,
    "見守り・訪問型": 7,
}
# the 2022 slides say 個人ボランティア and ボランティアグループ: the contract's names are used
SUPPORTER_2022_10 = {
    "障がい者（児）支援団体": 10,
    "子ども食堂・地域食堂": 9,
    "社会福祉法人": 7,
    "地域交流拠点": 9,
    "子育て支援拠点": 8,
    "ボランティア個人・グループ": 10,
    "ボランティア・サロングループ": 16,
    "地区社協・地区社協有志": 4,
    "駄菓子屋・喫茶店": 2,
    "フードシェアハウス": 1,
    "法律相談所": 1,
    "障がい当事者団体": 1,
    "被災地支援団体": 1,
}
SUPPORTER_2024_07 = {
    "ボランティア・サロングループ": 22,
    "障がい者（児）支援団体": 13,
    "教会等": 11,
    "地域交流拠点": 10,
    "ボランティア個人・グループ": 11,
    "子育て支援拠点": 8,
    "社会福祉法人": 7,
    "地区社協・地区社協有志": 4,
    "駄菓子屋・喫茶店": 3,
    "学校・児童クラブ": 2,
    "生活支援サービス団体": 1,
    "町内会・子ども会": 2,
    "法律相談所": 1,
}
DONORS_OVER_2022_10 = 350  # 「350を超える個人・企業・団体」
DONORS_OVER_2024_07 = 760  # 「７６０を超える」
PANTRY_STARTED = "2021-04"  # 「プロジェクトスタートから1年半」 before 2022-10

# forums every 年度: 住民フォーラム twice, 通いの場交流会 in every district, a 9-session course
RESIDENT_FORUMS_PER_YEAR = 2
SUPPORTER_COURSE_SESSIONS = 9

# 武蔵野市 ------------------------------------------------------------------------------
MUSASHINO_COMMUNITY_AREAS = 13  # 地域社協（福祉の会）
MUSASHINO_SPHERES = 3  # 圏域, one 地域担当職員 each
MUSASHINO_EVENTS = [  # 居場所交流会・学習会: day, title, attendance
    ("2017-08-31", "居場所交流会", 23),
    ("2017-09-06", "居場所交流会", 16),
    ("2017-09-09", "居場所交流会", 15),
    ("2018-09-08", "居場所学習会", 58),
    ("2020-01-25", "居場所交流会", 17),
    ("2021-03-13", "助成団体交流会（15団体）", 19),
]
MUSASHINO_SUBSIDIZED_GROUPS = 15  # the groups of the last 交流会 (March 2021)

# the summit session (its survey) ----------------------------------------------------------
SUMMIT_PARTICIPANTS = 243
SUMMIT_ONLINE = 234
SUMMIT_ONSITE = 9
SUMMIT_RESPONSES = 70

# 長野県: the 総合相談体制整備事業 report, 平成29年度 ---------------------------------------
NAGANO_REPORT_FISCAL_YEAR = 2017
NAGANO_GROUPS = {
    "身近な圏域": (
        "立科町",
        "南箕輪村",
        "高森町",
        "天龍村",
        "南木曽町",
        "大桑村",
        "生坂村",
        "信濃町",
        "飯綱町",
    ),
    "多機関協働": (
        "軽井沢町",
        "御代田町",
        "下諏訪町",
        "富士見町",
        "辰野町",
        "山形村",
        "池田町",
        "坂城町",
        "山ノ内町",
    ),
}
MINAMIMINOWA_DISTRICTS = 12
MINAMIMINOWA_MEETINGS = 14  # in all 12 地区, twice in the two model districts
MINAMIMINOWA_CLOSER_TIES_PCT = 95  # answered they would deepen neighbourly ties
IIZUNA_ADMIN_DISTRICTS = 50  # 行政区
IIZUNA_SESSIONS = 45
IIZUNA_DISTRICTS_WITH_SESSIONS = 28
IKUSAKA_POPULATION = 1_800  # 「約1,800人」
IKUSAKA_AGING_RATE_PCT = 41
KARUIZAWA_POPULATION_ABOUT = 20_000  # 「人口が２万人規模」
KARUIZAWA_MARKET_FIRST_MONTH = "2017-11"  # 情報市庭, monthly from November
KARUIZAWA_MARKET_ATTENDANCE_ABOUT = 25
OGUWA_CAFES = 18
NAGISO_SALONS = 30  # 「約30か所」
NAGISO_PARTICIPATIONS_OVER = 1_000  # a year, all salons together
