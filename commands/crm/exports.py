"""Reading a CRM export into plain deal histories: our own CSV format, HubSpot's and Pipedrive's exports.

Nothing here touches the database. A file is read whole and either every row is good, or
`ImportRefused` lists every bad row's line number and what is wrong with it, so one run tells
the user everything to fix. Each deal comes back with the stages it entered, sorted by time:
that order is its path through the pipeline (a jump forward is a move, a jump back a move back).

HubSpot's and Pipedrive's plain date-times carry no offset; they are read as UTC. Our own
format refuses a date-time without an offset (it would be ambiguous); a bare date is midnight UTC.
"""

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from commands import text_rules
from commands.errors import CommandError
from commands.formats import clip, plural
from commands.pipeline.stages import Pipeline

FORMATS = ("ours", "hubspot", "pipedrive")
FORMAT_NAMES = {"ours": "CSV", "hubspot": "HubSpot export", "pipedrive": "Pipedrive export"}
LOST = "lost"
"""What a stage map maps a CRM's closed-lost stage to."""

MAX_NAME_LENGTH = text_rules.NAME_LIMIT
MAX_REASON_LENGTH = text_rules.REASON_LIMIT
MAX_CRM_ID_LENGTH = 64
MAX_VALUE_CENTS = 10**13

MEMBER_ID = re.compile(r"[UW][A-Z0-9]{5,20}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{5,20}")
SHOWN_LIMIT = 60
"""How much of a value a problem quotes."""
DATE_HINT = "use ISO 8601: 2026-03-04 or 2026-03-04T10:15:00+01:00"
_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d")
_AMOUNT = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<fraction>[0-9]+))?")
_ENTERED = re.compile(r"entered (?P<key>.+)")
_HUBSPOT_ENTERED = re.compile(r"date entered\s+[\"“”']?(?P<label>.+?)[\"“”']?", re.IGNORECASE)
_PIPELINE_SUFFIX = re.compile(r"\s*\([^()]*\)$")


class ImportRefused(CommandError):
    """The file cannot be imported as it is; `problems` holds one line per problem, each with its line number."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        count = plural(len(problems), "problem")
        super().__init__(f"{source}: refused, nothing was imported ({count}):\n" + "\n".join(problems))
        self.problems = tuple(problems)


class StageMapError(CommandError):
    """The stage map file is not valid: not YAML, unknown fields, or a label mapped to no stage of ours."""


@dataclass(frozen=True)
class ImportedDeal:
    line: int
    crm_id: str
    name: str
    company: str | None
    value_cents: int | None
    owner_id: str
    channel_id: str
    created_at: datetime
    lost_at: datetime | None
    lost_reason: str | None
    entries: tuple[tuple[str, datetime], ...]
    """(stage key, when the deal entered it), oldest first; at least one, the first at or after `created_at`."""


@dataclass(frozen=True)
class StageMap:
    """How a CRM's stage labels and owner names map onto our stage keys and Slack member ids."""

    name: str
    stages: Mapping[str, str]
    owners: Mapping[str, str] = field(default_factory=dict)
    default_owner: str | None = None
    channel: str | None = None

    def stage_for(self, label: str) -> str | None:
        """Our key (or `lost`) for their label; `Label (Pipeline)` also matches a map entry for `Label`."""
        wanted = _folded(label)
        if wanted in self.stages:
            return self.stages[wanted]
        without_pipeline = _PIPELINE_SUFFIX.sub("", wanted)
        return self.stages.get(without_pipeline) if without_pipeline else None

    def owner_for(self, name: str) -> str | None:
        return self.owners.get(_folded(name), self.default_owner) if name else self.default_owner


def load_stage_map(path: Path, *, stage_keys: Sequence[str]) -> StageMap:
    """Read a stage map file (raises FileNotFoundError if there is none, StageMapError if it is invalid)."""
    text = path.read_text(encoding="utf-8-sig")
    return parse_stage_map(text, name=str(path), stage_keys=stage_keys)


