"""The first-run guide: the four uploads a council makes, in order (areas first: every other
file is checked against it), whether each is done for the signed-in user's municipalities,
and, for those who cannot upload, whom to ask while nothing is registered yet."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from tsunagu.access import users
from tsunagu.config import data_dir
from tsunagu.contract.scope import Municipality, Scope
from tsunagu.dashboard.session import db
from tsunagu.store.versions import Store


@dataclass(frozen=True)
class Step:
    dataset: str
    title: str
    why: str
    how: str


STEPS: tuple[Step, ...] = (
    Step(
        "areas",
        "圏域マスタ（地区・小学校区と人口）",
        "最初に登録します。ほかのファイルの「地区」「小学校区」は、どれもこの表にあるかどうかで確かめます"
        "（書き間違いを見つけるためです）。人口と65歳以上人口は、「65歳以上1,000人あたりの通いの場」などの計算に使います。",
        "1行に1つの小学校区を書きます。同じ地区に小学校区がいくつかあれば、その数だけ行を書きます。"
        "世帯数・団体コード・事業グループは空欄でもかまいません。対象の月は、人口を数えた時点の月"
        "（4月1日現在なら4月）です。毎月ではなく、人口が変わったときに登録し直します。",
    ),
    Step(
        "places",
        "居場所・通いの場",
        "毎月、その月の通いの場の一覧を登録します。これが済むと、ホームに数字が出ます。",
        "1行に1か所です。同じ場所には、月が変わっても同じ「通いの場ID」を付けます（前の月と比べて、"
        "増えた場所・なくなった場所を示すためです）。休止・終了した場所は、行を消さずに「状態」を変えます。",
    ),
    Step(
        "pantry",
        "互近助パントリー",
        "毎月、設置場所ごとの提供件数・利用世帯数・相談件数などを登録します。",
        "1行に1か所の設置場所です。パントリーの取り組みがない場合は、この手順は飛ばしてかまいません。",
    ),
    Step(
        "forums",
        "フォーラム・交流会（行事）",
        "開いた行事を、開催した月ごとに登録します。",
        "1行に1回の行事です。行事がなかった月は、ひな形をそのまま（見出しの行だけで）登録できます。",
    ),
)

# a worked example of areas (figures made up), in the template's own headers
AREAS_EXAMPLE: dict[str, list] = {
    "都道府県": ["岡山県", "岡山県", "岡山県", "岡山県"],
    "市町村": ["倉敷市", "倉敷市", "倉敷市", "倉敷市"],
    "地区": ["玉島", "玉島", "真備", "船穂"],
    "小学校区": ["玉島", "長尾", "箭田", "船穂"],
    "人口": [8200, 7400, 6100, 6970],
    "65歳以上人口": [2600, 2100, 2200, 1900],
}


@dataclass(frozen=True)
class Progress:
    step: Step
    done: tuple[Municipality, ...]  # the user's municipalities with a month of it
    missing: tuple[Municipality, ...]  # and those still without

    @property
    def complete(self) -> bool:
        return bool(self.done) and not self.missing

    @property
    def started(self) -> bool:
        return bool(self.done)


@dataclass(frozen=True)
class Guide:
    steps: tuple[Progress, ...]
    is_demo: bool

    @property
    def complete(self) -> bool:
        return all(p.complete for p in self.steps)

    @property
    def has_figures(self) -> bool:
        """Some monthly data of the user's own: ホーム has something to show them."""
        return any(p.started for p in self.steps if p.step.dataset != "areas")

    @property
    def shown(self) -> bool:
        """Whether an editor finds the guide in the sidebar: while a step is undone, and never
        on the demo folder (real uploads are refused there)."""
        return not self.is_demo and not self.complete

    @property
    def first(self) -> bool:
        """Whether the guide is an editor's start page: nothing of theirs to show yet."""
        return self.shown and not self.has_figures


