"""One upload, start to end: read, validate, store, audit.

The command line, the demo and the upload page all call `ingest()`, so a file is judged
the same way wherever it comes from.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field

import polars as pl

from tsunagu.contract.issues import Issue, RefusedError, os_reason
from tsunagu.contract.parse import nfkc, parse_month
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.scope import EVERYWHERE, Scope
from tsunagu.contract.wareki import month_label
from tsunagu.ingest import geo
from tsunagu.ingest.read import read_table
from tsunagu.ingest.validate import Validated, column_of, recogniser, validate
from tsunagu.store import mappings
from tsunagu.store.versions import ConflictError, Municipality, OldStoreError, Store, StoreError, covered


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
    municipalities: list[Municipality] = field(default_factory=list)
    # refused because someone else saved the month first (commit's `expected`): what is live now
    conflict: ConflictError | None = None

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
        geo_kind = self.dataset in DATASETS and DATASETS[self.dataset].kind == "geo"
        size = f"小学校区 {self.rows:,}件" if geo_kind else f"{self.rows:,}行"
        return f"登録しました: {label} {when} {size}（版 {self.version}{kept}{warn}）"


def normalise_month(text: str) -> str:
    try:
        return parse_month(text)
    except ValueError as e:
        raise RefusedError([Issue(None, "月", f"月の指定「{text}」は{e}")]) from None


def validate_upload(
    content: bytes,
    dataset: str,
    month: str,
    store: Store,
    scope: Scope = EVERYWHERE,
    municipality: str | Municipality | None = None,
    *,
    sheet: str | None = None,
    mapping: dict[str, str | None] | None = None,
    name_field: str | None = None,
) -> Validated | geo.Matched:
    """Validate without writing anything. Raises RefusedError with every problem.
    `sheet`: a workbook's sheet (default: the first visible one); `mapping`: names for the
    file's own headers (default: the one saved for the municipality and dataset);
    `name_field`: a boundaries file's property naming the school (default: detected)."""
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
    store.check_format()
    ds = DATASETS[dataset]
    try:
        # (an areas upload is checked against the others' codes: two may not share one)
        areas = store.current_areas()
    except StoreError as e:
        raise RefusedError([Issue(None, None, str(e))]) from None
    if ds.kind == "geo":  # a GeoJSON or zipped Shapefile: its own reader and checks
        chosen = (
            choose_municipality(store, areas, scope, municipality)
            if municipality and areas is not None
            else None
        )
        return geo.validate(content, areas, scope, chosen, name_field=name_field)
    if mapping is None:
        mapping = saved_mapping(store, dataset, areas, scope, municipality)
    raw = read_table(content, sheet, recogniser(ds, mapping))
    chosen = choose_municipality(store, areas, scope, municipality, empty=raw.data.height == 0)
    previous = previous_month = None
    damaged = []
    if dataset == "places":
        # last month of the municipalities this upload may cover (validate() keeps those its
        # rows name): it feeds only warnings about places that vanished
        known = covered(areas) if areas is not None else []
        candidates = [chosen] if chosen else scope.within(known)
        try:
            previous, previous_month = store.previous_rows("places", month, candidates)
        except StoreError as e:
            # a damaged copy would give false warnings: skip the comparison, say why, and let
            # the upload through
            when = month_label(e.month) if e.month else "前の月"
            damaged.append(
                Issue(
                    None,
                    None,
                    f"{e} このため、{when}との比較（なくなった通いの場の確認）はしていません。",
                    "damaged",
                )
            )
    try:
        result = validate(
            raw, ds, month, areas, previous, previous_month, scope=scope, municipality=chosen, mapping=mapping
        )
    except RefusedError as e:
        raise RefusedError(e.issues + damaged) from None
    result.warnings[:0] = damaged
    result.municipalities = [chosen] if result.frame.height == 0 and chosen else covered(result.frame)
    return result


def describe_boundaries(
    content: bytes, store: Store, scope: Scope = EVERYWHERE, municipality: str | Municipality | None = None
) -> geo.Described:
    """A boundaries file's kind and name properties, for the upload page's picker; RefusedError
    when it cannot be read."""
    try:
        areas = store.current_areas()
    except StoreError as e:
        raise RefusedError([Issue(None, None, str(e))]) from None
    chosen = None
    if municipality and areas is not None:
        with contextlib.suppress(RefusedError):
            chosen = choose_municipality(store, areas, scope, municipality)
    return geo.describe(content, areas, scope, chosen)


@dataclass
class FileColumn:
    header: str  # as the file spells it
    letter: str  # Excel's column letter
    key: str | None  # the contract column it means; "" = left out; None = unknown
    samples: list[str]  # its first values, for the page's preview
    by_mapping: bool  # known through a mapping (the council's own name), not the contract's


@dataclass
class FileColumns:
    columns: list[FileColumn]
    header_row: int
    sheet: str | None
    sheets: list[str]
    preview: pl.DataFrame  # the first rows, headed 「B列 サロン名」

    @property
    def unknown(self) -> list[FileColumn]:
        return [c for c in self.columns if c.key is None]


