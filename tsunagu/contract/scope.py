"""Where a user may act: some municipalities, one prefecture, or everywhere.

Plain data, below every layer that needs it: the access layer keeps it with each user, the
ingest pipeline refuses rows outside it, the dashboard limits named detail to it.
A municipality is (prefecture, municipality) as `areas` spells them: names repeat across
prefectures (府中市), so a name alone never identifies one.
"""

from __future__ import annotations

from dataclasses import dataclass

Municipality = tuple[str, str]  # (prefecture, municipality)


@dataclass(frozen=True)
class Scope:
    municipalities: frozenset[Municipality] = frozenset()
    prefecture: str | None = None

    @property
    def everywhere(self) -> bool:
        return not self.municipalities and self.prefecture is None

    def covers(self, prefecture: str | None, municipality: str | None) -> bool:
        if self.everywhere:
            return True
        if self.prefecture is not None:
            return prefecture == self.prefecture
        return (prefecture, municipality) in self.municipalities

    def contains(self, other: Scope) -> bool:
        """Whether every place `other` covers is covered by this scope too (what an admin of
        this scope may give or manage): everywhere lies within everywhere only."""
        if self.everywhere:
            return True
        if other.everywhere:
            return False
        if self.prefecture is not None:
            if other.prefecture is not None:
                return other.prefecture == self.prefecture
            return all(p == self.prefecture for p, _ in other.municipalities)
        return other.prefecture is None and other.municipalities <= self.municipalities

    def within(self, known: list[Municipality]) -> list[Municipality]:
        """Which of the known municipalities this scope covers, in their order."""
        return [m for m in known if self.covers(*m)]

    @property
    def label(self) -> str:
        """In Japanese, for the users page and messages."""
        if self.everywhere:
            return "全域"
        if self.prefecture is not None:
            return self.prefecture
        return "、".join(m for _, m in sorted(self.municipalities))

    def to_record(self) -> dict:
        """As kept in the users file (empty = everywhere)."""
        if self.prefecture is not None:
            return {"prefecture": self.prefecture}
        if self.municipalities:
            return {"municipalities": [list(m) for m in sorted(self.municipalities)]}
        return {}

    @classmethod
    def from_record(cls, record: dict | None) -> Scope:
        record = record or {}
        if record.get("prefecture"):
            return cls(prefecture=str(record["prefecture"]))
        munis = frozenset((str(p), str(m)) for p, m in record.get("municipalities") or [])
        return cls(municipalities=munis)


EVERYWHERE = Scope()
