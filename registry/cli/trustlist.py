"""`registry trustlist ...`: the publishing authority's tools for the alliance trust list
(docs/trust.md): a publisher key, the list's edits, its signature, and the verifier's check.

A thin shell over registry.trustlist (the format and the rules) and registry.service.trust
(the verifier's acceptance, with the versions seen before kept in the data directory)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from registry import dataintegrity, keys
from registry.cli.common import (
    JsonOpt,
    console,
    new_passphrase_for,
    passphrase_for,
    print_json,
    say,
)
from registry.errors import InvalidInput, InvalidTrustList, TrustListRejected
from registry.service.trust import SEEN_FILE, SeenVersions, accept_trust_list, read_trust_list
from registry.settings import load_settings
from registry.trustlist import (
    RegistryEntry,
    TrustList,
    add_registry,
    caip10,
    iso,
    new_trust_list,
    parse_caip10,
    parse_time,
    parse_trust_list,
    sign_trust_list,
    withdraw_registry,
)

app = typer.Typer(
    help=(
        "The alliance trust list (docs/trust.md): which country registries verifiers trust, "
        "signed by its publishing authority.\n\n"
        "Example: registry trustlist show list.json"
    ),
    no_args_is_help=True,
)

MAX_VALID_DAYS = 3660
"""Longest validity `sign` gives a list (ten years): a verifier trusts an unrenewed list that
long, and a larger number would overflow the calendar."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

ListArg = Annotated[
    Path, typer.Argument(help="The trust list file (JSON).", metavar="FILE", dir_okay=False)
]
RegistryIdOpt = Annotated[
    str,
    typer.Option(
        "--registry", help="The registry contract as a CAIP-10 id: eip155:<chainId>:<address>."
    ),
]
LanguageOpt = Annotated[
    str, typer.Option("--language", help="Language tag of the names given (lang of their value).")
]


# ------------------------------------------------------------------ helpers


def _moment(text: str | None, *, field: str) -> datetime:
    """Now (no value), an ISO 8601 date-time with a time zone, or a bare date (midnight UTC)."""
    if text is None:
        return datetime.now(UTC)
    given = f"{text}T00:00:00Z" if _DATE.fullmatch(text) else text
    try:
        return parse_time(given, field=field)
    except InvalidTrustList:
        raise InvalidInput(
            f"{text!r} is not an ISO 8601 date-time with a time zone (e.g. "
            "2026-11-30T09:00:00Z) nor a date (2026-11-30, read as midnight UTC)",
            field=field,
        ) from None


def _write(path: Path, document: Any, *, overwrite: bool) -> bytes:
    """Pretty-printed JSON, written atomically (a temporary file, then a rename; without
    `overwrite` a link, which fails when the file is there); the bytes written."""
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644  # a published list: anyone may read it
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)
    except FileExistsError:
        raise InvalidInput(f"{path}: a file is already there; pass --force to replace it") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return data


def _multikeys(values: list[str], *, field: str) -> list[str]:
    """The Ed25519 public Multikeys given, each checked (InvalidInput naming `field`)."""
    for value in values:
        try:
            dataintegrity.public_key_from_multikey(value)
        except InvalidInput as exc:
            raise InvalidInput(exc.problem, field=field) from None
    return values


def _history(entry: RegistryEntry) -> str:
    earlier = entry.history[:-1]
    if not earlier:
        return "-"
    return "\n".join(f"{period.name}\n{iso(period.since)}" for period in earlier)


def _entry_json(entry: RegistryEntry) -> dict[str, Any]:
    return {
        "country": entry.country,
        "name": entry.name,
        "registry": entry.registry,
        "status": entry.status.name,
        "since": iso(entry.status.since),
        "history": [{"status": p.name, "since": iso(p.since)} for p in entry.history],
        "publisher_keys": list(entry.publisher_keys),
    }


