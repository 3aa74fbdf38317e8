"""Open data (issue 15): the registry's activity month by month and agency by agency, folded from
its event log alone, written as CSV (RFC 4180) and JSON, and described by a DCAT-AP 3.0.1
catalog (JSON-LD and Turtle).

Pure: events come in (anything with the shape of `registry.chain.events.RegistryEvent`), rows
and documents go out. The fold keeps counters per (month, agency) and the size of every batch
(for medians), never the events themselves, so an export streams however long the log is.
The writers take an open text stream. Nothing here reads a node, a database or the clock: the
same log gives the same bytes, so anyone can reproduce a published file from a node.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import statistics
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import IO, Any, Protocol

from registry.errors import InvalidInput
from registry.types import Address, checksum_address
from registry.vocabulary import AgencyStatus, Reason

__all__ = [
    "COLUMNS",
    "FILES",
    "ActivityFold",
    "ActivityRow",
    "CatalogMeta",
    "Column",
    "DatasetInfo",
    "Distribution",
    "LogEvent",
    "catalog_jsonld",
    "catalog_turtle",
    "month_of",
    "write_activity_csv",
    "write_activity_json",
]

# ---------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Column:
    """One column of activity.csv (and key of activity.json's rows)."""

    name: str
    type: str
    """`string`, `integer` or `number` (the JSON type; empty CSV cell = JSON null)."""
    description: str


@dataclass(frozen=True)
class ActivityRow:
    """One month of one agency (`scope` agency), or of the whole registry (`scope` registry)."""

    month: str
    scope: str
    agency: str
    agency_name: str
    agency_status: str
    agencies_registered: int
    agencies_active: int | None
    records_anchored: int
    batches_anchored: int
    median_records_per_batch: int | float | None
    largest_batch: int | None
    gas_used_anchoring: int
    revocations: int
    revoked_issued_in_error: int
    revoked_superseded: int
    revoked_fraud: int
    revoked_withdrawn: int
    revoked_court_order: int
    revocations_by_authority: int
    batch_revocations: int
    supersessions: int
    key_proposals: int
    key_rotations: int
    suspensions: int
    reinstatements: int
    compromise_marks: int
    account_moves: int

    def values(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]


COLUMNS: tuple[Column, ...] = (
    Column("month", "string", "The calendar month, YYYY-MM, in UTC, by the time of the blocks."),
    Column(
        "scope",
        "string",
        "`agency`: one agency's month; `registry`: the whole registry's month (the sums of "
        "its agencies' rows, and its own median and largest batch).",
    ),
    Column(
        "agency",
        "string",
        "The agency's identity: the EIP-55 address it was registered with (kept when it moves "
        "to a new transaction account). Empty on registry rows.",
    ),
    Column(
        "agency_name",
        "string",
        "The agency's name as registered on chain (AgencyRegistered). Empty on registry rows.",
    ),
    Column(
        "agency_status",
        "string",
        "The agency's status at the end of the month: active, suspended or compromised. Empty "
        "on registry rows.",
    ),
    Column("agencies_registered", "integer", "Agencies registered in the month."),
    Column(
        "agencies_active",
        "integer",
        "Registry rows: agencies active at the end of the month. Empty on agency rows.",
    ),
    Column(
        "records_anchored",
        "integer",
        "Records anchored in the month: the sum of the anchored batches' leaf counts.",
    ),
    Column("batches_anchored", "integer", "Batches anchored in the month (Anchored events)."),
    Column(
        "median_records_per_batch",
        "number",
        "The median leaf count of the month's batches; empty when no batch was anchored.",
    ),
    Column(
        "largest_batch",
        "integer",
        "The largest leaf count of the month's batches; empty when no batch was anchored.",
    ),
    Column(
        "gas_used_anchoring",
        "integer",
        "Gas used by the month's anchoring transactions (gasUsed of their receipts; the "
        "transactions are those of the Anchored events).",
    ),
    Column(
        "revocations",
        "integer",
        "Revocations in the month: the agency's own (Revoked) and the registry authority's "
        "(RevokedByAuthority), of single records and of whole batches.",
    ),
    *(
        Column(
            f"revoked_{reason.name.lower()}",
            "integer",
            f"Revocations with reason {reason.value}, {reason.text}.",
        )
        for reason in Reason
    ),
    Column(
        "revocations_by_authority",
        "integer",
        "Of the revocations, those made by the registry authority (a court order, fraud).",
    ),
    Column(
        "batch_revocations",
        "integer",
        "Of the revocations, those of a whole batch (the revoked hash is the batch's root).",
    ),
    Column(
        "supersessions",
        "integer",
        "Of the revocations, those naming a replacement record (the record was superseded).",
    ),
    Column(
        "key_proposals",
        "integer",
        "Signing keys proposed by the agency (SigningKeyProposed), awaiting the authority.",
    ),
    Column(
        "key_rotations",
        "integer",
        "Signing keys rotated: a new key confirmed by the authority (SigningKeyRotated).",
    ),
    Column("suspensions", "integer", "Suspensions of the agency by the authority."),
    Column("reinstatements", "integer", "Reinstatements of a suspended agency."),
    Column(
        "compromise_marks",
        "integer",
        "Compromise marks: the authority declared the agency's transaction key stolen since "
        "a time (its later anchors and revocations are void).",
    ),
    Column(
        "account_moves",
        "integer",
        "Moves of the agency to a new transaction account (AgencyMoved).",
    ),
)
"""The columns, in order: activity.csv's header, activity.json's `columns`."""

assert [c.name for c in COLUMNS] == [f.name for f in fields(ActivityRow)]

FILES = {
    "activity.csv": "text/csv; charset=utf-8",
    "activity.json": "application/json",
    "catalog.jsonld": "application/ld+json",
    "catalog.ttl": "text/turtle; charset=utf-8",
}
"""The four published files and their media types."""

BATCH_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2-10", 2, 10),
    ("11-100", 11, 100),
    ("101-1,000", 101, 1_000),
    ("1,001-10,000", 1_001, 10_000),
    ("10,001-100,000", 10_001, 100_000),
    ("100,001-1,000,000", 100_001, 1_000_000),
    ("over 1,000,000", 1_000_001, None),
)
"""Batch sizes (records per batch) as the histogram groups them: (label, min, max or None)."""