def parse_stage_map(text: str, *, name: str, stage_keys: Sequence[str]) -> StageMap:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise StageMapError(f"{name}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise StageMapError(f"{name}: expected a mapping with `stages:` (their label: our stage key), got {data!r}")
    problems = [
        f"unknown field '{key}' (the fields are: stages, owners, default_owner, channel)"
        for key in data
        if key not in ("stages", "owners", "default_owner", "channel")
    ]
    stages = _labels(data.get("stages"), "stages", problems, required=True)
    allowed = (*stage_keys, LOST)
    problems += [
        f"stages: '{label}' maps to '{key}', which is not one of our stages ({', '.join(allowed)})"
        for label, key in stages.items()
        if key not in allowed
    ]
    owners = _labels(data.get("owners"), "owners", problems, required=False)
    problems += [
        f"owners: '{owner}' maps to '{member}', which is not a Slack member id (like U0123ABCD)"
        for owner, member in owners.items()
        if not MEMBER_ID.fullmatch(member)
    ]
    default_owner = _optional_id(data.get("default_owner"), "default_owner", MEMBER_ID, "U0123ABCD", problems)
    channel = _optional_id(data.get("channel"), "channel", CHANNEL_ID, "C0123ABCD", problems)
    if problems:
        raise StageMapError(f"{name}: not a valid stage map:\n" + "\n".join(f"  {problem}" for problem in problems))
    return StageMap(
        name=name,
        stages={_folded(label): key for label, key in stages.items()},
        owners={_folded(owner): member for owner, member in owners.items()},
        default_owner=default_owner,
        channel=channel,
    )


def read_deals(
    path: Path,
    *,
    file_format: str,
    pipeline: Pipeline,
    now: datetime,
    stage_map: StageMap | None = None,
    default_channel: str | None = None,
) -> list[ImportedDeal]:
    """Read and check a whole export (raises FileNotFoundError, or ImportRefused listing every problem)."""
    source = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            return parse_rows(
                _numbered_rows(stream),
                source=source,
                file_format=file_format,
                pipeline=pipeline,
                now=now,
                stage_map=stage_map,
                default_channel=default_channel,
            )
    except UnicodeDecodeError:
        raise ImportRefused(source, ["the file is not UTF-8 text: export or save it as CSV (UTF-8)"]) from None
    except csv.Error as error:
        raise ImportRefused(source, [f"not a readable CSV file: {error}"]) from None


def parse_rows(
    rows: Iterable[tuple[int, list[str]]],
    *,
    source: str,
    file_format: str,
    pipeline: Pipeline,
    now: datetime,
    stage_map: StageMap | None = None,
    default_channel: str | None = None,
) -> list[ImportedDeal]:
    """Check numbered CSV rows (the first is the header) and turn them into deals, or refuse them all."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; the formats are {', '.join(FORMATS)}")
    if file_format != "ours" and stage_map is None:
        raise ValueError(f"the {file_format} format needs a stage map")
    numbered = iter(rows)
    header_row = next(numbered, None)
    if header_row is None:
        raise ImportRefused(source, ["the file is empty: it needs a header row and one row per deal"])
    header = [cell.strip() for cell in header_row[1]]
    reader: _Reader
    if file_format == "ours":
        reader = _OurReader(header, pipeline, default_channel)
    elif file_format == "hubspot":
        assert stage_map is not None
        reader = _HubSpotReader(header, pipeline, stage_map, default_channel or stage_map.channel)
    else:
        assert stage_map is not None
        reader = _PipedriveReader(header, pipeline, stage_map, default_channel or stage_map.channel)
    if reader.header_problems:
        raise ImportRefused(source, [f"line {header_row[0]} (header): {problem}" for problem in reader.header_problems])
    deals: list[ImportedDeal] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    columns = [_folded(name) for name in header]
    for line, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue
        row = _Row(line, columns, cells, now=now, naive_is_utc=file_format != "ours")
        crm_id = row.raw(reader.id_column)
        if crm_id in first_line_of:
            row.problem(f"'{reader.id_column}' {crm_id} is also on line {first_line_of[crm_id]}: one row per deal")
        elif crm_id:
            first_line_of[crm_id] = line
        deal = reader.read(row)
        problems += row.problems
        if deal is not None and not row.problems:
            deals.append(deal)
    if problems:
        raise ImportRefused(source, problems)
    return deals


def _numbered_rows(stream: Iterable[str]) -> Iterable[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(stream)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        yield line, cells


class _Row:
    """One data row: reads its cells by column name and collects what is wrong with them."""

    def __init__(self, line: int, columns: Sequence[str], cells: Sequence[str], *, now: datetime, naive_is_utc: bool):
        self.line = line
        self.problems: list[str] = []
        self._now = now
        self._naive_is_utc = naive_is_utc
        if len(cells) > len(columns):
            self.problem(f"has {len(cells)} cells but the header has {len(columns)} columns (a stray comma?)")
        self._cells = dict(zip(columns, (cell.strip() for cell in cells), strict=False))

    def problem(self, text: str) -> None:
        self.problems.append(f"line {self.line}: {text}")

    def raw(self, column: str) -> str:
        return self._cells.get(_folded(column), "")

    def text(self, column: str, *, limit: int, required: bool = False) -> str | None:
        """The cell as it will be stored: the same character rules as text typed in Slack."""
        value = self.raw(column)
        unstorable = text_rules.unstorable_character(value) if value else None
        if unstorable is not None:
            self.problem(f"'{column}' holds {text_rules.describe_character(unstorable)}, which cannot be stored")
            return None
        value = text_rules.clean_text(value) if value else value
        if not value or not text_rules.is_visible(value):
            if required:
                self.problem(f"'{column}' is empty")
            return None
        if len(value) > limit:
            self.problem(f"'{column}' is {len(value)} characters long; at most {limit} fit")
            return None
        return value

    def when(self, column: str, *, required: bool = False) -> datetime | None:
        value = self._cells.get(_folded(column), "")
        if not value:
            if required:
                self.problem(f"'{column}' is empty ({DATE_HINT})")
            return None
        at, trouble = _parse_when(value, naive_is_utc=self._naive_is_utc)
        if at is None:
            self.problem(f"'{column}' is '{clip(value, SHOWN_LIMIT)}', {trouble}")
            return None
        if at > self._now:
            self.problem(f"'{column}' is '{clip(value, SHOWN_LIMIT)}', in the future")
            return None
        return at

    def value_cents(self, column: str) -> int | None:
        value = self._cells.get(_folded(column), "")
        if not value:
            return None
        cents, trouble = _parse_amount(value)
        if cents is None:
            self.problem(f"'{column}' is '{clip(value, SHOWN_LIMIT)}', {trouble}")
        return cents

    def slack_id(self, column: str, pattern: re.Pattern[str], example: str) -> str | None:
        value = self._cells.get(_folded(column), "")
        if value and not pattern.fullmatch(value):
            self.problem(f"'{column}' is '{clip(value, SHOWN_LIMIT)}', not a Slack id like {example}")
            return None
        return value or None


class _Reader:
    """Turns one row of a format into an ImportedDeal (None when a problem stops it)."""

    id_column = "id"

    def __init__(self, header: Sequence[str], pipeline: Pipeline, default_channel: str | None) -> None:
        self.header_problems: list[str] = []
        self.stage_keys = pipeline.keys
        self.won_key = pipeline.won_stage().key
        self.default_channel = default_channel
        self._columns = {_folded(name) for name in header}
        duplicates = sorted({name for name in header if [_folded(n) for n in header].count(_folded(name)) > 1})
        if duplicates:
            self.header_problems.append(f"columns appear twice: {', '.join(duplicates)}")

    def has(self, column: str) -> bool:
        return _folded(column) in self._columns

    def require(self, *columns: str) -> None:
        missing = [column for column in columns if not self.has(column)]
        if missing:
            self.header_problems.append(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")

    def read(self, row: _Row) -> ImportedDeal | None:
        raise NotImplementedError

    def finish(
        self,
        row: _Row,
        *,
        crm_id: str | None,
        name: str | None,
        company: str | None,
        value_cents: int | None,
        owner_id: str | None,
        channel_id: str | None,
        created_at: datetime | None,
        created_column: str,
        lost_at: datetime | None,
        lost_column: str,
        lost_reason: str | None,
        entries: Sequence[tuple[str, datetime, str]],
    ) -> ImportedDeal | None:
        """The checks every format shares; `entries` are (stage key, when, the column it came from)."""
        channel = channel_id or self.default_channel
        ordered = sorted(entries, key=lambda entry: (entry[1], self.stage_keys.index(entry[0])))
        if created_at is not None:
            for _key, at, column in ordered:
                if at < created_at:
                    row.problem(f"'{column}' ({_iso(at)}) is before '{created_column}' ({_iso(created_at)})")
        if lost_at is not None and created_at is not None:
            last_column, last_at = (ordered[-1][2], ordered[-1][1]) if ordered else (created_column, created_at)
            if lost_at < last_at:
                row.problem(f"'{lost_column}' ({_iso(lost_at)}) is before '{last_column}' ({_iso(last_at)})")
        if row.problems or not (crm_id and name and owner_id and channel and created_at):
            return None
        path = tuple((key, at) for key, at, _ in ordered) or ((self.stage_keys[0], created_at),)
        return ImportedDeal(
            line=row.line,
            crm_id=crm_id,
            name=name,
            company=company,
            value_cents=value_cents,
            owner_id=owner_id,
            channel_id=channel,
            created_at=created_at,
            lost_at=lost_at,
            lost_reason=lost_reason if lost_at is not None else None,
            entries=path,
        )


class _OurReader(_Reader):
    COLUMNS = ("id", "name", "company", "value", "owner", "channel", "created", "lost", "lost_reason")
    REQUIRED = ("id", "name", "owner", "created")

    def __init__(self, header: Sequence[str], pipeline: Pipeline, default_channel: str | None) -> None:
        super().__init__(header, pipeline, default_channel)
        self.require(*self.REQUIRED)
        self.stage_columns: list[tuple[str, str]] = []
        unknown = []
        for name in header:
            entered = _ENTERED.fullmatch(name.strip().lower())
            if entered and entered["key"].strip() in self.stage_keys:
                self.stage_columns.append((entered["key"].strip(), name))
            elif entered:
                self.header_problems.append(
                    f"'{name}' is not a stage of the pipeline; the stage columns are "
                    + ", ".join(f"'entered {key}'" for key in self.stage_keys)
                )
            elif _folded(name) not in self.COLUMNS:
                unknown.append(name)
        if unknown:
            self.header_problems.append(
                f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(name) for name in unknown)}; "
                f"the columns are {', '.join(self.COLUMNS)} and 'entered <stage key>' for each stage"
            )
        if not self.has("channel") and not default_channel:
            self.header_problems.append("no channel: add a channel column or --channel C…")

    def read(self, row: _Row) -> ImportedDeal | None:
        lost_at = row.when("lost")
        lost_reason = row.text("lost_reason", limit=MAX_REASON_LENGTH)
        if lost_reason and not row.raw("lost"):
            row.problem("'lost_reason' is set but 'lost' is empty: give the date the deal was lost, or no reason")
        entries = []
        for key, column in self.stage_columns:
            at = row.when(column)
            if at is not None:
                entries.append((key, at, column))
        return self.finish(
            row,
            crm_id=row.text("id", limit=MAX_CRM_ID_LENGTH, required=True),
            name=row.text("name", limit=MAX_NAME_LENGTH, required=True),
            company=row.text("company", limit=MAX_NAME_LENGTH),
            value_cents=row.value_cents("value"),
            owner_id=_required_member(row, "owner"),
            channel_id=self._channel(row),
            created_at=row.when("created", required=True),
            created_column="created",
            lost_at=lost_at,
            lost_column="lost",
            lost_reason=lost_reason,
            entries=entries,
        )

    def _channel(self, row: _Row) -> str | None:
        if not row.raw("channel") and not self.default_channel:
            row.problem("no channel: add a channel column or --channel C…")
        return row.slack_id("channel", CHANNEL_ID, "C0123ABCD")


class _HubSpotReader(_Reader):
    def __init__(
        self, header: Sequence[str], pipeline: Pipeline, stage_map: StageMap, default_channel: str | None
    ) -> None:
        super().__init__(header, pipeline, default_channel)
        self.stage_map = stage_map
        self.id_column = "Record ID" if self.has("Record ID") else "Deal ID"
        self.require(self.id_column, "Deal Name", "Create Date", "Deal Stage")
        self.stage_columns = [
            (match["label"], name) for name in header if (match := _HUBSPOT_ENTERED.fullmatch(name.strip()))
        ]
        if not default_channel:
            self.header_problems.append(f"no channel: add `channel: C…` to {stage_map.name} or use --channel C…")

    def read(self, row: _Row) -> ImportedDeal | None:
        entries: list[tuple[str, datetime, str]] = []
        lost_dates: list[tuple[datetime, str]] = []
        for label, column in self.stage_columns:
            at = row.when(column)
            if at is None:
                continue
            key = _mapped_stage(row, self.stage_map, label, column)
            if key == LOST:
                lost_dates.append((at, column))
            elif key is not None:
                entries.append((key, at, column))
        created_at = row.when("Create Date", required=True)
        lost_at, lost_column = None, "Close Date"
        stage_label = row.text("Deal Stage", limit=MAX_NAME_LENGTH, required=True) or ""
        current = _mapped_stage(row, self.stage_map, stage_label, "Deal Stage") if stage_label else None
        if current == LOST:
            lost_at, lost_column = max(lost_dates) if lost_dates else (row.when("Close Date"), "Close Date")
            if not lost_dates and not row.raw("Close Date"):
                row.problem(f"'Deal Stage' is '{stage_label}' (lost) but it has no 'Date entered' nor 'Close Date'")
        elif current is not None and created_at is not None:
            entries = self._ending_at(row, current, stage_label, entries, created_at)
        return self.finish(
            row,
            crm_id=row.text(self.id_column, limit=MAX_CRM_ID_LENGTH, required=True),
            name=row.text("Deal Name", limit=MAX_NAME_LENGTH, required=True),
            company=row.text("Associated Company", limit=MAX_NAME_LENGTH),
            value_cents=row.value_cents("Amount"),
            owner_id=_mapped_owner(row, self.stage_map, "Deal owner"),
            channel_id=None,
            created_at=created_at,
            created_column="Create Date",
            lost_at=lost_at,
            lost_column=lost_column,
            lost_reason=row.text("Closed Lost Reason", limit=MAX_REASON_LENGTH),
            entries=entries,
        )

    def _ending_at(
        self,
        row: _Row,
        current: str,
        label: str,
        entries: list[tuple[str, datetime, str]],
        created_at: datetime,
    ) -> list[tuple[str, datetime, str]]:
        """The entries, checked to end at the deal's current stage (a deal without any starts there)."""
        if not entries:
            return [(current, created_at, "Create Date")]
        last = max(entries, key=lambda entry: (entry[1], self.stage_keys.index(entry[0])))
        if last[0] != current:
            row.problem(
                f"'Deal Stage' is '{label}' ({current}) but the stage it entered last is {last[0]} "
                f"('{last[2]}', {_iso(last[1])})"
            )
        return entries


class _PipedriveReader(_Reader):
    def __init__(
        self, header: Sequence[str], pipeline: Pipeline, stage_map: StageMap, default_channel: str | None
    ) -> None:
        super().__init__(header, pipeline, default_channel)
        self.stage_map = stage_map
        self.id_column = "Deal - ID"
        self.require("Deal - ID", "Deal - Title", "Deal - Stage", "Deal - Status", "Deal - Deal created")
        if not default_channel:
            self.header_problems.append(f"no channel: add `channel: C…` to {stage_map.name} or use --channel C…")

    def read(self, row: _Row) -> ImportedDeal | None:
        created_at = row.when("Deal - Deal created", required=True)
        changed_at = row.when("Deal - Last stage change")
        status = (row.text("Deal - Status", limit=20, required=True) or "").lower()
        if status and status not in ("open", "won", "lost"):
            row.problem(f"'Deal - Status' is '{clip(status, SHOWN_LIMIT)}', not open, won or lost")
        label = row.text("Deal - Stage", limit=MAX_NAME_LENGTH, required=True) or ""
        stage = _mapped_stage(row, self.stage_map, label, "Deal - Stage") if label else None
        if stage == LOST:
            row.problem(f"'Deal - Stage' is '{label}', mapped to lost: map it to a stage (lost is in 'Deal - Status')")
            stage = None
        won_at = row.when("Deal - Won time", required=status == "won")
        lost_at = row.when("Deal - Lost time", required=status == "lost") if status == "lost" else None
        entries: list[tuple[str, datetime, str]] = []
        if stage is not None and created_at is not None:
            entries = self._path(stage, created_at, changed_at, won_at if status == "won" else None)
        return self.finish(
            row,
            crm_id=row.text("Deal - ID", limit=MAX_CRM_ID_LENGTH, required=True),
            name=row.text("Deal - Title", limit=MAX_NAME_LENGTH, required=True),
            company=row.text("Deal - Organization", limit=MAX_NAME_LENGTH),
            value_cents=row.value_cents("Deal - Value"),
            owner_id=_mapped_owner(row, self.stage_map, "Deal - Owner"),
            channel_id=None,
            created_at=created_at,
            created_column="Deal - Deal created",
            lost_at=lost_at,
            lost_column="Deal - Lost time",
            lost_reason=row.text("Deal - Lost reason", limit=MAX_REASON_LENGTH) if status == "lost" else None,
            entries=entries,
        )

    def _path(
        self, stage: str, created_at: datetime, changed_at: datetime | None, won_at: datetime | None
    ) -> list[tuple[str, datetime, str]]:
        """Pipedrive keeps no per-stage dates: created at the first stage, moved to the current one at the
        last stage change (skipping what lies between), and, if won, on to our won stage at the won time."""
        first = self.stage_keys[0]
        if stage == first or changed_at is None:
            entries = [(stage, created_at, "Deal - Deal created")]
        else:
            entries = [(first, created_at, "Deal - Deal created")]
            if won_at is None or changed_at <= won_at:
                entries.append((stage, changed_at, "Deal - Last stage change"))
        won_key = self.won_key
        if won_at is not None and self.stage_keys.index(won_key) > self.stage_keys.index(entries[-1][0]):
            entries.append((won_key, won_at, "Deal - Won time"))
        return entries


def _mapped_stage(row: _Row, stage_map: StageMap, label: str, column: str) -> str | None:
    key = stage_map.stage_for(label)
    if key is None:
        row.problem(
            f"'{column}': the stage '{clip(label, SHOWN_LIMIT)}' is not in {stage_map.name}: add it under `stages:`"
        )
    return key


def _mapped_owner(row: _Row, stage_map: StageMap, column: str) -> str | None:
    name = row.text(column, limit=MAX_NAME_LENGTH) or ""
    owner = stage_map.owner_for(name)
    if owner is None:
        who = f"the owner '{clip(name, SHOWN_LIMIT)}' is not" if name else "the owner is empty and no default_owner is"
        row.problem(f"'{column}': {who} in {stage_map.name}: add it under `owners:` or set `default_owner:`")
    return owner


def _required_member(row: _Row, column: str) -> str | None:
    member = row.slack_id(column, MEMBER_ID, "U0123ABCD")
    if not row.raw(column):
        row.problem(f"'{column}' is empty: give the owner's Slack member id, like U0123ABCD")
    return member


def _parse_when(text: str, *, naive_is_utc: bool) -> tuple[datetime | None, str]:
    """A moment from ISO 8601 text, in UTC, or None and why not."""
    not_a_date = f"not a date ({DATE_HINT})"
    if _BARE_DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None, not_a_date
        return datetime(day.year, day.month, day.day, tzinfo=UTC), ""
    if not _DATE_START.match(text):
        return None, not_a_date
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None, not_a_date
    if at.tzinfo is None:
        if not naive_is_utc:
            return None, f"a date-time without a UTC offset, which is ambiguous (add one: {_iso_example(at)})"
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC), ""