def _entries_table(trust: TrustList) -> Table:
    table = Table(title=f"{len(trust.entries)} registries")
    table.add_column("country")
    table.add_column("name")
    table.add_column("CAIP-10", overflow="fold")
    table.add_column("status since", overflow="fold")
    table.add_column("history", overflow="fold")
    for entry in sorted(trust.entries, key=lambda e: (e.country, e.name)):
        table.add_row(
            entry.country,
            entry.name,
            entry.registry,
            f"{entry.status.name}\n{iso(entry.status.since)}",
            _history(entry),
        )
    return table


def _signer(document: Any) -> str | None:
    proof = document.get("proof") if isinstance(document, dict) else None
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    return method if isinstance(method, str) else None


def _unsigned_note(path: Path, document: Any) -> str:
    sequence = document["LoTE"]["ListAndSchemeInformation"]["LoTESequenceNumber"]
    return f"{path}: unsigned, sequence {sequence}; sign it before publishing (`trustlist sign`)"


# ------------------------------------------------------------------ commands


@app.command("keygen")
def keygen(
    out: Annotated[
        Path,
        typer.Option("--out", help="The new key file (never overwritten).", dir_okay=False),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Create the publisher's Ed25519 key; print the Multikey verifiers pin.

    The key is encrypted at rest (a signing-key file, the passphrase from
    REGISTRY_KEYSTORE_PASSPHRASE or typed twice). Its public Multikey (z6Mk...) is what
    verifiers pin with --trust-list-key: hand it to them out of band. An existing file is
    never overwritten.

    Example: registry trustlist keygen --out publisher.key.json
    """
    if out.exists():
        raise InvalidInput(f"{out}: a file is already there; keygen never overwrites a key")
    passphrase = new_passphrase_for(out)
    key = keys.generate_signing_key()
    keys.save_signing_key(key, out, passphrase)
    multikey = dataintegrity.multikey_from_public_key(keys.public_key_bytes(key))
    say(f"publisher key written to {out} (encrypted; keep it offline and backed up)")
    say(f"public Multikey (verifiers pin it with --trust-list-key): {multikey}")
    if json_out:
        print_json({"multikey": multikey, "file": str(out)})


@app.command("create")
def create(
    path: ListArg,
    operator: Annotated[
        str, typer.Option("--operator", help="The scheme operator: who publishes the list.")
    ],
    territory: Annotated[
        str,
        typer.Option("--territory", help="Scheme territory, an ISO 3166-1 alpha-2 code (or EU)."),
    ],
    language: LanguageOpt = "en",
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file at FILE.")
    ] = False,
) -> None:
    """Write a new, empty, unsigned trust list (sequence number 1).

    Example: registry trustlist create list.json --operator "Alliance Secretariat" --territory EU
    """
    if not operator.strip():
        raise InvalidInput("must not be empty", field="--operator")
    if not re.fullmatch(r"[A-Z]{2}", territory):
        raise InvalidInput(
            f"{territory!r} is not a two-letter code such as EU", field="--territory"
        )
    _write(
        path,
        new_trust_list(operator=operator, territory=territory, language=language),
        overwrite=force,
    )
    say(f"{path}: new trust list of {operator} ({territory}), unsigned, sequence 1")


@app.command("add")
def add(
    path: ListArg,
    name: Annotated[str, typer.Option("--name", help="The registry's name (its authority).")],
    country: Annotated[
        str, typer.Option("--country", help="The country, an ISO 3166-1 alpha-2 code.")
    ],
    registry: RegistryIdOpt,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Trusted for anchors from this time: ISO 8601 with a time zone, or a date "
            "(midnight UTC); default now.",
        ),
    ] = None,
    publisher_key: Annotated[
        list[str] | None,
        typer.Option(
            "--publisher-key",
            help="A Multikey (z6Mk...) of the country's own publishing authority (repeatable).",
        ),
    ] = None,
    language: LanguageOpt = "en",
) -> None:
    """Add a country's registry, trusted for anchors from --since.

    A signed list becomes its next version, unsigned: sign it again before publishing.

    Example: registry trustlist add list.json --name Ruritania --country RU --registry eip155:1:0x..
    """
    document = read_trust_list(path)
    edited = add_registry(
        document,
        name=name,
        country=country,
        registry=registry,
        since=_moment(since, field="--since"),
        publisher_keys=_multikeys(publisher_key or [], field="--publisher-key"),
        language=language,
    )
    _write(path, edited, overwrite=True)
    say(f"added {name} ({country}), {caip10(*parse_caip10(registry))}")
    say(_unsigned_note(path, edited))


@app.command("withdraw")
def withdraw(
    path: ListArg,
    registry: RegistryIdOpt,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Withdrawn from this time: ISO 8601 with a time zone, or a date (midnight "
            "UTC); default now. Anchors made before stay trusted.",
        ),
    ] = None,
) -> None:
    """Withdraw a registry from --at on.

    Documents it anchored before --at stay valid, none anchored after. A signed list becomes
    its next version, unsigned: sign it again before publishing.

    Example: registry trustlist withdraw list.json --registry eip155:1:0x.. --at 2026-12-01
    """
    document = read_trust_list(path)
    moment = _moment(at, field="--at")
    edited = withdraw_registry(document, registry=registry, at=moment)
    _write(path, edited, overwrite=True)
    say(f"withdrew {registry} from {iso(moment)}")
    say(_unsigned_note(path, edited))


@app.command("sign")
def sign(
    path: ListArg,
    key: Annotated[
        Path,
        typer.Option(
            "--key", help="The publisher's key file (`trustlist keygen`).", dir_okay=False
        ),
    ],
    valid_days: Annotated[
        int,
        typer.Option(
            "--valid-days",
            help=f"Days until NextUpdate (1 to {MAX_VALID_DAYS}): verifiers refuse the list "
            "after it, so publish the next one before.",
        ),
    ] = 90,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the signed list here and leave FILE as it is (careful: signing the "
            "same unsigned FILE twice issues two lists under one sequence number, and a "
            "verifier that saw one refuses the other).",
            dir_okay=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign the list with the publisher's key, valid for --valid-days.

    The proof is W3C Data Integrity eddsa-jcs-2022, its verificationMethod the key's did:key;
    the list is issued now; a list signed before is re-signed as its next version. Prints the
    sequence number, the next update and the list's SHA-256, and how to anchor the file on
    your own registry: `registry issue` seals a *.json file as a record, so the command shown
    issues a copy under another extension (the same bytes, anchored as a file). The
    passphrase comes from REGISTRY_KEYSTORE_PASSPHRASE or is asked for.

    Example: registry trustlist sign list.json --key publisher.key.json --valid-days 90
    """
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(f"must be between 1 and {MAX_VALID_DAYS} days", field="--valid-days")
    document = read_trust_list(path)
    parse_trust_list(document)  # a malformed list is reported before the passphrase is asked
    signing_key = keys.load_signing_key(key, passphrase_for(key))
    signed = sign_trust_list(
        document, key=signing_key, now=datetime.now(UTC), valid_for=timedelta(days=valid_days)
    )
    target = out or path
    file_sha256 = hashlib.sha256(_write(target, signed, overwrite=True)).hexdigest()
    trust = parse_trust_list(signed)
    say(f"signed {target}: sequence {trust.sequence}, issued {iso(trust.issued)}")
    say(f"next update: {iso(trust.next_update)} (publish the next version before)")
    say(f"list SHA-256 (its RFC 8785 form, what verifiers remember): {trust.digest.hex()}")
    say(f"file SHA-256 (the bytes published and anchored): {file_sha256}")
    say(
        "publish the file as it is, then anchor it on your own registry (docs/trust.md):\n"
        f"  registry issue {target} --as-file --agency AGENCY --out receipts/"
    )
    if json_out:
        print_json(
            {
                "file": str(target),
                "sequence": trust.sequence,
                "issued": iso(trust.issued),
                "next_update": iso(trust.next_update),
                "list_sha256": trust.digest.hex(),
                "file_sha256": file_sha256,
            }
        )


@app.command("verify")
def verify(
    path: ListArg,
    trust_list_key: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-list-key",
            help="A pinned publisher key (Multikey z6Mk...) the list must be signed by "
            "(repeatable; setting trust_list_keys, env REGISTRY_TRUST_LIST_KEYS as JSON).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help=f"Where {SEEN_FILE} remembers the versions accepted (default .registry or "
            "REGISTRY_DATA_DIR).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a list by the verifier's rules, as `registry verify --trust-list` does.

    Signed by a pinned key, NextUpdate not passed, not issued in the future, sequence number
    never lower than one accepted before (nor the same with other content), no unknown
    critical extension. An accepted version is remembered in the data directory, so an older
    one is refused from then on. Exit code 0 accepted, 1 rejected, 2 malformed file or no
    pinned key.

    Example: registry trustlist verify list.json --trust-list-key z6MkhaXgBZDvotDkL5257faiztiGiC...
    """
    settings = load_settings(data_dir=data_dir, trust_list_keys=trust_list_key or None)
    pinned = _multikeys(settings.trust_list_keys, field="--trust-list-key")
    document = read_trust_list(path)
    try:
        trust = accept_trust_list(
            document,
            pinned=pinned,
            seen=SeenVersions(settings.data_dir / SEEN_FILE),
            where=f"trust list {path}",
        )
    except TrustListRejected as exc:
        # A verdict, not a usage error: exit 1 like any failed verification.
        say(f"REJECTED: {exc}")
        if json_out:
            print_json({"accepted": False, "reason": str(exc)})
        raise typer.Exit(1) from None
    say(
        f"OK: trust list {path}: sequence {trust.sequence}, operator {trust.operator} "
        f"({trust.territory}), issued {iso(trust.issued)}, next update {iso(trust.next_update)}"
    )
    console.print(_entries_table(trust))
    if json_out:
        print_json({"accepted": True, **_list_json(trust, document)})


@app.command("show")
def show(path: ListArg, json_out: JsonOpt = False) -> None:
    """Show a list's header and registries; the signature is NOT checked.

    The header: sequence, operator, territory, issue time, next update, signer. The
    registries: country, name, CAIP-10 id, current status and since when, earlier statuses.
    Nothing here is checked against the signature or the verifier's rules: use
    `registry trustlist verify` for that.

    Example: registry trustlist show list.json
    """
    document = read_trust_list(path)
    trust = parse_trust_list(document)
    signer = _signer(document)
    say(f"trust list {path} (signature not checked: use `registry trustlist verify`)")
    say(f"sequence:    {trust.sequence}")
    say(f"operator:    {trust.operator}")
    say(f"territory:   {trust.territory}")
    if signer is None:
        say("signed:      no (issue time and next update are set by `trustlist sign`)")
    else:
        say(f"issued:      {iso(trust.issued)}")
        say(f"next update: {iso(trust.next_update)}")
        say(f"signer:      {signer}")
    console.print(_entries_table(trust))
    if json_out:
        print_json(_list_json(trust, document))


def _list_json(trust: TrustList, document: Any) -> dict[str, Any]:
    signer = _signer(document)
    return {
        "sequence": trust.sequence,
        "operator": trust.operator,
        "territory": trust.territory,
        "issued": iso(trust.issued) if signer else None,
        "next_update": iso(trust.next_update) if signer else None,
        "verification_method": signer,
        "list_sha256": trust.digest.hex(),
        "entries": [_entry_json(entry) for entry in trust.entries],
    }


__all__ = ["app"]
