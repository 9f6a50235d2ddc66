"""Areas of the demo: 倉敷市, 武蔵野市 and the 18 長野県 municipalities.

Published figures (published.py, docs/published-figures.md) are exact: 倉敷市 人口 478,570,
世帯 218,097, 高齢化率 27.8%, 63 小学校区 from 15% to 50%; 生坂村 about 1,800 people at 41%;
南箕輪村's 12 地区; 飯綱町's 50 行政区; 武蔵野市's 13 地域社協 areas in 3 圏域. Everything else
(how people split between school districts, the other municipalities' sizes) is plausible and
deterministic, not published. The 団体コード are the real ones (総務省's 全国地方公共団体コード,
check digit included), and the 長野県 municipalities carry the report's two groups as their
事業グループ.
"""

from __future__ import annotations

import random

from tsunagu.demo.published import (
    IKUSAKA_AGING_RATE_PCT,
    IKUSAKA_POPULATION,
    KURASHIKI_HOUSEHOLDS,
    KURASHIKI_POPULATION,
    KURASHIKI_SCHOOL_AGING_RATE_RANGE_PCT,
    NAGANO_GROUPS,
)

KURASHIKI = "倉敷市"
KURASHIKI_SCHOOLS: dict[str, list[str]] = {
    "倉敷": [
        "倉敷東",
        "倉敷西",
        "倉敷南",
        "万寿",
        "万寿東",
        "大高",
        "老松",
        "中洲",
        "葦高",
        "西阿知",
        "菅生",
        "中庄",
        "庄",
        "豊洲",
        "天城",
        "茶屋町",
        "帯江",
        "粒江",
        "五福",
        "二福",
        "笹沖",
        "西坂台",
        "大内",
        "中島",
        "新田",
    ],
    "水島": [
        "水島",
        "第一福田",
        "第二福田",
        "第三福田",
        "第五福田",
        "福田南",
        "連島東",
        "連島西浦",
        "連島南",
        "霞丘",
        "旭丘",
    ],
    "児島": ["味野", "琴浦東", "琴浦西", "琴浦南", "赤崎", "下津井東", "下津井西", "郷内", "本荘", "緑丘"],
    "玉島": ["玉島", "柏島", "乙島", "長尾", "黒崎", "沙美", "穂井田", "富田", "上成", "玉島南", "八島"],
    "真備": ["川辺", "岡田", "箭田", "二万", "薗"],
    "船穂": ["船穂"],
}
KURASHIKI_DISTRICTS = list(KURASHIKI_SCHOOLS)
# plausible shares of the city's people (not published)
_KURASHIKI_DISTRICT_POP = {
    "倉敷": 216_400,
    "水島": 83_900,
    "児島": 67_800,
    "玉島": 81_300,
    "真備": 22_200,
    "船穂": 6_970,
}
KURASHIKI_65PLUS = 133_043  # 27.80% of the published population: the published 27.8%
_YOUNGEST, _OLDEST = ("倉敷", "中庄"), ("児島", "下津井西")  # 15.0% and 50.0%

MUSASHINO = "武蔵野市"
MUSASHINO_AREAS = {
    "吉祥寺": ["吉祥寺東町", "吉祥寺南町", "吉祥寺本町", "吉祥寺北町", "御殿山"],
    "中央": ["中町", "西久保", "緑町", "八幡町"],
    "武蔵境": ["関前", "境", "境南", "桜堤"],
}

# name: (population, 高齢化率, {district: [school districts]}) — 生坂村 and 軽井沢町 from
# the report (about 1,800 at 41%; about 20,000); the rest plausible.
_MINAMIMINOWA = [
    "田畑",
    "北殿",
    "南殿",
    "大泉",
    "大泉新田",
    "久保",
    "塩ノ井",
    "沢尻",
    "神子柴",
    "大芝",
    "北原",
    "中込",
]
NAGANO: dict[str, tuple[int, float, dict[str, list[str]]]] = {
    "立科町": (6_900, 0.382, {"芦田": ["立科小"], "西塩沢": ["立科小"], "山部": ["立科小"]}),
    "南箕輪村": (
        15_600,
        0.243,
        {d: ["南部小" if i % 3 == 0 else "南箕輪小"] for i, d in enumerate(_MINAMIMINOWA)},
    ),
    "高森町": (
        12_800,
        0.331,
        {"上市田": ["高森南小"], "下市田": ["高森北小"], "山吹": ["高森北小"], "牛牧": ["高森南小"]},
    ),
    "天龍村": (1_100, 0.612, {"平岡": ["天龍小"], "神原": ["天龍小"]}),
    "南木曽町": (3_900, 0.451, {"読書": ["読書小"], "吾妻": ["吾妻小"], "田立": ["田立小"]}),
    "大桑村": (3_400, 0.432, {"須原": ["大桑小"], "長野": ["大桑小"], "殿": ["大桑小"], "野尻": ["大桑小"]}),
    "生坂村": (IKUSAKA_POPULATION, IKUSAKA_AGING_RATE_PCT / 100, {"生坂": ["生坂小"], "草尾": ["生坂小"]}),
    "信濃町": (7_600, 0.432, {"柏原": ["信濃小中学校"], "古間": ["信濃小中学校"], "野尻": ["信濃小中学校"]}),
    "飯綱町": (
        10_500,
        0.392,
        {
            f"{area}{n}区": [f"{area}小"]
            for area, count in (("牟礼", 28), ("三水", 22))
            for n in range(1, count + 1)
        },
    ),
    "軽井沢町": (
        19_996,
        0.322,
        {"軽井沢": ["軽井沢東部小"], "中軽井沢": ["軽井沢中部小"], "追分": ["軽井沢西部小"]},
    ),
    "御代田町": (15_700, 0.301, {"御代田": ["御代田北小"], "小田井": ["御代田南小"]}),
    "下諏訪町": (19_000, 0.392, {"東山田": ["下諏訪北小"], "西赤砂": ["下諏訪南小"], "高木": ["下諏訪南小"]}),
    "富士見町": (
        14_000,
        0.371,
        {"富士見": ["富士見小"], "境": ["境小"], "落合": ["落合小"], "本郷": ["本郷小"]},
    ),
    "辰野町": (18_500, 0.372, {"辰野": ["辰野東小", "辰野西小"], "川島": ["川島小"], "両小野": ["両小野小"]}),
    "山形村": (8_400, 0.301, {"上大池": ["山形小"], "小坂": ["山形小"], "竹田": ["山形小"]}),
    "池田町": (9_400, 0.411, {"池田": ["池田小"], "会染": ["会染小"]}),
    "坂城町": (14_000, 0.372, {"坂城": ["坂城小"], "中之条": ["村上小"], "南条": ["南条小"]}),
    "山ノ内町": (11_500, 0.421, {"平穏": ["東小"], "夜間瀬": ["西小"], "佐野": ["西小"]}),
}