def _parse_amount(text: str) -> tuple[int | None, str]:
    if text.startswith(("-", "−")):
        return None, "a negative value: a deal is worth 0 or more"
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None, "not an amount (a plain number like 12000, 12,000 or 12000.50)"
    if len(match["fraction"] or "") > 2:
        return None, "an amount with more than 2 decimals"
    cents = int(Decimal(f"{match['whole'].replace(',', '')}.{match['fraction'] or '0'}") * 100)
    if cents > MAX_VALUE_CENTS:
        return None, f"too large (at most {MAX_VALUE_CENTS // 100:,})"
    return cents, ""


def _labels(raw: Any, field_name: str, problems: list[str], *, required: bool) -> dict[str, str]:
    if raw is None:
        if required:
            problems.append(f"'{field_name}' is missing: map each of their labels to one of our keys")
        return {}
    if not isinstance(raw, dict):
        problems.append(f"'{field_name}' must be a mapping ('their label': our value), not {raw!r}")
        return {}
    labels: dict[str, str] = {}
    seen: dict[str, str] = {}
    for label, value in raw.items():
        text, target = str(label).strip(), "" if value is None else str(value).strip()
        if not text or not target:
            problems.append(f"{field_name}: '{text}' needs a value")
        elif _folded(text) in seen:
            problems.append(f"{field_name}: '{text}' is listed twice (also as '{seen[_folded(text)]}')")
        else:
            labels[text] = target
            seen[_folded(text)] = text
    return labels


def _optional_id(raw: Any, field_name: str, pattern: re.Pattern[str], example: str, problems: list[str]) -> str | None:
    if raw is None:
        return None
    if not pattern.fullmatch(str(raw).strip()):
        problems.append(f"{field_name}: '{raw}' is not a Slack id like {example}")
        return None
    return str(raw).strip()


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%d") if (at.hour, at.minute, at.second) == (0, 0, 0) else at.isoformat()


def _iso_example(at: datetime) -> str:
    return f"{at.replace(microsecond=0).isoformat()}+00:00"
