"""`registry credential ...`: a sealed record as a W3C Verifiable Credential 2.0
(docs/credentials.md). A thin shell over registry.service.credentials; the credential is
verified like any document, with `registry verify CREDENTIAL.json`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import console, hex32, passphrase_for
from registry.errors import InvalidInput
from registry.service.credentials import credential_from_sealed, export_credential
from registry.service.operator import Operator
from registry.settings import load_settings

app = typer.Typer(
    help=(
        "W3C Verifiable Credentials 2.0 of sealed records (docs/credentials.md): the record's "
        "fields, its sealed document and receipt, signed eddsa-jcs-2022 by the agency.\n\n"
        "Example: registry credential export receipts/marriage.sealed.json --out cred.json"
    ),
    no_args_is_help=True,
)

_DIGEST = re.compile(r"0x[0-9a-fA-F]{64}")


@app.command("export")
def export(
    source: Annotated[
        str,
        typer.Argument(
            help="The record's digest (looked up in this registry's store), or a sealed "
            "document file with its receipt (as `registry issue` / `registry receipt` write it).",
            metavar="DIGEST|SEALED.json",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the credential to this file (default: print it).", dir_okay=False
        ),
    ] = None,
    agency: Annotated[
        str | None,
        typer.Option(
            "--agency",
            help="Agency name (or address) whose record it is: for a DIGEST held by several "
            "agencies (default the earliest anchored); for a SEALED.json it must be the "
            "receipt's agency.",
        ),
    ] = None,
) -> None:
    """Export an anchored structured record as a W3C Verifiable Credential 2.0, signed
    (eddsa-jcs-2022, did:key) by the agency key that signed its receipt. The credential's
    subject is the record's fields, and the sealed document with its receipt rides along, so
    a verifier recomputes the anchored digest; `registry verify CREDENTIAL.json` checks it in
    full. From a SEALED.json the agency is the receipt's, whose keys this data directory must
    hold (the passphrase: REGISTRY_KEYSTORE_PASSPHRASE, or asked). A redacted sealed document
    is refused: a credential carries the whole record.

    Example: registry credential export receipts/marriage.sealed.json --out marriage.vc.json
    """
    op = Operator.open(load_settings())
    passphrase = passphrase_for(op.keys_dir)
    path = Path(source)
    if _DIGEST.fullmatch(source) and not path.exists():
        credential = export_credential(
            op, hex32(source, "DIGEST"), passphrase=passphrase, agency=agency
        )
    else:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{source}: cannot read ({exc.strerror})") from exc
        credential = credential_from_sealed(op, raw, passphrase=passphrase, agency=agency)
    text = json.dumps(credential, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot write ({exc.strerror})") from exc
    console.print(f"credential {credential['id']} written to {out}", soft_wrap=True)
