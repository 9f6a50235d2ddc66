"""One upload, start to end: read, validate, store, audit.

The command line, the demo and the upload page all call `ingest()`, so a file is judged
the same way wherever it comes from.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field

from tsunagu.contract.issues import Issue, RefusedError
from tsunagu.contract.parse import parse_month
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.wareki import month_label
from tsunagu.ingest.read import read_table
from tsunagu.ingest.validate import Validated, validate
from tsunagu.store.versions import Store, StoreError


@dataclass
class IngestResult:
    ok: bool
    dataset: str
    month: str
    rows: int = 0
    version: str | None = None
    replaced_version: str | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def damaged(self) -> list[Issue]:
        """Damaged stored files a check had to skip (see validate_upload())."""
        return [i for i in self.warnings if i.level == "damaged"]

    @property
    def summary(self) -> str:
        label = DATASETS[self.dataset].label if self.dataset in DATASETS else self.dataset
        try:
            when = month_label(self.month) if self.month else ""
        except ValueError:  # the month given was refused: say it as it was typed
            when = self.month
        if not self.ok:
            return f"登録しませんでした: {label} {when} — エラー {len(self.errors)}件（データは変更していません）"
        kept = f"、前の版 {self.replaced_version} は保管済み" if self.replaced_version else ""
        n = len(self.warnings) - len(self.damaged)
        warn = (f"、注意 {n}件" if n else "") + (
            f"、壊れた保存データ {len(self.damaged)}件" if self.damaged else ""
        )
        return f"登録しました: {label} {when} {self.rows:,}行（版 {self.version}{kept}{warn}）"


def normalise_month(text: str) -> str:
    try:
        return parse_month(text)
    except ValueError as e:
        raise RefusedError([Issue(None, "月", f"月の指定「{text}」は{e}")]) from None


def validate_upload(content: bytes, dataset: str, month: str, store: Store) -> Validated:
    """Validate without writing anything. Raises RefusedError with every problem."""
    if dataset not in DATASETS:
        raise RefusedError(
            [
                Issue(
                    None,
                    None,
                    f"データの種類「{dataset}」はありません。次のどれかです: {', '.join(DATASETS)}",
                )
            ]
        )
    ds = DATASETS[dataset]
    raw = read_table(content)
    areas = None
    if ds.has_areas:
        latest = store.latest_month("areas")
        areas = store.read_month("areas", latest) if latest else None
    previous = previous_month = None
    damaged = []
    if dataset == "places":
        previous_month = store.latest_month("places", before=month)
        if previous_month:
            try:
                previous = store.read_month("places", previous_month)
            except StoreError as e:
                # last month only feeds warnings (places that vanished): a damaged copy would
                # give false ones, so skip the comparison, say why, and let the upload through
                damaged.append(
                    Issue(
                        None,
                        None,
                        f"{e} このため、{month_label(previous_month)}との比較"
                        "（なくなった通いの場の確認）はしていません。",
                        "damaged",
                    )
                )
                previous_month = None
    try:
        result = validate(raw, ds, month, areas, previous, previous_month)
    except RefusedError as e:
        raise RefusedError(e.issues + damaged) from None
    result.warnings[:0] = damaged
    return result


def ingest(
    content: bytes,
    dataset: str,
    month: str,
    store: Store,
    *,
    user: str = "cli",
    file_name: str = "",
    demo: bool = False,
) -> IngestResult:
    sha = hashlib.sha256(content).hexdigest()
    try:
        month = normalise_month(month)
        result = validate_upload(content, dataset, month, store)
        damaged = [i for i in result.warnings if i.level == "damaged"]
        extra = {"action": "demo" if demo else "ingest", "warnings": len(result.warnings) - len(damaged)}
        if damaged:  # a check was skipped: the audit log keeps that too
            extra["damaged_skipped"] = len(damaged)
        version, replaced = store.commit(
            dataset,
            month,
            result.frame,
            user=user,
            source_name=file_name,
            source_sha256=sha,
            demo=demo,
            extra=extra,
        )
    except (RefusedError, StoreError, OSError) as e:
        if isinstance(e, RefusedError):
            issues = e.issues
        elif isinstance(e, StoreError):
            issues = [Issue(None, None, str(e))]
        else:  # the disk, not the file: say so, and that the old data is untouched
            issues = [
                Issue(
                    None,
                    None,
                    f"保存中に問題が起きたため登録を中止しました（{e.strerror or e}）。"
                    "前のデータはそのまま残っています。管理者に連絡してください。",
                )
            ]
        errors = [i for i in issues if i.level == "error"]
        warnings = [i for i in issues if i.level != "error"]
        # a full disk may refuse the audit line too: the user still gets the refusal, and a
        # commit marker left in _pending/, if one was written, is recorded by the next writer
        with contextlib.suppress(OSError):
            store.audit(
                {
                    "action": "demo" if demo else "ingest",
                    "outcome": "failed" if isinstance(e, OSError) else "refused",
                    "dataset": dataset,
                    "month": month,
                    "user": user,
                    "file_name": file_name,
                    "sha256": sha,
                    "rows": None,
                    "errors": len(errors),
                    "first_errors": [str(i) for i in errors[:20]],
                }
            )
        return IngestResult(False, dataset, month, errors=errors, warnings=warnings)
    if version.unfinished:
        # the month is stored and shown; only the tidying after it failed (a full disk, say)
        note = "登録しました（この月は新しいデータで表示されます）。ただし、" + version.unfinished_note()
        result.warnings.append(Issue(None, None, note, "warning"))
    return IngestResult(
        True,
        dataset,
        month,
        rows=version.rows,
        version=version.version,
        replaced_version=replaced["version"] if replaced else None,
        warnings=result.warnings,
    )
