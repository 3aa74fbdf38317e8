"""`registry keys list` and `registry keys rekey`, the passphrase policy and prompts of the CLI,
and a deployment's agencies issuing after a rekey (anvil)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from eth_account import Account

from registry import keys
from registry.cli import common
from registry.keys import SecretKind

OLD = "correct horse battery staple"  # what tests/cli/conftest.py's `cli` sets
NEW = "a brand new passphrase 2"
NO_TERMINAL = {"REGISTRY_KEYSTORE_PASSPHRASE": None, "REGISTRY_NEW_KEYSTORE_PASSPHRASE": None}


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap key files here (the real cost is tested in tests/keys/test_keyfiles.py)."""
    monkeypatch.setattr(keys, "KDF_N", 2**10)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """A data directory's keys: an authority account and one agency's three files."""
    d = tmp_path / "data" / "keys"
    d.mkdir(parents=True)
    tx = SecretKind.TRANSACTION_KEY
    keys.save_secret(bytes(Account.create().key), d / "admin.json", kind=tx, passphrase=OLD)
    keys.save_secret(bytes(Account.create().key), d / "tax.account.json", kind=tx, passphrase=OLD)
    keys.save_signing_key(keys.generate_signing_key(), d / "tax.ed25519.json", OLD)
    keys.save_salt_secret(keys.generate_salt_secret(), d / "tax.salt.json", OLD)
    return d


def _one_line_error(result, code: int, *needles: str) -> str:
    assert result.exit_code == code, result.output
    out = result.output
    assert "Traceback" not in out and "GetPassWarning" not in out and "Aborted" not in out
    for needle in needles:
        assert needle in out, out
    return out


def _opens(path: Path, passphrase: str) -> bool:
    kind = keys.describe_key_file(path).kind
    assert kind is not None
    try:
        keys.load_secret(path, kind=kind, passphrase=passphrase)
    except keys.WrongPassphrase:
        return False
    return True


