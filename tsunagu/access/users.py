"""The users file: who may sign in, with which role, home district and scope (the places
they act for: some municipalities, a prefecture, or everywhere when the record has none).

A YAML file outside git (default `.streamlit/users.yaml`, or $TSUNAGU_USERS_FILE) holding
bcrypt hashes only, written atomically with owner-only permissions. Every change is a
read-modify-write under an exclusive lock (`users.yaml.lock` beside it), so the command line
and several server processes never lose each other's changes. The cookie key sits beside
it, generated on first use, never committed.

Each user has a session generation (`session_gen`, random): a sign-in carries the one it
was issued with, and sign-out, a new password, a new role or scope, or removal replace it,
which ends every sign-in issued before — on every device, checked on every run.

A change made by an admin scoped to a prefecture (`by=` their scope) reaches only the users
whose scope lies within it, and gives only scopes within it; the command line acts as an
admin of everywhere.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import yaml

from tsunagu.config import PROJECT_ROOT
from tsunagu.contract.scope import EVERYWHERE, Scope
from tsunagu.store.files import write_atomic

ROLES = ("viewer", "manager", "editor", "admin")  # each includes the ones before it
ROLE_LABELS = {
    "viewer": "閲覧",
    "manager": "管理職（詳細表・ダウンロード）",
    "editor": "データ更新",
    "admin": "管理者",
}
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
    session_gen: str = field(default="", repr=False, compare=False)  # see the module's doc
    scope: Scope = EVERYWHERE

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def users_path() -> Path:
    env = os.environ.get("TSUNAGU_USERS_FILE")
    return Path(env) if env else PROJECT_ROOT / ".streamlit" / "users.yaml"


def cookie_key_path(users_file: Path | None = None) -> Path:
    """Beside the users file (this one, or the one in use)."""
    users_file = users_file or users_path()
    return users_file.with_name(users_file.stem + ".cookie_key")


def throttle_path() -> Path:
    """Failed sign-ins, shared by every server process that uses this users file."""
    return users_path().with_name(users_path().stem + ".throttle.json")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`'s lock file (beside it). flock belongs to the open file,
    so threads of one server exclude each other too; the kernel releases it if we die."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_private(path: Path, text: str) -> None:
    """Atomically, readable by the owner only (the file holds password hashes / a key)."""
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def check_permissions(path: Path) -> None:
    _check_mode(path, stat.S_IMODE(path.stat().st_mode))


def _check_mode(path: Path, mode: int) -> None:
    if mode & 0o077:
        raise UsersError(
            f"{path} を所有者以外も読めます（{oct(mode)}）。`chmod 600 {path}` を実行してください。"
        )


_parsed: dict[Path, tuple[bytes, dict]] = {}  # path -> (digest of the bytes, its users)


def _current(path: Path | None = None) -> dict[str, dict]:
    """The users as parsed, shared: read-only for callers. Every run checks the user, so the
    YAML is parsed again only when its bytes changed (a hash of a few kB, not a parse of a
    few ms). Bytes, not inode and mtime: two writes within one clock tick can reuse an inode
    and keep the size (a new session_gen), and a stale generation would let a cookie in."""
    path = path or users_path()
    try:
        with open(path, "rb") as f:
            mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
            data = f.read()
    except FileNotFoundError:
        return {}
    _check_mode(path, mode)
    digest = hashlib.blake2b(data, digest_size=16).digest()
    cached = _parsed.get(path)
    if cached is None or cached[0] != digest:
        parsed = yaml.safe_load(data.decode("utf-8")) or {}
        cached = _parsed[path] = (digest, parsed.get("users", {}))
    return cached[1]


def load(path: Path | None = None) -> dict[str, dict]:
    """The users, a copy the caller may change. To save a change, use `_change`."""
    return copy.deepcopy(_current(path))


def save(users: dict[str, dict], path: Path | None = None) -> None:
    """Write the whole file. Only under `locked` (see `_change`), or a change made meanwhile
    by another process is lost."""
    path = path or users_path()
    _write_private(path, yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=True))


@contextlib.contextmanager
def _change(path: Path | None = None) -> Iterator[dict[str, dict]]:
    """A locked read-modify-write: read the newest file under the lock, let the caller change
    the users, write them back (atomically, 0600) only if something changed. A UsersError
    raised inside leaves the file as it was."""
    path = path or users_path()
    with locked(path):
        before = load(path)
        after = copy.deepcopy(before)
        yield after
        if after != before:
            save(after, path)


def _new_gen() -> str:
    return secrets.token_hex(8)


def get(username: str, path: Path | None = None) -> User | None:
    return _user(username, _current(path).get(username))


def _user(username: str, rec: dict | None) -> User | None:
    if not isinstance(rec, dict) or rec.get("role") not in ROLES:
        return None
    return User(
        username,
        rec.get("name") or username,
        rec["role"],
        rec.get("district"),
        str(rec.get("session_gen") or ""),
        Scope.from_record(rec.get("scope")),
    )


def scope_of(rec: dict) -> Scope:
    return Scope.from_record(rec.get("scope"))


def manageable(by: Scope | None, path: Path | None = None) -> dict[str, dict]:
    """The users an admin of scope `by` sees and manages (a copy): those whose scope lies
    within theirs. None (the command line) or everywhere: all of them."""
    return {u: r for u, r in load(path).items() if by is None or by.contains(scope_of(r))}


def _within(users: dict, username: str, by: Scope | None) -> None:
    """Refuse a change to a user outside the acting admin's scope (checked under the lock,
    on the record as it is now)."""
    _exists(users, username)
    if by is not None and not by.contains(scope_of(users[username])):
        raise UsersError(
            f"ユーザー「{username}」は、あなたの担当範囲（{by.label}）の外にいるため変更できません。"
        )


def _may_give(scope: Scope, by: Scope | None) -> None:
    if by is not None and not by.contains(scope):
        raise UsersError(
            f"担当範囲「{scope.label}」は、あなたの担当範囲（{by.label}）の外です。"
            f"{by.label}の中の市町村か、{by.label}全体を選んでください。"
        )


def session_user(username: str, session_gen: str, path: Path | None = None) -> User | None:
    """The user if a sign-in issued with `session_gen` is still current: None once they
    signed out, got a new password, role or scope, or were removed (a user added again under the
    same name gets a new random generation, so an old cookie does not fit them either)."""
    user = get(username, path)
    if user is None or not user.session_gen or not isinstance(session_gen, str):
        return None
    return user if hmac.compare_digest(user.session_gen.encode(), session_gen.encode()) else None


def check_password_rules(password: str) -> None:
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UsersError(
            f"パスワードが長すぎます。{MAX_PASSWORD_BYTES}バイト（半角{MAX_PASSWORD_BYTES}文字、"
            f"全角なら24文字）以内にしてください。"
        )
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(f"パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。")


def _check_username(username: str) -> None:
    if (
        not username
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
        or not username.isascii()
    ):
        raise UsersError("ユーザー名は半角英数字と - _ . で入力してください。")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsersError(f"役割「{role}」はありません。{', '.join(ROLES)} のどれかです。")


def _exists(users: dict, username: str) -> None:
    if username not in users:
        raise UsersError(f"ユーザー「{username}」はいません。")


def add(
    username: str,
    password: str,
    role: str,
    name: str | None = None,
    district: str | None = None,
    path: Path | None = None,
    *,
    scope: Scope = EVERYWHERE,
    by: Scope | None = None,
) -> User:
    """A new user; `by`: the scope of the admin adding them (None: the command line)."""
    _check_role(role)
    _check_username(username)
    _may_give(scope, by)
    if username in _current(path):  # early, before the slow hash; checked again under the lock
        raise UsersError(f"ユーザー「{username}」はすでにあります。")
    check_password_rules(password)
    hashed = Hasher.hash(password)  # outside the lock: it takes a few hundred ms
    with _change(path) as users:
        _add(users, username, hashed, role, name, district, scope)
    return get(username, path) or User(username, name or username, role, district, scope=scope)


def _add(
    users: dict,
    username: str,
    hashed: str,
    role: str,
    name: str | None,
    district: str | None,
    scope: Scope = EVERYWHERE,
) -> None:
    if username in users:
        raise UsersError(f"ユーザー「{username}」はすでにあります。")
    users[username] = {"name": name or username, "role": role, "password": hashed, "session_gen": _new_gen()}
    if district:
        users[username]["district"] = district
    if not scope.everywhere:  # none = everywhere: files written before scopes read the same
        users[username]["scope"] = scope.to_record()


def set_password(username: str, password: str, path: Path | None = None, *, by: Scope | None = None) -> None:
    """A new password ends every sign-in made with the old one."""
    _within(_current(path), username, by)
    check_password_rules(password)
    hashed = Hasher.hash(password)
    with _change(path) as users:
        _within(users, username, by)
        users[username].update(password=hashed, session_gen=_new_gen())


def set_role(username: str, role: str, path: Path | None = None, *, by: Scope | None = None) -> bool:
    """A new role ends the user's sign-ins (their pages are registered at sign-in). False if
    they had that role already: nothing changed, nobody signed out."""
    _check_role(role)
    with _change(path) as users:
        _within(users, username, by)
        if users[username].get("role") == role:
            return False
        _keep_an_admin(users, username, "の役割は変えられません")
        users[username].update(role=role, session_gen=_new_gen())
    return True


def set_scope(username: str, scope: Scope, path: Path | None = None, *, by: Scope | None = None) -> bool:
    """A new scope ends the user's sign-ins, as a new role does (what they may see and upload
    changes). False if it was their scope already: nothing changed, nobody signed out."""
    _may_give(scope, by)
    with _change(path) as users:
        _within(users, username, by)
        if scope_of(users[username]) == scope:
            return False
        if not scope.everywhere:
            _keep_an_admin(users, username, "の担当範囲は変えられません")
        users[username]["session_gen"] = _new_gen()
        if scope.everywhere:
            users[username].pop("scope", None)
        else:
            users[username]["scope"] = scope.to_record()
    return True


def remove(username: str, path: Path | None = None, *, by: Scope | None = None) -> None:
    with _change(path) as users:
        _within(users, username, by)
        _keep_an_admin(users, username, "は削除できません")
        del users[username]


def sign_out_everywhere(username: str, path: Path | None = None, *, by: Scope | None = None) -> None:
    """End every sign-in of the user, on every device (a new session generation)."""
    with _change(path) as users:
        _within(users, username, by)
        users[username]["session_gen"] = _new_gen()


def start_session(username: str, path: Path | None = None) -> User | None:
    """The user with a session generation to sign in with: a record from before generations
    existed gets one here (once), so no sign-in is ever issued without one."""
    user = get(username, path)
    if user is None or user.session_gen:
        return user
    with _change(path) as users:
        if username in users and not users[username].get("session_gen"):
            users[username]["session_gen"] = _new_gen()
    return get(username, path)


def _admins(users: dict) -> int:
    return sum(1 for u in users.values() if u.get("role") == "admin")


def _keep_an_admin(users: dict, username: str, refused: str) -> None:
    """Someone must be left to manage every user: an admin of everywhere (admins scoped to a
    prefecture manage only theirs). Called before `username` stops being one."""
    rec = users[username]
    if rec.get("role") != "admin":
        return
    if _admins(users) == 1:
        raise UsersError(f"最後の管理者{refused}。先に別の管理者を追加してください。")
    everywhere = sum(1 for u in users.values() if u.get("role") == "admin" and scope_of(u).everywhere)
    if scope_of(rec).everywhere and everywhere == 1:
        raise UsersError(
            f"全域を担当する最後の管理者{refused}。先に全域を担当する管理者を追加してください"
            "（都道府県を担当する管理者は、その都道府県のユーザーしか管理できません）。"
        )


def verify(username: str, password: str, path: Path | None = None) -> User | None:
    """The user if the password is right. Unknown names cost the same bcrypt check, so the
    time taken does not tell whether a user exists."""
    rec = _current(path).get(username)
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
    hashed = Hasher.hash(password)
    with _change(path) as users:
        if path.exists():  # another process (make run's `users init`, a second server) was first
            return None
        _add(users, "admin", hashed, "admin", "管理者", None)
    return password


def cookie_key(path: Path | None = None) -> str:
    """The signing key of the sign-in cookie: generated once, owner-only, never in git."""
    path = path or cookie_key_path()
    if not path.exists():
        with locked(path):  # several processes starting together must end with one key
            if not path.exists():
                _write_private(path, secrets.token_hex(32))
    check_permissions(path)
    return path.read_text(encoding="utf-8").strip()
