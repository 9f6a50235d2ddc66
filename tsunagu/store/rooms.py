"""Rooms of 作戦会議モード: what a wall shows (its agenda, the slide, the district) where every
dashboard process can read it, so a presenter's phone served by one process drives a wall
served by another.

    <data>/_rooms/<CODE>.json   one room, replaced whole by a rename (readers never see half)
    <data>/_rooms/<CODE>.lock   held while one writer reads, changes and writes the room

A room is opened by a wall and ends with the meeting: when someone ends it, when its wall has
not been heard from for IDLE_S (the page was closed), or LONGEST_S after it opened. An ended
room's files are removed by the next wall that opens one. The folder is outside every dataset
folder and backups leave it out (store.backup keeps only what the store needs)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tsunagu.store.files import fsync_dir, write_atomic

FOLDER = "_rooms"
# no two letters a person could mistake for each other on a wall (0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V)
ALPHABET = "ACDEFHJKMNPRTWXY3479"
CODE_LENGTH = 4
IDLE_S = 120.0  # the wall checks in every few seconds while its page is open
LONGEST_S = 12 * 3600.0


class RoomGone(Exception):
    """The room has ended or never was, said in Japanese."""


@dataclass
class Room:
    code: str
    prefecture: str
    municipality: str
    agenda: dict[str, str]  # the agenda's link parameters (dashboard/agenda.py)
    owner: str  # the wall's own key (its session's), so only that wall renews the room
    opened_at: float
    wall_seen: float
    position: int = 0  # which slide of the agenda
    district: str | None = None  # shown instead of the agenda's districts (None: as the agenda says)
    seq: int = 0  # counts changes: a wall redraws when it moves on
    by: str = ""  # who moved it last (a user name, or 「wall」)
    joined: list[str] = field(default_factory=list)  # the presenters who opened it on a phone
    ended: bool = False

    def alive(self, now: float) -> bool:
        return not self.ended and now - self.wall_seen < IDLE_S and now - self.opened_at < LONGEST_S


def normalize(code: str) -> str:
    """What someone typed (full-width, lower case, spaces) as a code: 「ｋ７ｑ ｘ」 -> 「K7QX」."""
    return "".join(unicodedata.normalize("NFKC", code or "").split()).upper()


def valid(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


class Rooms:
    def __init__(self, root: Path | str, clock: Callable[[], float] = time.time):
        self.dir = Path(root) / FOLDER
        self.clock = clock

    def path(self, code: str) -> Path:
        return self.dir / f"{code}.json"

    def _read(self, code: str) -> Room | None:
        try:
            data = json.loads(self.path(code).read_text(encoding="utf-8"))
            return Room(**data)
        except (OSError, ValueError, TypeError):
            return None

    def get(self, code: str) -> Room | None:
        """The room of a code while its meeting goes on; None for a code ended or unknown."""
        code = normalize(code)
        if not valid(code):
            return None
        room = self._read(code)
        return room if room is not None and room.alive(self.clock()) else None

    def ended(self, code: str) -> bool:
        """Whether the code's room was there and has ended (not yet tidied away)."""
        code = normalize(code)
        room = self._read(code) if valid(code) else None
        return room is not None and not room.alive(self.clock())

    def open(self, prefecture: str, municipality: str, agenda: dict[str, str], owner: str) -> Room:
        """A new room with a code no other room holds (claimed by creating its file, which
        fails when another process got the same code first)."""
        self.sweep()
        self.dir.mkdir(parents=True, exist_ok=True)
        now = self.clock()
        for _ in range(200):
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            room = Room(code, prefecture, municipality, dict(agenda), owner, now, now, by="wall")
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{code}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(asdict(room), f, ensure_ascii=False)
                    f.flush()
                    os.fsync(f.fileno())
                os.link(tmp, self.path(code))  # fails if the code is taken
                fsync_dir(self.dir)
                return room
            except FileExistsError:
                continue
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        raise RoomGone("会議の部屋を開けませんでした。しばらくしてからもう一度お試しください。")

    @contextlib.contextmanager
    def _locked(self, code: str) -> Iterator[None]:
        with open(self.dir / f"{code}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def update(
        self,
        code: str,
        change: Callable[[Room], object],
        by: str,
        count: bool = True,
        if_seq: int | None = None,
    ) -> Room:
        """Read, change and write a room as one step among every process (a lock file), so two
        presenters pressing 次へ at once move it two slides. RoomGone when it has ended. With
        `if_seq`, only a room still at that count of changes is changed (a choice made on what
        the room was then); a room that has moved on since is returned as it is."""
        code = normalize(code)
        if not valid(code) or not self.path(code).exists():
            raise RoomGone(
                f"コード「{code}」の会議は見つかりません。壁に映っているコードを確かめてください。"
            )
        with self._locked(code):
            room = self._read(code)
            if room is None or not room.alive(self.clock()):
                raise RoomGone(f"コード「{code}」の会議は終了しました。")
            if if_seq is not None and room.seq != if_seq:
                return room
            change(room)
            if count:
                room.seq += 1
                room.by = by
            write_atomic(self.path(code), json.dumps(asdict(room), ensure_ascii=False).encode("utf-8"))
            return room

    def heartbeat(self, code: str, owner: str) -> Room | None:
        """The wall is still there: the room goes on (only the wall that opened it renews it)."""

        def seen(room: Room) -> None:
            if room.owner != owner:
                raise RoomGone("この会議は別の画面のものです。")
            room.wall_seen = self.clock()

        try:
            return self.update(code, seen, "wall", count=False)
        except RoomGone:
            return None

    def end(self, code: str, by: str) -> None:
        with contextlib.suppress(RoomGone):
            self.update(code, lambda r: setattr(r, "ended", True), by)

    def sweep(self) -> int:
        """Remove the files of rooms that have ended; how many rooms were removed."""
        if not self.dir.is_dir():
            return 0
        now, gone = self.clock(), 0
        for path in self.dir.glob("*.json"):
            room = self._read(path.stem)
            if room is None or room.alive(now):
                continue
            with self._locked(path.stem):
                again = self._read(path.stem)
                if again is not None and not again.alive(self.clock()):
                    path.unlink(missing_ok=True)
                    (self.dir / f"{path.stem}.lock").unlink(missing_ok=True)
                    gone += 1
        for stray in self.dir.glob(".*.tmp"):  # a write cut short long ago
            with contextlib.suppress(OSError):
                if now - stray.stat().st_mtime > IDLE_S:
                    stray.unlink()
        return gone
