"""The public guide's settings, kept with the data (so backups, replicas and every server
process have them) and changed only by an admin, each change written to the audit log.

    <data dir>/_settings/public_guide.json

- `enabled`: the public page (通いの場ガイド) shows places; off, it says kindly that the guide
  is not published, and nothing else. On unless an admin switched it off: only places whose
  organisers agreed (公開 = はい) ever appear in it.
- `guidebook`: the public page offers this month's guidebook PDF to download.
- `address`: the public page's address as residents reach it (the guidebook's QR code); blank
  = the address the browser that makes the guidebook is using.
- `offices`: per municipality, how residents reach its 社協 (printed in the guidebook and shown
  on the public page), e.g. 「倉敷市社会福祉協議会 地域福祉課 086-000-0000（平日 8:30～17:15）」.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tsunagu.store.files import write_atomic
from tsunagu.store.versions import Municipality, Store, muni_key

FOLDER = "_settings"  # outside every dataset folder: no Parquet glob sees it
FILE = "public_guide.json"
MAX_TEXT = 300  # an address or an office line; more is not a setting but a mistake


@dataclass(frozen=True)
class PublicGuide:
    enabled: bool = True
    guidebook: bool = True
    address: str = ""
    offices: dict[str, str] = field(default_factory=dict)  # muni_key -> text

    def office(self, municipality: Municipality) -> str:
        return self.offices.get(muni_key(*municipality), "")


def _path(store: Store) -> Path:
    return store.root / FOLDER / FILE


def load(store: Store) -> PublicGuide:
    """The saved settings; the defaults when none are saved or the file cannot be read (a
    damaged file must not take the page down: it is rewritten by the next save)."""
    try:
        data = json.loads(_path(store).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return PublicGuide()
    if not isinstance(data, dict):
        return PublicGuide()
    offices = data.get("offices")
    return PublicGuide(
        enabled=data.get("enabled") is not False,
        guidebook=data.get("guidebook") is not False,
        address=str(data.get("address") or "")[:MAX_TEXT],
        offices={
            str(k): str(v)[:MAX_TEXT] for k, v in (offices.items() if isinstance(offices, dict) else []) if v
        },
    )


class SettingsError(ValueError):
    """A setting that cannot be saved, said in Japanese."""


def check_address(address: str) -> str:
    address = address.strip()
    if address and not address.startswith(("https://", "http://")):
        raise SettingsError(
            f"公開ページのアドレス「{address}」は https:// か http:// で始めてください"
            "（例: https://tsunagu.example.jp/guide）。"
        )
    if len(address) > MAX_TEXT or any(c.isspace() for c in address):
        raise SettingsError("公開ページのアドレスに空白や改行は入れられません（300文字まで）。")
    return address


def save(store: Store, new: PublicGuide, *, user: str) -> bool:
    """Keep the settings; audit the change. True if anything changed."""
    new = replace(
        new,
        address=check_address(new.address),
        offices={k: v.strip()[:MAX_TEXT] for k, v in new.offices.items() if v.strip()},
    )
    with store.lock():
        before = load(store)
        if new == before:
            return False
        write_atomic(
            _path(store),
            json.dumps(asdict(new), ensure_ascii=False, indent=1).encode("utf-8"),
            tmp_dir=store.staging,
        )
        store.audit(
            {
                "action": "public_guide",
                "outcome": "saved",
                "user": user,
                "before": asdict(before),
                "after": asdict(new),
            }
        )
        return True
