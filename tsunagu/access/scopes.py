"""Where a user may act, from the places the store knows: the municipalities of its `areas`,
and the names a person types (「立科町」「東京都府中市」「長野県」) resolved to a Scope.

Names are resolved once, when a scope is given, and kept as (prefecture, municipality) as
`areas` spells them: a name alone is ambiguous (府中市 is in 東京都 and 広島県).
"""

from __future__ import annotations

import difflib

from tsunagu.contract.parse import nfkc
from tsunagu.contract.scope import EVERYWHERE, Municipality, Scope
from tsunagu.store.versions import Store

NO_AREAS = (
    "圏域マスタ（areas）がまだ登録されていないため、担当の市町村・都道府県を確かめられません。"
    "先に圏域マスタを登録してください。"
)
SEPARATORS = "/ "  # 「東京都/府中市」 or with a space (after NFKC: ／ and the full-width space too)


class ScopeError(ValueError):
    """A name that does not give one place, said in Japanese."""


def known_municipalities(store: Store) -> list[Municipality]:
    """Every (prefecture, municipality) of every stored month of `areas`, once each, in the
    dashboard's order. Every month, not the latest: each municipality may keep its own
    latest areas upload, and a municipality no longer in the newest month still names its
    users' scope."""
    pairs: set[Municipality] = set()
    for month in store.months("areas"):
        areas = store.read_month("areas", month)
        if areas is not None and not areas.is_empty():
            pairs |= set(areas.select("prefecture", "municipality").unique().iter_rows())
    return sorted(pairs)


def _pref_key(name: str) -> str:
    s = nfkc(name)
    return s[:-1] if len(s) > 2 and s[-1] in "都道府県" else s


def _near(name: str, options: list[str]) -> str:
    """A few names like the one typed, for the message (by characters: 立科 finds 立科町)."""
    typed = nfkc(name)
    close = difflib.get_close_matches(typed, options, n=5, cutoff=0.5)
    telling = set(typed) - set("市区町村都道府県")  # every name shares these
    close += [o for o in options if o not in close and telling & set(o)]
    return "、".join(close[:5])


def prefecture(name: str, known: list[Municipality]) -> str:
    """The prefecture as `areas` spells it (「長野」 finds 長野県)."""
    if not known:
        raise ScopeError(NO_AREAS)
    prefs = list(dict.fromkeys(p for p, _ in known))
    found = [p for p in prefs if _pref_key(p) == _pref_key(name)]
    if not found:
        near = _near(name, prefs)
        raise ScopeError(
            f"「{name}」は圏域マスタ（areas）にない都道府県です。"
            + (f"近い名前: {near}" if near else f"登録されている都道府県: {'、'.join(prefs)}")
        )
    return found[0]


def municipality(name: str, known: list[Municipality]) -> Municipality:
    """One municipality from 「立科町」, 「東京都府中市」 or 「東京都/府中市」; a name that
    repeats across prefectures needs its prefecture."""
    if not known:
        raise ScopeError(NO_AREAS)
    typed = nfkc(name)
    for sep in SEPARATORS:
        if sep in typed:
            pref_part, _, muni_part = typed.partition(sep)
            pref = prefecture(pref_part, known)
            candidates = [(p, m) for p, m in known if p == pref and nfkc(m) == nfkc(muni_part)]
            if not candidates:
                near = _near(muni_part, [m for p, m in known if p == pref])
                raise ScopeError(
                    f"「{muni_part.strip()}」は{pref}の市町村として圏域マスタ（areas）にありません。"
                    + (f"近い名前: {near}" if near else "")
                )
            return candidates[0]
    candidates = [(p, m) for p, m in known if nfkc(m) == typed]
    if not candidates:  # 「東京都府中市」: a known prefecture written in front
        candidates = [(p, m) for p, m in known if typed == nfkc(p) + nfkc(m)]
    if not candidates:
        near = _near(typed, list(dict.fromkeys(m for _, m in known)))
        raise ScopeError(
            f"「{name}」は圏域マスタ（areas）にない市町村です。"
            + (f"近い名前: {near}" if near else "市町村名を確かめてください。")
        )
    if len(candidates) > 1:
        prefs = "、".join(p for p, _ in candidates)
        example = f"{candidates[0][0]}{candidates[0][1]}"
        raise ScopeError(
            f"「{name}」は複数の都道府県（{prefs}）にあります。都道府県も付けて指定してください"
            f"（例: {example} または {candidates[0][0]}/{candidates[0][1]}）。"
        )
    return candidates[0]


def resolve(municipalities: list[str] | None = None, prefecture_name: str | None = None, known=()) -> Scope:
    """The scope named by municipality names or one prefecture (both: refused); neither is
    everywhere."""
    known = list(known)
    if municipalities and prefecture_name:
        raise ScopeError("担当は市町村か都道府県のどちらか一方で指定してください。")
    if prefecture_name:
        return Scope(prefecture=prefecture(prefecture_name, known))
    if municipalities:
        return Scope(municipalities=frozenset(municipality(n, known) for n in municipalities))
    return EVERYWHERE
