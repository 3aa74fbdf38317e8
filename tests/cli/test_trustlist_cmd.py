"""`registry trustlist ...`: the publishing authority's commands and the verifier's check of the
alliance trust list (docs/trust.md). No chain is needed."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

RURITANIA = "eip155:1:0x5FbDB2315678afecb367f032d93F642f64180aa3"
FREEDONIA = "eip155:137:0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def ok(result, says: str) -> str:
    assert result.exit_code == 0, result.output
    assert says in result.output, result.output
    return result.output


def fails(result, code: int, *says: str) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    for text in says:
        assert text in result.output, result.output
    return result.output


def last_json(result) -> dict:
    return json.loads(result.output.strip().splitlines()[-1])


@dataclass
class Publisher:
    key: Path
    multikey: str


def keygen(cli, out: Path) -> Publisher:
    result = cli("trustlist", "keygen", "--out", str(out), "--json")
    ok(result, "public Multikey")
    shown = last_json(result)
    assert shown["file"] == str(out) and shown["multikey"].startswith("z6Mk")
    assert shown["multikey"] in result.output.splitlines()[1]
    return Publisher(out, shown["multikey"])


@pytest.fixture
def publisher(cli, tmp_path: Path) -> Publisher:
    return keygen(cli, tmp_path / "publisher.key.json")


@pytest.fixture
def signed(cli, tmp_path: Path, publisher: Publisher) -> Path:
    """A list of two registries, signed (sequence 1)."""
    path = tmp_path / "list.json"
    ok(
        cli("trustlist", "create", str(path), "--operator", "Alliance", "--territory", "EU"),
        "unsigned, sequence 1",
    )
    ok(
        cli(
            "trustlist", "add", str(path), "--name", "Ruritania Civil Registry",
            "--country", "RU", "--registry", RURITANIA.lower(), "--since", "2025-01-01",
        ),
        f"added Ruritania Civil Registry (RU), {RURITANIA}",
    )  # fmt: skip
    ok(
        cli(
            "trustlist", "add", str(path), "--name", "Registre d'État de Freedonia",
            "--country", "FR", "--registry", FREEDONIA,
            "--since", "2025-06-01T09:00:00+02:00", "--publisher-key", publisher.multikey,
        ),
        "unsigned, sequence 1",
    )  # fmt: skip
    ok(cli("trustlist", "sign", str(path), "--key", str(publisher.key)), "sequence 1")
    return path


def verify(cli, path: Path, key: str):
    return cli("trustlist", "verify", str(path), "--trust-list-key", key, "--json")


def test_sign_then_verify_with_the_pinned_key(cli, signed: Path, publisher: Publisher):
    text = signed.read_text(encoding="utf-8")
    assert text.endswith("}\n") and "\n  " in text and "État" in text  # indent 2, UTF-8
    result = verify(cli, signed, publisher.multikey)
    ok(result, "OK: trust list")
    assert "sequence 1, operator Alliance (EU)" in result.output
    shown = last_json(result)
    assert shown["accepted"] is True and shown["sequence"] == 1
    assert {e["registry"] for e in shown["entries"]} == {RURITANIA, FREEDONIA}
    freedonia = next(e for e in shown["entries"] if e["country"] == "FR")
    assert freedonia["since"] == "2025-06-01T07:00:00Z"
    assert freedonia["publisher_keys"] == [publisher.multikey]


def test_sign_prints_sequence_next_update_digest_and_the_anchoring_command(
    cli, tmp_path: Path, signed: Path, publisher: Publisher
):
    out = tmp_path / "v2.json"
    result = cli(
        "trustlist", "sign", str(signed), "--key", str(publisher.key), "--valid-days", "30",
        "--out", str(out), "--json",
    )  # fmt: skip
    text = ok(result, f"signed {out}: sequence 2")
    shown = last_json(result)
    assert shown["sequence"] == 2 and shown["next_update"] in text
    assert shown["list_sha256"] in text and shown["file_sha256"] in text
    assert f"registry issue {out} --as-file --agency AGENCY" in text
    assert hashlib.sha256(out.read_bytes()).hexdigest() == shown["file_sha256"]
    assert not (tmp_path / "list.json").read_text(encoding="utf-8").count('"LoTESequenceNumber": 2')


def test_show_lists_both_registries_and_the_signer(cli, signed: Path, publisher: Publisher):
    result = cli("trustlist", "show", str(signed), "--json")
    text = ok(result, "signature not checked")
    assert "verify" in text and "sequence:    1" in text and "territory:   EU" in text
    assert f"did:key:{publisher.multikey}" in text
    assert "Ruritania" in text and "Freedonia" in text
    shown = last_json(result)
    assert shown["verification_method"] == f"did:key:{publisher.multikey}#{publisher.multikey}"
    assert [(e["country"], e["status"]) for e in shown["entries"]] == [
        ("RU", "granted"),
        ("FR", "granted"),
    ]
    help_text = cli("trustlist", "show", "--help").output
    assert "NOT checked" in help_text and "trustlist verify" in help_text


def test_withdraw_then_sign_gives_sequence_2_and_the_old_list_is_a_rollback(
    cli, tmp_path: Path, signed: Path, publisher: Publisher
):
    ok(verify(cli, signed, publisher.multikey), "sequence 1")
    old = tmp_path / "list-1.json"
    shutil.copy(signed, old)
    ok(
        cli("trustlist", "withdraw", str(signed), "--registry", RURITANIA, "--at", "2026-01-01"),
        f"withdrew {RURITANIA} from 2026-01-01T00:00:00Z",
    )
    text = ok(cli("trustlist", "show", str(signed)), "sequence:    2")
    assert "signed:      no" in text
    ok(cli("trustlist", "sign", str(signed), "--key", str(publisher.key)), "sequence 2")
    result = verify(cli, signed, publisher.multikey)
    ok(result, "OK: trust list")
    assert "sequence 2" in result.output
    ruritania = next(e for e in last_json(result)["entries"] if e["country"] == "RU")
    assert ruritania["status"] == "withdrawn" and ruritania["since"] == "2026-01-01T00:00:00Z"
    assert ruritania["history"][0] == {"status": "granted", "since": "2025-01-01T00:00:00Z"}

    # Another run, same data directory: sequence 1 is older than the version seen.
    result = verify(cli, old, publisher.multikey)
    fails(result, 1, "REJECTED", "sequence number 1 is lower than 2", "rollback")
    assert last_json(result)["accepted"] is False
    seen = json.loads((tmp_path / "data" / "trust-lists-seen.json").read_text())
    method = f"did:key:{publisher.multikey}#{publisher.multikey}"
    assert seen[f"EU/{method}"]["sequence"] == 2  # keyed by territory and publisher key


def test_a_list_signed_by_another_key_is_refused(cli, tmp_path: Path, signed: Path):
    other = keygen(cli, tmp_path / "other.key.json")
    fails(verify(cli, signed, other.multikey), 1, "REJECTED", "not a pinned publisher key")


def test_the_pinned_key_may_come_from_the_environment(cli, signed: Path, publisher: Publisher):
    env = {"REGISTRY_TRUST_LIST_KEYS": json.dumps([publisher.multikey])}
    ok(cli("trustlist", "verify", str(signed), env=env), "OK: trust list")
    fails(cli("trustlist", "verify", str(signed)), 2, "no pinned publisher key")
    fails(
        cli("trustlist", "verify", str(signed), "--trust-list-key", "z6Mkoops"),
        2,
        "--trust-list-key",
    )


def test_a_list_edited_after_signing_is_refused(cli, signed: Path, publisher: Publisher):
    document = json.loads(signed.read_text(encoding="utf-8"))
    entry = document["LoTE"]["TrustedEntitiesList"][0]
    entry["TrustedEntityServices"][0]["ServiceInformation"]["StatusStartingTime"] = (
        "2020-01-01T00:00:00Z"
    )
    signed.write_text(json.dumps(document, indent=2), encoding="utf-8")
    fails(verify(cli, signed, publisher.multikey), 1, "REJECTED", "signature does not verify")


def test_an_unsigned_list_is_refused(cli, tmp_path: Path, publisher: Publisher):
    path = tmp_path / "draft.json"
    ok(cli("trustlist", "create", str(path), "--operator", "A", "--territory", "EU"), "sequence 1")
    fails(verify(cli, path, publisher.multikey), 1, "REJECTED", "not signed")


def test_a_bad_caip10_id_exits_2_naming_the_field(cli, signed: Path, publisher: Publisher):
    text = signed.read_text(encoding="utf-8").replace(RURITANIA, "eip155:1:0x1234")
    signed.write_text(text, encoding="utf-8")
    for command in (("verify", "--trust-list-key", publisher.multikey), ("show",)):
        fails(
            cli("trustlist", command[0], str(signed), *command[1:]),
            2,
            "ServiceDigitalIdentity.OtherIds[0]",
            "not a CAIP-10 id",
        )


def test_a_duplicate_json_key_exits_2_naming_the_field(cli, signed: Path, publisher: Publisher):
    text = signed.read_text(encoding="utf-8").replace(
        '"LoTESequenceNumber": 1,', '"LoTESequenceNumber": 1, "LoTESequenceNumber": 9,'
    )
    signed.write_text(text, encoding="utf-8")
    fails(
        verify(cli, signed, publisher.multikey),
        2,
        "LoTESequenceNumber",
        "duplicate key",
    )


def test_keygen_never_overwrites(cli, publisher: Publisher):
    before = publisher.key.read_bytes()
    fails(cli("trustlist", "keygen", "--out", str(publisher.key)), 2, "already there")
    assert publisher.key.read_bytes() == before


def test_create_refuses_an_existing_file_unless_forced(cli, signed: Path):
    before = signed.read_bytes()
    args = ("trustlist", "create", str(signed), "--operator", "B", "--territory", "EU")
    fails(cli(*args), 2, "already there", "--force")
    assert signed.read_bytes() == before
    ok(cli(*args, "--force"), "new trust list of B (EU)")
    fails(
        cli("trustlist", "create", str(signed), "--operator", "B", "--territory", "eu"),
        2,
        "--territory",
    )


def test_sign_with_a_wrong_passphrase_fails_cleanly(cli, signed: Path, publisher: Publisher):
    before = signed.read_bytes()
    result = cli(
        "trustlist", "sign", str(signed), "--key", str(publisher.key),
        env={"REGISTRY_KEYSTORE_PASSPHRASE": "not the passphrase at all"},
    )  # fmt: skip
    fails(result, 2, "wrong passphrase")
    assert signed.read_bytes() == before


def test_sign_refuses_zero_valid_days(cli, signed: Path, publisher: Publisher):
    before = signed.read_bytes()
    result = cli("trustlist", "sign", str(signed), "--key", str(publisher.key), "--valid-days", "0")
    fails(result, 2, "--valid-days")
    assert signed.read_bytes() == before


def test_bad_arguments_name_the_option(cli, signed: Path, publisher: Publisher):
    add = ("trustlist", "add", str(signed), "--name", "X", "--country", "XX")
    fails(cli(*add, "--registry", "eip155:1:0x12"), 2, "--registry", "not a CAIP-10 id")
    other = "eip155:5:0x" + "ab" * 20
    fails(cli(*add, "--registry", other, "--since", "2026-12-01 noon"), 2, "--since", "ISO 8601")
    fails(cli(*add, "--registry", other, "--publisher-key", "z6Mkxyz"), 2, "--publisher-key")
    fails(cli(*add, "--registry", RURITANIA), 2, "already on the list")
    fails(
        cli("trustlist", "withdraw", str(signed), "--registry", other),
        2,
        "--registry",
        "not on the list",
    )
    fails(
        cli("trustlist", "withdraw", str(signed), "--registry", RURITANIA, "--at", "2024-01-01"),
        2,
        "--at",
        "must come after",
    )
    fails(cli("trustlist", "show", str(signed.with_name("missing.json"))), 2, "cannot read")