def test_keys_list_shows_files_and_kinds_never_secrets(cli, keys_dir: Path) -> None:
    salt = keys.load_salt_secret(keys_dir / "tax.salt.json", OLD)
    result = cli("keys", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {f["file"]: f for f in json.loads(result.output.strip().splitlines()[-1])}
    assert {name: f["kind"] for name, f in listed.items()} == {
        "admin.json": "transaction-key",
        "tax.account.json": "transaction-key",
        "tax.ed25519.json": "signing-key",
        "tax.salt.json": "salt-secret",
    }
    assert all(f["format"] == "current" for f in listed.values())
    assert salt.hex() not in result.output


def test_rekey_round_trip(cli, keys_dir: Path) -> None:
    result = cli("keys", "rekey", env={"REGISTRY_NEW_KEYSTORE_PASSPHRASE": NEW})
    assert result.exit_code == 0, result.output
    assert result.output.count("rekeyed:") == 4
    for path in keys_dir.iterdir():
        assert _opens(path, NEW) and not _opens(path, OLD), path
        assert path.stat().st_mode & 0o777 == 0o600


def test_rekey_with_the_wrong_passphrase_is_one_clear_line(cli, keys_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in keys_dir.iterdir()}
    env = {
        "REGISTRY_KEYSTORE_PASSPHRASE": "not the passphrase",
        "REGISTRY_NEW_KEYSTORE_PASSPHRASE": NEW,
    }
    result = cli("keys", "rekey", env=env)
    _one_line_error(result, 2, "wrong passphrase", "no file was changed")
    assert {p.name: p.read_bytes() for p in keys_dir.iterdir()} == before


def test_rekey_refuses_a_weak_new_passphrase(cli, keys_dir: Path) -> None:
    for weak, says in (("", "empty"), ("short pass", "too short")):
        result = cli("keys", "rekey", env={"REGISTRY_NEW_KEYSTORE_PASSPHRASE": weak})
        _one_line_error(result, 2, says)
    assert all(_opens(p, OLD) for p in keys_dir.iterdir())


def test_without_a_terminal_the_error_names_the_variable(cli, keys_dir: Path) -> None:
    result = cli("keys", "rekey", env=NO_TERMINAL)
    _one_line_error(result, 2, "REGISTRY_KEYSTORE_PASSPHRASE", "no terminal")
    result = cli("keys", "rekey", env={"REGISTRY_NEW_KEYSTORE_PASSPHRASE": None})
    _one_line_error(result, 2, "REGISTRY_NEW_KEYSTORE_PASSPHRASE", "no terminal")
    fresh = {**NO_TERMINAL, "REGISTRY_DATA_DIR": str(keys_dir.parent.parent / "fresh")}
    result = cli("init", env=fresh)
    _one_line_error(result, 2, "REGISTRY_KEYSTORE_PASSPHRASE", "no terminal")


def test_rekey_at_a_terminal_asks_old_then_new_twice(
    cli, keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "_stdin_is_terminal", lambda: True)
    from typer.testing import CliRunner

    from registry.cli import app

    runner = CliRunner()
    mismatch = runner.invoke(
        app, ["keys", "rekey"], input=f"{OLD}\n{NEW}\n{NEW}x\n", env=NO_TERMINAL
    )
    _one_line_error(mismatch, 2, "differ", "nothing was written")
    assert all(_opens(p, OLD) for p in keys_dir.iterdir())
    done = runner.invoke(app, ["keys", "rekey"], input=f"{OLD}\n{NEW}\n{NEW}\n", env=NO_TERMINAL)
    assert done.exit_code == 0, done.output
    assert all(_opens(p, NEW) for p in keys_dir.iterdir())


def test_init_asks_twice_and_refuses_weak_or_mismatched(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from registry.cli import app

    admin = tmp_path / "data" / "keys" / "admin.json"
    weak = cli("init", env={"REGISTRY_KEYSTORE_PASSPHRASE": "eleven char"})
    _one_line_error(weak, 2, "too short", "at least 12")
    assert not admin.exists()
    monkeypatch.setattr(common, "_stdin_is_terminal", lambda: True)
    runner = CliRunner()
    typo = runner.invoke(app, ["init"], input=f"{NEW}\n{NEW[:-1]}\n", env=NO_TERMINAL)
    _one_line_error(typo, 2, "differ")
    assert not admin.exists()
    ok = runner.invoke(app, ["init"], input=f"{NEW}\n{NEW}\n", env=NO_TERMINAL)
    assert ok.exit_code == 0, ok.output
    assert _opens(admin, NEW) and admin.stat().st_mode & 0o777 == 0o600


# ------------------------------------------------------------------ a deployment on anvil


@pytest.mark.anvil
def test_every_agency_issues_after_a_rekey_that_converted_an_old_pem_key(
    cli, tmp_path: Path, anvil_node
) -> None:
    def run(*args: str, env: dict[str, str | None] | None = None, code: int = 0):
        result = cli(*args, env=env)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result

    run("init", "--rpc", anvil_node.url)
    run("deploy", "--fund-from-dev")
    run("agency", "create", "Tax Office", "--fund-from-dev")
    run("agency", "create", "Land Registry", "--fund-from-dev")
    doc = tmp_path / "deed.pdf"
    doc.write_bytes(b"%PDF-1.7 deed\n")
    run("issue", str(doc), "--agency", "Tax Office", "--out", str(tmp_path / "r0"))

    # Land Registry's signing key as the code before unified key files left it (PKCS#8 PEM).
    key_dir = tmp_path / "data" / "keys"
    current = key_dir / "land-registry.ed25519.json"
    key = keys.load_signing_key(current, OLD)
    (key_dir / "land-registry.ed25519.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(OLD.encode()),
        )
    )
    current.unlink()
    refused = run("issue", str(doc), "--agency", "Land Registry", code=2)
    assert "old PKCS#8 PEM" in refused.output and "registry keys rekey" in refused.output

    rekeyed = run("keys", "rekey", env={"REGISTRY_NEW_KEYSTORE_PASSPHRASE": NEW})
    assert "land-registry.ed25519.pem -> land-registry.ed25519.json" in rekeyed.output
    assert not (key_dir / "land-registry.ed25519.pem").exists()

    with_new = {"REGISTRY_KEYSTORE_PASSPHRASE": NEW}
    for n, agency in enumerate(("Tax Office", "Land Registry"), start=1):
        out = tmp_path / f"r{n}"
        other = tmp_path / f"doc{n}.pdf"
        other.write_bytes(f"%PDF-1.7 record {n}\n".encode())
        run("issue", str(other), "--agency", agency, "--out", str(out), env=with_new)
        receipt = out / f"doc{n}.pdf.receipt.json"
        verdict = run("verify", str(other), "--receipt", str(receipt), "--json", env=with_new)
        assert json.loads(verdict.output.strip().splitlines()[-1])["outcome"] == "VALID"
    stale = run("issue", str(doc), "--agency", "Tax Office", "--out", str(tmp_path / "x"), code=2)
    assert "wrong passphrase" in stale.output