class LogEvent(Protocol):
    """What the fold reads of an event (registry.chain.events.RegistryEvent has it)."""

    @property
    def name(self) -> str: ...

    @property
    def args(self) -> Mapping[str, Any]: ...

    @property
    def timestamp(self) -> int: ...

    @property
    def tx_hash(self) -> bytes: ...


def month_of(timestamp: int) -> str:
    """YYYY-MM of a Unix time, in UTC."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m")


def _months(first: str, last: str) -> Iterator[str]:
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


@dataclass
class _Counts:
    """The counters of one (month, agency)."""

    registrations: int = 0
    records: int = 0
    sizes: list[int] = field(default_factory=list)
    gas: int = 0
    revocations: int = 0
    by_reason: dict[int, int] = field(default_factory=dict)
    by_authority: int = 0
    batch_revocations: int = 0
    supersessions: int = 0
    key_proposals: int = 0
    key_rotations: int = 0
    suspensions: int = 0
    reinstatements: int = 0
    compromise_marks: int = 0
    account_moves: int = 0
    status: AgencyStatus | None = None
    """The agency's status after the month's last status change (None: none that month)."""


@dataclass
class _Agency:
    name: str
    first_month: str


_STATUS_AFTER = {
    "AgencyRegistered": AgencyStatus.ACTIVE,
    "AgencySuspended": AgencyStatus.SUSPENDED,
    "AgencyReinstated": AgencyStatus.ACTIVE,
    "AgencyCompromised": AgencyStatus.COMPROMISED,
}


class ActivityFold:
    """The registry's activity, folded from its events in chain order (`add`), read as rows
    (`rows`). Memory grows with agencies x months and with the number of batches, never with
    the number of records or events."""

    def __init__(self) -> None:
        self._cells: dict[tuple[str, Address], _Counts] = {}
        self._agencies: dict[Address, _Agency] = {}
        self._status: dict[Address, AgencyStatus] = {}
        self._gas_tx = b""
        self.events = 0
        """Registry events folded so far."""
        self.first_time: int | None = None
        """Block time of the first event folded (the registry's deployment, from block 0)."""
        self.last_time: int | None = None

    def add(self, event: LogEvent, *, gas_used: int | None = None) -> None:
        """Fold one event; `gas_used` is the gas of an Anchored event's transaction (counted
        once per transaction however many anchors it holds)."""
        name, args, at = event.name, event.args, int(event.timestamp)
        self.events += 1
        self.first_time = at if self.first_time is None else min(self.first_time, at)
        self.last_time = at if self.last_time is None else max(self.last_time, at)
        if "agency" not in args:  # roles: the authority's accounts, not activity
            return
        agency = checksum_address(str(args["agency"]))
        month = month_of(at)
        if agency not in self._agencies:
            self._agencies[agency] = _Agency(name="", first_month=month)
        cell = self._cells.get((month, agency))
        if cell is None:
            cell = self._cells[(month, agency)] = _Counts()
        if name == "AgencyRegistered":
            self._agencies[agency].name = str(args["name"])
            cell.registrations += 1
        elif name == "Anchored":
            size = int(args["leafCount"])
            cell.records += size
            cell.sizes.append(size)
            if gas_used is not None and bytes(event.tx_hash) != self._gas_tx:
                cell.gas += int(gas_used)
                self._gas_tx = bytes(event.tx_hash)
        elif name in ("Revoked", "RevokedByAuthority"):
            reason = int(args["reason"])
            cell.revocations += 1
            cell.by_reason[reason] = cell.by_reason.get(reason, 0) + 1
            if bytes(args["hash"]) == bytes(args["root"]):
                cell.batch_revocations += 1
            if name == "RevokedByAuthority":
                cell.by_authority += 1
            elif any(bytes(args.get("replacement", b""))):
                cell.supersessions += 1
        elif name == "SigningKeyProposed":
            cell.key_proposals += 1
        elif name == "SigningKeyRotated":
            cell.key_rotations += 1
        elif name == "AgencySuspended":
            cell.suspensions += 1
        elif name == "AgencyReinstated":
            cell.reinstatements += 1
        elif name == "AgencyCompromised":
            cell.compromise_marks += 1
        elif name == "AgencyMoved":
            cell.account_moves += 1
            if self._status.get(agency) is AgencyStatus.COMPROMISED:  # a move ends it
                self._set_status(agency, cell, AgencyStatus.ACTIVE)
        if name in _STATUS_AFTER:
            self._set_status(agency, cell, _STATUS_AFTER[name])

    def _set_status(self, agency: Address, cell: _Counts, status: AgencyStatus) -> None:
        self._status[agency] = status
        cell.status = status

    @property
    def agencies(self) -> dict[Address, str]:
        """Every agency seen, with its registered name ("" if registered before the log read)."""
        return {address: a.name for address, a in sorted(self._agencies.items())}

    def end_month(self, until: int | None) -> str | None:
        """The last month the rows cover: that of `until` (the last block read), or of the last
        event when later (or when `until` is None)."""
        moments = [t for t in (until, self.last_time) if t is not None]
        return month_of(max(moments)) if moments else None

    def rows(self, *, until: int | None = None) -> Iterator[ActivityRow]:
        """Month by month from the first event to `until`'s month: the registry's row, then
        one row per agency registered by then (by address), zeros included."""
        if self.first_time is None:
            return
        last = self.end_month(until)
        assert last is not None
        status: dict[Address, AgencyStatus] = {}
        for month in _months(month_of(self.first_time), last):
            cells: list[_Counts] = []
            agency_rows: list[ActivityRow] = []
            for agency, info in sorted(self._agencies.items()):
                if info.first_month > month:
                    continue
                cell = self._cells.get((month, agency)) or _Counts()
                if cell.status is not None:
                    status[agency] = cell.status
                cells.append(cell)
                agency_rows.append(
                    _row(month, cell, agency=agency, info=info, status=status.get(agency))
                )
            active = sum(1 for s in status.values() if s is AgencyStatus.ACTIVE)
            yield _registry_row(month, cells, active=active)
            yield from agency_rows

    def batch_sizes(self) -> list[tuple[str, int]]:
        """How many batches fell in each size bucket (BATCH_BUCKETS), over the whole log."""
        counts = [0] * len(BATCH_BUCKETS)
        for cell in self._cells.values():
            for size in cell.sizes:
                counts[_bucket(size)] += 1
        return [(label, n) for (label, _, _), n in zip(BATCH_BUCKETS, counts, strict=True)]

    def reason_totals(self) -> list[tuple[Reason, int]]:
        """Revocations by reason over the whole log."""
        totals = dict.fromkeys(Reason, 0)
        for cell in self._cells.values():
            for code, n in cell.by_reason.items():
                if code in Reason._value2member_map_:
                    totals[Reason(code)] += n
        return list(totals.items())


def _bucket(size: int) -> int:
    for i, (_, low, high) in enumerate(BATCH_BUCKETS):
        if size >= low and (high is None or size <= high):
            return i
    return 0


def _median(sizes: list[int]) -> int | float | None:
    if not sizes:
        return None
    middle = statistics.median(sizes)
    return int(middle) if float(middle).is_integer() else float(middle)


def _row(
    month: str,
    cell: _Counts,
    *,
    agency: Address,
    info: _Agency,
    status: AgencyStatus | None,
) -> ActivityRow:
    return ActivityRow(
        month=month,
        scope="agency",
        agency=agency,
        agency_name=info.name,
        agency_status=status.label if status is not None else "",
        agencies_registered=cell.registrations,
        agencies_active=None,
        **_counters(cell.sizes, [cell]),
    )


def _counters(sizes: list[int], cells: list[_Counts]) -> dict[str, Any]:
    by_reason = {
        f"revoked_{reason.name.lower()}": sum(c.by_reason.get(reason.value, 0) for c in cells)
        for reason in Reason
    }
    return {
        "records_anchored": sum(c.records for c in cells),
        "batches_anchored": len(sizes),
        "median_records_per_batch": _median(sizes),
        "largest_batch": max(sizes) if sizes else None,
        "gas_used_anchoring": sum(c.gas for c in cells),
        "revocations": sum(c.revocations for c in cells),
        **by_reason,
        "revocations_by_authority": sum(c.by_authority for c in cells),
        "batch_revocations": sum(c.batch_revocations for c in cells),
        "supersessions": sum(c.supersessions for c in cells),
        "key_proposals": sum(c.key_proposals for c in cells),
        "key_rotations": sum(c.key_rotations for c in cells),
        "suspensions": sum(c.suspensions for c in cells),
        "reinstatements": sum(c.reinstatements for c in cells),
        "compromise_marks": sum(c.compromise_marks for c in cells),
        "account_moves": sum(c.account_moves for c in cells),
    }


def _registry_row(month: str, cells: list[_Counts], *, active: int) -> ActivityRow:
    sizes = [size for c in cells for size in c.sizes]
    return ActivityRow(
        month=month,
        scope="registry",
        agency="",
        agency_name="",
        agency_status="",
        agencies_registered=sum(c.registrations for c in cells),
        agencies_active=active,
        **_counters(sizes, cells),
    )


# ---------------------------------------------------------------- the files


@dataclass(frozen=True)
class DatasetInfo:
    """What the rows were folded from: which registry, which blocks, up to when."""

    chain_id: int
    registry: str
    from_block: int
    to_block: int
    to_time: int
    """Block time of `to_block` (Unix seconds)."""
    first_time: int
    """Block time of the first event read (`to_time` when there was none)."""
    events: int

    @property
    def caip10(self) -> str:
        return f"eip155:{self.chain_id}:{self.registry}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_activity_csv(rows: Iterable[ActivityRow], out: IO[str]) -> int:
    """activity.csv: a header and one line per row, RFC 4180 (CRLF line ends; a field with a
    comma, a quote or a line break quoted, quotes doubled). `out` must be opened with
    newline="" (the writer ends lines itself). Returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL, strict=True)
    writer.writerow([c.name for c in COLUMNS])
    count = 0
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
        count += 1
    return count


def write_activity_json(
    rows: Iterable[ActivityRow],
    out: IO[str],
    *,
    info: DatasetInfo,
    batch_sizes: list[tuple[str, int]],
    reasons: list[tuple[Reason, int]],
) -> int:
    """activity.json: the same rows as activity.csv (empty cells as null), the columns with
    their descriptions, where the data comes from, and the whole log's batch-size histogram
    and revocations by reason. Rows are written one by one. Returns the number of rows."""
    head = {
        "title": "Public Records Registry: monthly activity by agency",
        "registry": info.caip10,
        "chainId": info.chain_id,
        "address": info.registry,
        "fromBlock": info.from_block,
        "toBlock": info.to_block,
        "toBlockTime": _iso(info.to_time),
        "events": info.events,
        "source": "the registry contract's event log (eth_getLogs) and the receipts of the "
        "anchoring transactions it names; nothing from the operator's database",
        "columns": [asdict(c) for c in COLUMNS],
        "batchSizes": [{"records": label, "batches": n} for label, n in batch_sizes],
        "revocationsByReason": [
            {"reason": r.value, "text": r.text, "revocations": n} for r, n in reasons
        ],
    }
    text = json.dumps(head, ensure_ascii=False, indent=1)
    out.write(text[: text.rindex("}")].rstrip() + ',\n "rows": [')
    count = 0
    for row in rows:
        out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(asdict(row), ensure_ascii=False))
        count += 1
    out.write("\n ]\n}\n")
    return count


# ---------------------------------------------------------------- the DCAT-AP catalog

EU = "http://publications.europa.eu/resource/authority/"
LICENCE_CC_BY_4_0 = EU + "licence/CC_BY_4_0"
LICENCE_TYPE_ATTRIBUTION = "http://purl.org/adms/licencetype/Attribution"
FREQUENCY_MONTHLY = EU + "frequency/MONTHLY"
THEMES = EU + "data-theme"
THEME_GOVERNMENT = EU + "data-theme/GOVE"
LANGUAGE_ENGLISH = EU + "language/ENG"
AVAILABILITY_STABLE = EU + "planned-availability/STABLE"
EUROPE = EU + "continent/EUROPE"
PUBLISHER_NATIONAL_AUTHORITY = "http://purl.org/adms/publishertype/NationalAuthority"
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
IANA = "https://www.iana.org/assignments/media-types/"

PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

_URL = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/\-]*)?$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?$"
)
_COUNTRY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class CatalogMeta:
    """Who publishes the dataset, where, and how it is described: the catalog's inputs that do
    not come from the chain."""

    base_url: str
    """Where the four files are (will be) published: `{base_url}/activity.csv`, ..."""
    publisher: str = "Registry authority"
    """The publishing body's name (foaf:name of the catalog's and dataset's publisher)."""
    publisher_type: str = PUBLISHER_NATIONAL_AUTHORITY
    contact_email: str | None = None
    landing_page: str | None = None
    """A web page about the data (the statistics page); default: `{base_url}/`."""
    country: str | None = None
    """ISO 3166-1 alpha-3 code (EU country authority) for dct:spatial; default: Europe."""
    title: str = "Public Records Registry: monthly activity by agency"
    description: str = (
        "Monthly activity of each agency of a blockchain-anchored registry of public records: "
        "records and batches anchored, gas used by anchoring, median records per batch, "
        "revocations by reason, supersessions, signing-key rotations, suspensions and "
        "compromise marks, with a registry-wide series. Folded from the registry contract's "
        "event log alone: anyone can reproduce it from a node of the chain."
    )
    catalog_title: str = "Public Records Registry open data"
    catalog_description: str = (
        "Open data published by the Public Records Registry: the registry's activity as "
        "recorded on its chain."
    )
    licence: str = LICENCE_CC_BY_4_0

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        for name in ("base_url", "landing_page", "licence", "publisher_type"):
            value = getattr(self, name)
            if value is not None and not _URL.match(value):
                raise InvalidInput(f"{value!r}: not an absolute http(s) URL", field=name)
        if self.contact_email is not None and not _EMAIL.match(self.contact_email):
            raise InvalidInput(f"{self.contact_email!r}: not an e-mail address", field="contact")
        if self.country is not None and not _COUNTRY.match(self.country):
            raise InvalidInput(
                f"{self.country!r}: not an ISO 3166-1 alpha-3 code (EST, LVA, ...)",
                field="country",
            )
        for name in ("publisher", "title", "description", "catalog_title", "catalog_description"):
            if not str(getattr(self, name)).strip():
                raise InvalidInput("must not be empty", field=name)


@dataclass(frozen=True)
class Distribution:
    """One published file, for the catalog: its name, size and SHA-256."""

    name: str
    byte_size: int
    sha256: str


def _text(value: str) -> dict[str, str]:
    return {"@value": value, "@language": "en"}


def _typed(value: str, datatype: str) -> dict[str, str]:
    return {"@value": value, "@type": datatype}


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def catalog_jsonld(
    meta: CatalogMeta, info: DatasetInfo, distributions: list[Distribution]
) -> dict[str, Any]:
    """The DCAT-AP 3.0.1 catalog as a JSON-LD document (an inline @context; one @graph of
    nodes with IRIs, no blank nodes): a Catalog, the Dataset, a Distribution per file in
    `distributions` (activity.csv, activity.json), and the controlled-vocabulary concepts they
    point to, typed as the DCAT-AP shapes expect (dct:LicenseDocument, dct:Frequency, ...)."""
    base = meta.base_url
    landing = meta.landing_page or base + "/"
    spatial = EU + f"country/{meta.country}" if meta.country else EUROPE
    first, modified = _date(info.first_time), _date(info.to_time)
    kinds = {
        "activity.csv": ("CSV", "text/csv", "CSV: one row per month and agency (RFC 4180, UTF-8)"),
        "activity.json": ("JSON", "application/json", "JSON: the same rows, with column types"),
    }
    graph: list[dict[str, Any]] = [
        {
            "@id": base + "/#catalog",
            "@type": "dcat:Catalog",
            "dct:title": _text(meta.catalog_title),
            "dct:description": _text(meta.catalog_description),
            "dct:publisher": _ref(base + "/#publisher"),
            "dcat:dataset": _ref(base + "/#dataset"),
            "foaf:homepage": _ref(landing),
            "dct:language": _ref(LANGUAGE_ENGLISH),
            "dct:license": _ref(meta.licence),
            "dct:issued": _typed(first, "xsd:date"),
            "dct:modified": _typed(modified, "xsd:date"),
            "dct:spatial": _ref(spatial),
            "dcat:themeTaxonomy": _ref(THEMES),
        },
        {
            "@id": base + "/#dataset",
            "@type": "dcat:Dataset",
            "dct:title": _text(meta.title),
            "dct:description": _text(meta.description),
            "dct:identifier": f"{info.caip10}/activity",
            "dcat:keyword": [
                _text(k)
                for k in (
                    "public records",
                    "registry",
                    "blockchain",
                    "revocations",
                    "government agencies",
                    "statistics",
                )
            ],
            "dcat:theme": _ref(THEME_GOVERNMENT),
            "dct:temporal": _ref(base + "/#temporal"),
            "dct:accrualPeriodicity": _ref(FREQUENCY_MONTHLY),
            "dcat:contactPoint": _ref(base + "/#contact"),
            "dct:publisher": _ref(base + "/#publisher"),
            "dct:spatial": _ref(spatial),
            "dct:language": _ref(LANGUAGE_ENGLISH),
            "dct:issued": _typed(first, "xsd:date"),
            "dct:modified": _typed(modified, "xsd:date"),
            "dcat:landingPage": _ref(landing),
            "dct:provenance": _ref(base + "/#provenance"),
            "dcat:distribution": [_ref(f"{base}/#{d.name}") for d in distributions],
        },
        {
            "@id": base + "/#temporal",
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": _typed(first, "xsd:date"),
            "dcat:endDate": _typed(modified, "xsd:date"),
        },
        {
            "@id": base + "/#provenance",
            "@type": "dct:ProvenanceStatement",
            "rdfs:label": _text(
                f"Folded from the event log of registry {info.registry} on chain "
                f"{info.chain_id}, blocks {info.from_block} to {info.to_block}, and from the "
                "receipts of the anchoring transactions it names (`registry opendata export`)."
            ),
        },
        {
            "@id": base + "/#publisher",
            "@type": ["foaf:Agent", "foaf:Organization"],
            "foaf:name": _text(meta.publisher),
            "dct:type": _ref(meta.publisher_type),
        },
        {
            "@id": base + "/#contact",
            "@type": ["vcard:Kind", "vcard:Organization"],
            "vcard:fn": meta.publisher,
            "vcard:hasURL": _ref(landing),
            **(
                {"vcard:hasEmail": _ref("mailto:" + meta.contact_email)}
                if meta.contact_email
                else {}
            ),
        },
    ]
    for d in distributions:
        filetype, media, about = kinds[d.name]
        url = f"{base}/{d.name}"
        graph += [
            {
                "@id": f"{base}/#{d.name}",
                "@type": "dcat:Distribution",
                "dct:title": _text(d.name),
                "dct:description": _text(f"Monthly registry activity as {about}."),
                "dcat:accessURL": _ref(url),
                "dcat:downloadURL": _ref(url),
                "dcat:mediaType": _ref(IANA + media),
                "dct:format": _ref(EU + "file-type/" + filetype),
                "dct:license": _ref(meta.licence),
                "dcatap:availability": _ref(AVAILABILITY_STABLE),
                "dct:modified": _typed(modified, "xsd:date"),
                "dcat:byteSize": _typed(str(d.byte_size), "xsd:nonNegativeInteger"),
                "spdx:checksum": _ref(f"{base}/#{d.name}-sha256"),
            },
            {
                "@id": f"{base}/#{d.name}-sha256",
                "@type": "spdx:Checksum",
                "spdx:algorithm": _ref(SHA256),
                "spdx:checksumValue": _typed(d.sha256, "xsd:hexBinary"),
            },
            {"@id": IANA + media, "@type": "dct:MediaType"},
            {"@id": EU + "file-type/" + filetype, "@type": "dct:MediaTypeOrExtent"},
        ]
    graph += [
        {
            "@id": meta.licence,
            "@type": "dct:LicenseDocument",
            **(
                {"dct:type": _ref(LICENCE_TYPE_ATTRIBUTION)}
                if meta.licence == LICENCE_CC_BY_4_0
                else {}
            ),
        },
        {
            "@id": LICENCE_TYPE_ATTRIBUTION,
            "@type": "skos:Concept",
            "skos:prefLabel": _text("Attribution"),
        },
        {"@id": LANGUAGE_ENGLISH, "@type": "dct:LinguisticSystem"},
        {"@id": spatial, "@type": "dct:Location"},
        {"@id": FREQUENCY_MONTHLY, "@type": "dct:Frequency"},
        {"@id": landing, "@type": "foaf:Document"},
        {"@id": SHA256, "@type": "spdx:ChecksumAlgorithm"},
        {
            "@id": THEMES,
            "@type": "skos:ConceptScheme",
            "dct:title": _text("Data theme"),
        },
        {
            "@id": THEME_GOVERNMENT,
            "@type": "skos:Concept",
            "skos:prefLabel": _text("Government and public sector"),
            "skos:inScheme": _ref(THEMES),
        },
        {
            "@id": meta.publisher_type,
            "@type": "skos:Concept",
            "skos:prefLabel": _text(
                "National authority"
                if meta.publisher_type == PUBLISHER_NATIONAL_AUTHORITY
                else "Publisher type"
            ),
        },
        {
            "@id": AVAILABILITY_STABLE,
            "@type": "skos:Concept",
            "skos:prefLabel": _text("Stable"),
        },
    ]
    return {"@context": dict(PREFIXES), "@graph": graph}


def catalog_turtle(document: Mapping[str, Any]) -> str:
    """The same catalog as Turtle (rdflib parses the JSON-LD, with its inline context only,
    and writes Turtle: every literal escaped by the serializer)."""
    from rdflib import Graph  # rdflib's import is slow; only the catalog needs it

    graph = Graph()
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        graph.parse(data=json.dumps(document), format="json-ld")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, replace=True)
    return str(graph.serialize(format="turtle"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
