"""The users file: who may sign in, with which role and home district.

A YAML file outside git (default `.streamlit/users.yaml`, or $TSUNAGU_USERS_FILE) holding
bcrypt hashes only, written atomically with owner-only permissions. The cookie key sits
beside it, generated on first use, never committed.
"""

from __future__ import annotations

import copy
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from tsunagu.config import PROJECT_ROOT
from tsunagu.fsutil import write_atomic

ROLES = ("viewer", "manager", "editor", "admin")  # each includes the ones before it
ROLE_LABELS = {"viewer": "閲覧", "manager": "管理職（詳細表・ダウンロード）", "editor": "データ更新",
               "admin": "管理者"}
MAX_PASSWORD_BYTES = 72  # bcrypt ignores what follows; refuse rather than truncate silently
MIN_PASSWORD_CHARS = 8


class UsersError(Exception):
    """A refusal about users, said in Japanese."""


class Hasher:
    """bcrypt exactly as streamlit-authenticator's Hasher uses it (the same hashes), without
    importing that package: it imports Streamlit, which prints warnings on the command line."""

    @staticmethod
    def hash(password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()

    @staticmethod
    def check_pw(password: str, hashed: str) -> bool:
        return bcrypt.checkpw(password.encode(), hashed.encode())


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    district: str | None = None  # the home district, pre-selected on sign-in

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def users_path() -> Path:
    env = os.environ.get("TSUNAGU_USERS_FILE")
    return Path(env) if env else PROJECT_ROOT / ".streamlit" / "users.yaml"


def cookie_key_path() -> Path:
    return users_path().with_name(users_path().stem + ".cookie_key")


def _write_private(path: Path, text: str) -> None:
    """Atomically, readable by the owner only (the file holds password hashes / a key)."""
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def check_permissions(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UsersError(f"{path} を所有者以外も読めます（{oct(mode)}）。`chmod 600 {path}` を実行してください。")


_parsed: dict[Path, tuple[tuple, dict]] = {}  # path -> (the file's identity, its users)


def load(path: Path | None = None) -> dict[str, dict]:
    """The users, read again only when the file changed: every page run checks the user,
    and parsing the YAML each time cost a few ms of every rerun. The file is replaced by
    rename (a new inode), so a change is always seen; permissions are checked each time."""
    path = path or users_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    check_permissions(path)
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    cached = _parsed.get(path)
    if cached is None or cached[0] != stamp:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cached = _parsed[path] = (stamp, data.get("users", {}))
    return copy.deepcopy(cached[1])  # callers change what they get before saving it


def save(users: dict[str, dict], path: Path | None = None) -> None:
    path = path or users_path()
    _write_private(path, yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=True))


def get(username: str, path: Path | None = None) -> User | None:
    rec = load(path).get(username)
    if rec is None or rec.get("role") not in ROLES:
        return None
    return User(username, rec.get("name") or username, rec["role"], rec.get("district"))


def check_password_rules(password: str) -> None:
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UsersError(f"パスワードが長すぎます。{MAX_PASSWORD_BYTES}バイト（半角{MAX_PASSWORD_BYTES}文字、"
                         f"全角なら24文字）以内にしてください。")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(f"パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。")


def add(username: str, password: str, role: str, name: str | None = None,
        district: str | None = None, path: Path | None = None) -> User:
    if role not in ROLES:
        raise UsersError(f"役割「{role}」はありません。{', '.join(ROLES)} のどれかです。")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum() \
            or not username.isascii():
        raise UsersError("ユーザー名は半角英数字と - _ . で入力してください。")
    users = load(path)
    if username in users:
        raise UsersError(f"ユーザー「{username}」はすでにあります。")
    check_password_rules(password)
    users[username] = {"name": name or username, "role": role, "password": Hasher.hash(password)}
    if district:
        users[username]["district"] = district
    save(users, path)
    return User(username, name or username, role, district)


def set_password(username: str, password: str, path: Path | None = None) -> None:
    users = load(path)
    if username not in users:
        raise UsersError(f"ユーザー「{username}」はいません。")
    check_password_rules(password)
    users[username]["password"] = Hasher.hash(password)
    save(users, path)


def set_role(username: str, role: str, path: Path | None = None) -> None:
    users = load(path)
    if username not in users:
        raise UsersError(f"ユーザー「{username}」はいません。")
    if role not in ROLES:
        raise UsersError(f"役割「{role}」はありません。{', '.join(ROLES)} のどれかです。")
    if users[username]["role"] == "admin" and role != "admin" and _admins(users) == 1:
        raise UsersError("最後の管理者の役割は変えられません。先に別の管理者を追加してください。")
    users[username]["role"] = role
    save(users, path)


def remove(username: str, path: Path | None = None) -> None:
    users = load(path)
    if username not in users:
        raise UsersError(f"ユーザー「{username}」はいません。")
    if users[username]["role"] == "admin" and _admins(users) == 1:
        raise UsersError("最後の管理者は削除できません。先に別の管理者を追加してください。")
    del users[username]
    save(users, path)


def _admins(users: dict) -> int:
    return sum(1 for u in users.values() if u.get("role") == "admin")


def verify(username: str, password: str, path: Path | None = None) -> User | None:
    """The user if the password is right. Unknown names cost the same bcrypt check, so the
    time taken does not tell whether a user exists."""
    rec = load(path).get(username)
    hashed = rec["password"] if rec else _DUMMY_HASH
    try:
        ok = Hasher.check_pw(password, hashed)
    except ValueError:
        ok = False
    return get(username, path) if ok and rec else None


_DUMMY_HASH = Hasher.hash(secrets.token_urlsafe(16))


def random_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_first_admin(path: Path | None = None) -> str | None:
    """On a first start with no users file, create `admin` with a random password and return
    it (to be shown once on the console). Never a default password."""
    path = path or users_path()
    if path.exists():
        return None
    password = random_password()
    add("admin", password, "admin", name="管理者", path=path)
    return password


def cookie_key(path: Path | None = None) -> str:
    """The signing key of the sign-in cookie: generated once, owner-only, never in git."""
    path = path or cookie_key_path()
    if not path.exists():
        _write_private(path, secrets.token_hex(32))
    check_permissions(path)
    return path.read_text(encoding="utf-8").strip()
