"""The public guide for residents (通いの場ガイド): what it reads and how it searches.

Everything a resident sees comes from the named queries public_places (published, running
places, only the columns a card shows), public_school_districts (names and shapes) and
public_municipalities (which municipalities have a guide); the search below filters that
frame and reads nothing else. The same frame makes the printed guidebook
(documents/guidebook.py), so paper and screen show the same places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from tsunagu.contract import weekdays as wd
from tsunagu.query.database import Database

QUERIES = ("public_places", "public_school_districts", "public_municipalities")  # all the guide reads
OPEN_TO_ALL = "限定なし"
# a card's line for a fee; 0 is 無料 (the contract's own reading of 0)
FREE = "無料"


@dataclass(frozen=True)
class Search:
    """A resident's search: every field optional (None / False = not narrowed)."""

    district: str | None = None
    school_district: str | None = None
    weekday: int | None = None  # 0 = 月曜 … 6 = 日曜, as contract/weekdays.py reads 開催曜日
    category: str | None = None
    target: str | None = None  # also finds places open to all (限定なし)
    free: bool = False  # only places whose 参加費 is 0 (a blank fee is not known to be free)


def with_days(places: pl.DataFrame) -> pl.DataFrame:
    """The places with `days`: the weekdays their 開催曜日 names (a list, Monday = 0)."""
    days = [list(wd.weekdays(t)) for t in places["weekdays"].to_list()]
    return places.with_columns(pl.Series("days", days, dtype=pl.List(pl.Int64)))


def search(places: pl.DataFrame, s: Search) -> pl.DataFrame:
    """The places a search finds, in the query's order (school district, then name)."""
    if "days" not in places.columns:
        places = with_days(places)
    keep = pl.lit(True)
    if s.district:
        keep &= pl.col("district") == s.district
    if s.school_district:
        keep &= pl.col("school_district") == s.school_district
    if s.weekday is not None:
        keep &= pl.col("days").list.contains(s.weekday)
    if s.category:
        keep &= pl.col("category") == s.category
    if s.target:
        keep &= pl.col("target").is_in([s.target, OPEN_TO_ALL])
    if s.free:
        keep &= pl.col("fee_yen") == 0
    return places.filter(keep.fill_null(False))


def published(db: Database, prefecture: str, municipality: str) -> pl.DataFrame:
    return with_days(db.query("public_places", prefecture=prefecture, municipality=municipality))


def fee_label(fee: int | None) -> str:
    """0 → 「無料」, 300 → 「300円」, unknown → 「—」."""
    if fee is None:
        return "—"
    return FREE if fee == 0 else f"{fee:,}円"


# a phone number at the end of a contact starts its own line on paper, never cut in two
_PHONE = re.compile(r"\s*(?=[0-9０-９(（][0-9０-９()（）\-－ー]{8,}$)")


def contact_lines(contact: str | None) -> str | None:
    """「運営グループ 086-000-1234」 → 「運営グループ\n086-000-1234」."""
    return _PHONE.sub("\n", contact, count=1).strip() if contact else contact


def when_label(weekdays: str | None, hours: str | None) -> str:
    """The card's line for when: 開催曜日 as the council wrote it, then 開催時間."""
    parts = [p.strip() for p in (weekdays, hours) if p and p.strip()]
    return "　".join(parts) if parts else "日時はお問い合わせください"


def by_weekday(places: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """The places under each weekday they meet on (月曜日 … 日曜日), then those whose 開催曜日
    names none (a day of the month, 不定期): a place meeting on two weekdays is under both."""
    if "days" not in places.columns:
        places = with_days(places)
    groups = []
    for day, name in enumerate(wd.WEEKDAY_NAMES):
        on = places.filter(pl.col("days").list.contains(day))
        if on.height:
            groups.append((name, on))
    other = places.filter(pl.col("days").list.len() == 0)
    if other.height:
        groups.append(("日にちで開く場所・そのほか", other))
    return groups


PATH = "guide"  # the public page's address under the server (app.py registers it so)


def address_from(browser_url: str | None) -> str:
    """The public page's address from the address a browser is using on this server (any
    page of it): the same scheme, host and prefix, ending in /guide; "" when unknown."""
    from urllib.parse import urlsplit, urlunsplit

    if not browser_url:
        return ""
    parts = urlsplit(browser_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    base = parts.path.rsplit("/", 1)[0] if parts.path.count("/") > 1 else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/{PATH}", "", ""))


def page_url(
    address: str,
    municipality: str,
    code: str | None = None,
    district: str | None = None,
    school_district: str | None = None,
) -> str:
    """The public page opened on an area (the guidebook's QR code): ?m= the 団体コード (or the
    name), &d= the district, &s= the school district."""
    from urllib.parse import urlencode

    query = {"m": code or municipality}
    if district:
        query["d"] = district
    if school_district:
        query["s"] = school_district
    return f"{address}?{urlencode(query)}"
