"""`registry redact SEALED.json --hide /path ...`: the holder's tool to hide fields of a sealed
record before showing it (docs/receipt.md section 4). A thin shell over registry.record.redact;
offline, no settings, no chain. The page at `/` does the same in the browser, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def redact(
    sealed: Annotated[
        Path,
        typer.Argument(
            help="The sealed record (`*.sealed.json`, as `registry issue` writes it).",
            metavar="SEALED.json",
            dir_okay=False,
        ),
    ],
    hide: Annotated[
        list[str],
        typer.Option(
            "--hide",
            help="JSON pointer of a field to hide (`/address`, `/child/born`, `/languages/0`); "
            "a pointer to an object or array hides everything in it. Repeat for more fields.",
            metavar="/PATH",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the redacted record to this file (default: print it). Never the input.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Hide fields of a sealed record: each hidden value is replaced by its salted hash (in
    `redacted`), so the record keeps its digest and still verifies VALID with its receipt,
    while the hidden values cannot be read or guessed from it. Checks first that the record
    matches its own digest. Offline: nothing is sent anywhere.

    Example: registry redact receipts/birth-1.sealed.json --hide /address --out birth-1.shown.json
    """
    import json  # imported here: `registry --help` stays fast

    from registry import record
    from registry.errors import InvalidInput, RedactionError

    try:
        text = sealed.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{sealed}: cannot read ({exc.strerror})") from exc
    document = record.parse_sealed_document(text)
    # A record that no longer matches its digest would not verify after hiding either.
    record.verify_document(document)
    try:
        hidden = record.redact(document, hide)
    except RedactionError as exc:
        shown = ", ".join(pointer for pointer, _ in record.disclosed_fields(document))
        raise RedactionError(f"{exc}; the fields shown are: {shown or 'none'}") from exc
    # The layout `registry issue` writes sealed records in (and the page downloads).
    result = json.dumps(record.to_json(hidden), indent=2) + "\n"
    if out is None:
        typer.echo(result, nl=False)
        return
    if out.exists() and out.resolve() == sealed.resolve():
        raise InvalidInput(f"--out {out}: that is the input; write the redacted copy elsewhere")
    try:
        out.write_text(result, encoding="ascii")
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot write ({exc.strerror})") from exc
    count = len(hidden.redacted) - len(document.redacted)
    typer.echo(f"{count} field{'s' if count != 1 else ''} hidden; written to {out}")
