"""`registry keys ...`: list the key files of the data directory; re-encrypt them all under a
new passphrase."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry import keys
from registry.cli.common import (
    NEW_PASSPHRASE_ENV,
    JsonOpt,
    console,
    new_passphrase_for,
    passphrase_for,
    print_json,
)
from registry.errors import InvalidInput
from registry.settings import load_settings

app = typer.Typer(
    help="Key files of the data directory. Example: registry keys list",
    no_args_is_help=True,
)

DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default .registry or REGISTRY_DATA_DIR)."),
]


def _key_dir_files(data_dir: Path | None) -> tuple[Path, list[keys.KeyFileInfo]]:
    keys_dir = load_settings(data_dir=data_dir).keys_dir
    if not keys_dir.is_dir():
        raise InvalidInput(f"{keys_dir}: no keys directory (run `registry init` first)")
    files = sorted(p for p in keys_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    return keys_dir, [keys.describe_key_file(p) for p in files]


@app.command("list")
def list_keys(data_dir: DataDirOpt = None, json_out: JsonOpt = False) -> None:
    """List the key files of the data directory: the kind of secret each holds, its format and
    scrypt cost, its public value (address, public key, fingerprint). Nothing is decrypted.

    Example: registry keys list --data-dir .registry
    """
    keys_dir, infos = _key_dir_files(data_dir)
    console.print(f"key files in {keys_dir}: {len(infos)}")
    for info in infos:
        form = info.form if info.current else f"{info.form} (run `registry keys rekey`)"
        if info.kind is None:
            form = "not a key file"
        console.print(f"{info.path.name}  {info.kind or '-'}  {form}  {info.kdf}  {info.public}")
    if json_out:
        print_json(
            [
                {
                    "file": i.path.name,
                    "kind": i.kind,
                    "format": i.form,
                    "kdf": i.kdf,
                    "public": i.public,
                }
                for i in infos
            ]
        )


@app.command("rekey")
def rekey(data_dir: DataDirOpt = None) -> None:
    """Re-encrypt every key file of the data directory under a new passphrase, in place, and
    convert key files of older formats (PKCS#8 PEM signing keys, old salt secrets).

    The current passphrase comes from REGISTRY_KEYSTORE_PASSPHRASE or is asked for; the new
    one from REGISTRY_NEW_KEYSTORE_PASSPHRASE or is asked for, twice. Every file is checked
    against the current passphrase before any is written; each is replaced atomically. Stop
    `registry serve` first, restart it with the new passphrase.

    Example: registry keys rekey --data-dir .registry
    """
    keys_dir, infos = _key_dir_files(data_dir)
    key_files = [i for i in infos if i.kind is not None]
    if not key_files:
        raise InvalidInput(f"{keys_dir}: no key files to re-encrypt")
    old = passphrase_for(keys_dir, prompt=f"Current passphrase for {keys_dir}")
    new = new_passphrase_for(keys_dir, env=NEW_PASSPHRASE_ENV)
    console.print(f"re-encrypting {len(key_files)} key files (scrypt: about a second each)")
    for outcome in keys.rekey_files([i.path for i in key_files], old=old, new=new):
        name = outcome.path.name
        if outcome.target != outcome.path:
            name = f"{name} -> {outcome.target.name}"
        console.print(f"{outcome.action}: {name} ({outcome.kind})")
    for info in infos:
        if info.kind is None:
            console.print(f"left alone (not a key file): {info.path.name}")
    console.print(f"done: use the new passphrase from now on ({keys_dir})")


__all__ = ["app"]