def targets(scope: Scope, known: list[Municipality]) -> list[Municipality]:
    """The municipalities the user acts for: named ones even before their areas exist (so a
    step is undone until each has it), else those of the store their scope covers."""
    if scope.municipalities:
        return sorted(scope.municipalities)
    return scope.within(known)


def progress(store: Store, scope: Scope) -> Guide:
    """Each step, done where the store has a month of its dataset for the municipality."""
    manifest = store.manifest()
    known = store.municipalities(manifest)
    mine = targets(scope, known)
    steps = []
    for step in STEPS:
        present: set[Municipality] = set()
        for month in store.months(step.dataset, manifest):
            present |= {
                (p["prefecture"], p["municipality"])
                for p in store.parts(step.dataset, month, manifest).values()
            }
        steps.append(
            Progress(step, tuple(m for m in mine if m in present), tuple(m for m in mine if m not in present))
        )
    return Guide(tuple(steps), bool(manifest.get("demo")))


@st.cache_data(max_entries=64, show_spinner=False)
def _progress(root: str, version: int, scope: tuple) -> Guide:
    return progress(Store(root), Scope.from_record(dict(scope)))


def for_user(user: users.User) -> Guide:
    """The guide of the signed-in user, per data version (app.py asks on every run)."""
    version = db().refresh()
    record = tuple(sorted((k, _frozen(v)) for k, v in user.scope.to_record().items()))
    return _progress(str(data_dir()), version, record)


def _frozen(value):
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _overlaps(a: Scope, b: Scope) -> bool:
    """Whether two scopes share a place (a prefecture's admin is no help to another's viewer)."""
    if a.everywhere or b.everywhere:
        return True
    if a.prefecture and b.prefecture:
        return a.prefecture == b.prefecture
    if a.prefecture or b.prefecture:
        pref, munis = (a.prefecture, b.municipalities) if a.prefecture else (b.prefecture, a.municipalities)
        return any(p == pref for p, _ in munis)
    return bool(a.municipalities & b.municipalities)


@dataclass(frozen=True)
class Contacts:
    admins: list[str]
    editors: list[str]
    unnamed: int  # people without a display name: counted, never shown by their username


def contacts(scope: Scope) -> Contacts:
    """Whom a viewer asks to register data: the display names of the admins and editors whose
    scope shares a place with theirs. Names only: never a username, nothing else of the file."""
    admins, editors, unnamed = [], [], 0
    for username, rec in sorted(users.load().items()):
        role = rec.get("role")
        if role not in ("admin", "editor") or not _overlaps(scope, users.scope_of(rec)):
            continue
        name = str(rec.get("name") or "").strip()
        if not name or name == username:  # `users add` without a name keeps the username there
            unnamed += 1
            continue
        (admins if role == "admin" else editors).append(name)
    return Contacts(admins, editors, unnamed)


def link(page: str, **kwargs) -> None:
    """st.page_link, or nothing when this run has not registered the page: app.py decides
    what to register earlier in the run, and an upload landing in between can change the
    answer (a page file run on its own registers none)."""
    try:
        st.page_link(page, **kwargs)
    except StreamlitPageNotFoundError:
        pass


def go() -> None:
    """Switch to the guide, if this run has registered it (the run that signs someone in has
    not: they see a link, and the next run brings them here)."""
    try:
        st.switch_page("pages/start.py")
    except StreamlitPageNotFoundError:
        pass


def places(munis, progress: Progress) -> str:
    """「倉敷市、総社市」, with the prefecture when the user's municipalities span several
    (府中市 is in two)."""
    several = len({pref for pref, _ in progress.done + progress.missing}) > 1
    return listed([pref + m if several else m for pref, m in munis], unit="市町村")


def listed(names: list[str], most: int = 5, unit: str = "名") -> str:
    """「山田さん、佐藤さん ほか3名」"""
    shown = "、".join(names[:most])
    return shown + (f" ほか{len(names) - most}{unit}" if len(names) > most else "")