# 全国地方公共団体コード (6 digits, the last the check digit; validation recomputes it)
MUNICIPALITY_CODES = {
    KURASHIKI: "332020",
    MUSASHINO: "132039",
    "立科町": "203246",
    "南箕輪村": "203858",
    "高森町": "204030",
    "天龍村": "204137",
    "南木曽町": "204234",
    "大桑村": "204307",
    "生坂村": "204480",
    "信濃町": "205834",
    "飯綱町": "205907",
    "軽井沢町": "203211",
    "御代田町": "203238",
    "下諏訪町": "203611",
    "富士見町": "203629",
    "辰野町": "203823",
    "山形村": "204501",
    "池田町": "204811",
    "坂城町": "205214",
    "山ノ内町": "205613",
}
GROUP_OF = {muni: group for group, munis in NAGANO_GROUPS.items() for muni in munis}


def _split(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """Integers proportional to weights that add up to exactly total."""
    raw = [total * w / sum(weights) for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out


def _kurashiki_rows(rng: random.Random) -> list[dict]:
    schools = [(d, s) for d, names in KURASHIKI_SCHOOLS.items() for s in names]
    pops: list[int] = []
    for d, names in KURASHIKI_SCHOOLS.items():
        pops += _split(_KURASHIKI_DISTRICT_POP[d], [rng.uniform(0.5, 1.5) for _ in names], rng)
    # the district shares above are rounded guesses: scale to the published total
    pops = _split(KURASHIKI_POPULATION, pops, rng)
    rates = [rng.uniform(0.20, 0.38) for _ in schools]
    youngest, oldest = (pct / 100 for pct in KURASHIKI_SCHOOL_AGING_RATE_RANGE_PCT)
    fixed = {schools.index(_YOUNGEST): youngest, schools.index(_OLDEST): oldest}
    for i, r in fixed.items():
        rates[i] = r
    # scale the free rates until the city's 65+ matches the published 27.8% exactly
    for _ in range(50):
        need = KURASHIKI_65PLUS - sum(pops[i] * rates[i] for i in fixed)
        have = sum(pops[i] * rates[i] for i in range(len(schools)) if i not in fixed)
        for i in range(len(schools)):
            if i not in fixed:
                rates[i] = min(0.48, max(0.17, rates[i] * need / have))
    olds = [round(p * r) for p, r in zip(pops, rates)]
    free = [i for i in range(len(schools)) if i not in fixed]
    olds[max(free, key=lambda i: pops[i])] += KURASHIKI_65PLUS - sum(olds)
    households = _split(KURASHIKI_HOUSEHOLDS, [p * rng.uniform(0.9, 1.1) for p in pops], rng)
    return [
        {
            "都道府県": "岡山県",
            "市町村": KURASHIKI,
            "地区": d,
            "小学校区": f"{s}小",
            "人口": p,
            "65歳以上人口": o,
            "世帯数": h,
            "団体コード": MUNICIPALITY_CODES[KURASHIKI],
        }
        for (d, s), p, o, h in zip(schools, pops, olds, households)
    ]


def _simple_rows(
    pref: str, muni: str, population: int, rate: float, areas: dict[str, list[str]], rng: random.Random
) -> list[dict]:
    cells = [(d, s) for d, names in areas.items() for s in names]
    pops = _split(population, [rng.uniform(0.6, 1.4) for _ in cells], rng)
    olds = _split(round(population * rate), [p * rng.uniform(0.85, 1.15) for p in pops], rng)
    olds = [min(o, p) for o, p in zip(olds, pops)]
    households = [round(p / rng.uniform(2.1, 2.6)) for p in pops]
    return [
        {
            "都道府県": pref,
            "市町村": muni,
            "地区": d,
            "小学校区": s,
            "人口": p,
            "65歳以上人口": o,
            "世帯数": h,
            "団体コード": MUNICIPALITY_CODES[muni],
            "事業グループ": GROUP_OF.get(muni, ""),
        }
        for (d, s), p, o, h in zip(cells, pops, olds, households)
    ]


def area_rows(rng: random.Random) -> list[dict]:
    rows = _kurashiki_rows(rng)
    rows += _simple_rows("東京都", MUSASHINO, 148_200, 0.221, MUSASHINO_AREAS, rng)
    for muni, (population, rate, areas) in NAGANO.items():
        rows += _simple_rows("長野県", muni, population, rate, areas, rng)
    return rows