def file_columns(
    content: bytes, dataset: str, sheet: str | None = None, mapping: dict[str, str | None] | None = None
) -> FileColumns:
    """The file's header row and what each column means to the contract: for the upload
    page's column mapping. Raises RefusedError when the file cannot be read at all."""
    ds = DATASETS[dataset]
    raw = read_table(content, sheet, recogniser(ds, mapping))
    columns = []
    for i, head in enumerate(raw.header):
        key = column_of(head, ds, mapping)
        own = column_of(head, ds)
        data = raw.data[raw.data.columns[i]].drop_nulls().head(3).to_list()
        columns.append(FileColumn(head, raw.letters[i], key, data, key != own))
    preview = raw.data.head(5).drop("_row")
    preview.columns = [f"{c.letter}列 {c.header}" for c in columns]
    return FileColumns(columns, raw.header_row, raw.sheet, raw.sheets, preview)


def mapping_for(
    store: Store, dataset: str, scope: Scope = EVERYWHERE, municipality: str | Municipality | None = None
) -> dict[str, str | None]:
    """The saved column names an upload of this dataset would use (see saved_mapping)."""
    try:
        areas = store.current_areas()
    except StoreError:
        return {}
    return saved_mapping(store, dataset, areas, scope, municipality)


def saved_mapping(
    store: Store, dataset: str, areas, scope: Scope, municipality: str | Municipality | None
) -> dict[str, str | None]:
    """The column names saved for this upload: the chosen municipality's; with none chosen,
    those of the municipalities the uploader may write, where they agree."""
    try:
        chosen = choose_municipality(store, areas, scope, municipality)
    except RefusedError:
        chosen = None  # validate_upload says why, with the file's own problems
    if chosen is not None:
        return mappings.load(store, dataset, chosen)
    merged: dict[str, str | None] = {}
    clash: set[str] = set()
    for muni, mapping in mappings.saved(store, dataset).items():
        if not scope.everywhere and not scope.within([muni]):
            continue
        for k, v in mapping.items():
            if k in merged and merged[k] != v:
                clash.add(k)
            merged.setdefault(k, v)
    return {k: v for k, v in merged.items() if k not in clash}


def choose_municipality(
    store: Store, areas, scope: Scope, municipality: str | Municipality | None, empty: bool = False
) -> Municipality | None:
    """The municipality named on upload, as `areas` spells it (a name, 「東京都府中市」 or a
    pair); with none named, for a file with no rows, the only one the uploader's scope (or
    the store) has, if one."""
    known = covered(areas) if areas is not None else []
    if isinstance(municipality, tuple):
        return municipality
    if municipality:
        text = nfkc(municipality).replace("/", "").replace(" ", "")
        hits = [(p, m) for p, m in known if text in (nfkc(m), nfkc(p) + nfkc(m))]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            where = "、".join(p + m for p, m in hits)
            raise RefusedError(
                [
                    Issue(
                        None,
                        "市町村",
                        f"「{municipality}」は複数の都道府県にあります（{where}）。都道府県名も付けてください。",
                    )
                ]
            )
        raise RefusedError(
            [
                Issue(
                    None,
                    "市町村",
                    f"「{municipality}」は圏域マスタ（areas）にない市町村です。市町村名を確かめてください。",
                )
            ]
        )
    mine = scope.within(known)
    return mine[0] if empty and len(mine) == 1 else None


def ingest(
    content: bytes,
    dataset: str,
    month: str,
    store: Store,
    *,
    user: str = "cli",
    file_name: str = "",
    demo: bool = False,
    scope: Scope = EVERYWHERE,
    municipality: str | Municipality | None = None,
    sheet: str | None = None,
    mapping: dict[str, str | None] | None = None,
    expected: dict[str, str | None] | None = None,
    name_field: str | None = None,
) -> IngestResult:
    """Validate and store one upload for the municipalities it covers. `scope`: whose rows
    the uploader may write; `municipality`: the one chosen on upload (needed for a forums
    file with no rows when the store has several); `expected`: the month's versions an editor
    started from (Store.month_versions): if another save came first, refused, nothing written."""
    sha = hashlib.sha256(content).hexdigest()
    try:
        month = normalise_month(month)
        result = validate_upload(
            content,
            dataset,
            month,
            store,
            scope,
            municipality,
            sheet=sheet,
            mapping=mapping,
            name_field=name_field,
        )
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
            municipalities=result.municipalities,
            expected=expected,
        )
    except (RefusedError, StoreError, OldStoreError, OSError) as e:
        if isinstance(e, RefusedError):
            issues = e.issues
        elif isinstance(e, (StoreError, OldStoreError)):
            issues = [Issue(None, None, str(e))]
        else:  # the disk, not the file: say so, and that the old data is untouched
            issues = [
                Issue(
                    None,
                    None,
                    f"保存中に問題が起きたため登録を中止しました（{os_reason(e)}）。"
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
                    "municipality": municipality if isinstance(municipality, str) else None,
                    "user": user,
                    "file_name": file_name,
                    "sha256": sha,
                    "rows": None,
                    "errors": len(errors),
                    "first_errors": [str(i) for i in errors[:20]],
                }
            )
        conflict = e if isinstance(e, ConflictError) else None
        return IngestResult(False, dataset, month, errors=errors, warnings=warnings, conflict=conflict)
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
        replaced_version=", ".join(dict.fromkeys(p["version"] for p in replaced)) or None,
        warnings=result.warnings,
        municipalities=list(version.municipalities),
    )
