"""`registry verify` against a real anvil node: file + receipt, sealed document (also redacted
and altered), receipt alone, untrusted registry, node down — with the documented exit codes."""

from __future__ import annotations

import hashlib
import json

import pytest

from registry import keys, merkle, record
from registry.chain import RegistryContract, connect, fund_from_dev_account, new_account
from registry.receipt import build_receipt, receipt_to_json

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def issued(anvil_node, tmp_path_factory):
    """One anchored batch on anvil: a PDF-like file and a sealed structured record."""
    out = tmp_path_factory.mktemp("issued")
    w3 = connect(anvil_node.url)
    admin, agency = new_account(), new_account()
    for account in (admin, agency):
        fund_from_dev_account(w3, account.address)
    reg, _ = RegistryContract.deploy(w3, admin)
    key = keys.generate_signing_key()
    reg.register_agency(
        admin, account=agency.address, name="Land Office", signing_key=keys.public_key_bytes(key)
    )
    pdf = b"%PDF-1.7\nland extract 42\n"
    sealed = record.seal_record({"parcel": "42-17", "owner": {"name": "Ana", "id": "X1"}})
    digests = [hashlib.sha256(pdf).digest(), bytes(sealed.digest)]
    tree = merkle.MerkleTree.from_digests(digests, [merkle.KIND_FILE, merkle.KIND_RECORD])
    sig = keys.sign_root(
        key, chain_id=reg.chain_id, registry=reg.address, agency=agency.address, root=tree.root
    )
    reg.anchor(agency, root=tree.root, leaf_count=2)
    on_chain = reg.anchor_of(agency.address, tree.root)

    def receipt(i: int, kind: str):
        return build_receipt(
            digest=digests[i],
            digest_kind=kind,
            root=tree.root,
            proof=tree.proof(i),
            count=2,
            chain_id=reg.chain_id,
            registry=reg.address,
            agency=agency.address,
            block_number=on_chain.block_number,
            anchored_at=on_chain.anchored_at,
            public_key=keys.public_key_bytes(key),
            signature=sig,
        )

    (out / "extract.pdf").write_bytes(pdf)
    (out / "extract.receipt.json").write_text(json.dumps(receipt_to_json(receipt(0, "file"))))
    doc = record.attach_receipt(sealed, receipt(1, "record"))
    (out / "deed.json").write_text(json.dumps(record.to_json(doc)))
    (out / "deed.redacted.json").write_text(
        json.dumps(record.to_json(record.redact(doc, ["/owner/id"])))
    )
    altered = record.to_json(doc)
    altered["data"]["parcel"] = "42-18"
    (out / "deed.altered.json").write_text(json.dumps(altered))
    return out, reg


def run(cli, anvil_node, reg, *args):
    result = cli("verify", *args, "--rpc", anvil_node.url, "--registry", reg.address, "--json")
    return result, json.loads(result.output.strip().splitlines()[-1])


def test_file_with_receipt_is_valid(cli, anvil_node, issued):
    out, reg = issued
    result, data = run(
        cli,
        anvil_node,
        reg,
        str(out / "extract.pdf"),
        "--receipt",
        str(out / "extract.receipt.json"),
    )
    assert result.exit_code == 0 and data["outcome"] == "VALID", result.output
    assert data["agencyName"] == "Land Office"
    # Asked of the node (no mirror here), with the head read in the same batch request.
    assert data["chainSource"] == "node" and data["asOfBlock"] >= data["blockNumber"]


def test_sealed_document_full_and_redacted_are_valid(cli, anvil_node, issued):
    out, reg = issued
    for name in ("deed.json", "deed.redacted.json"):
        result, data = run(cli, anvil_node, reg, str(out / name))
        assert result.exit_code == 0 and data["outcome"] == "VALID", (name, result.output)


def test_altered_document_is_tampered_exit_1(cli, anvil_node, issued):
    out, reg = issued
    result, data = run(cli, anvil_node, reg, str(out / "deed.altered.json"))
    assert result.exit_code == 1 and data["outcome"] == "TAMPERED"
    other = out / "other.pdf"
    other.write_bytes(b"%PDF-1.7\nland extract 43\n")
    result, data = run(
        cli, anvil_node, reg, str(other), "--receipt", str(out / "extract.receipt.json")
    )
    assert result.exit_code == 1 and data["outcome"] == "TAMPERED"


def test_receipt_alone_is_in_force_exit_4(cli, anvil_node, issued):
    out, reg = issued
    result, data = run(cli, anvil_node, reg, str(out / "extract.receipt.json"))
    assert result.exit_code == 4 and data["outcome"] == "IN_FORCE", result.output
    human = cli(
        "verify",
        str(out / "extract.receipt.json"),
        "--rpc",
        anvil_node.url,
        "--registry",
        reg.address,
    )
    assert "no document was checked" in human.output and "VALID" not in human.output


def test_json_output_is_only_json(cli, anvil_node, issued):
    out, reg = issued
    result, _ = run(cli, anvil_node, reg, str(out / "deed.json"))
    assert json.loads(result.output)["outcome"] == "VALID"


def test_file_presented_with_a_record_receipt_is_tampered(cli, anvil_node, issued, tmp_path):
    """Issue 9, item 1: a file whose SHA-256 is a record's digest never verifies as it."""
    out, reg = issued
    doc = json.loads((out / "deed.json").read_text())
    (tmp_path / "record.receipt.json").write_text(json.dumps(doc["receipt"]))
    # a "file" whose bytes hash to the record digest cannot be built, so present the flip the
    # other way: the PDF's receipt relabelled as a record's
    flipped = json.loads((out / "extract.receipt.json").read_text())
    flipped["digestKind"] = "record"
    (tmp_path / "flipped.json").write_text(json.dumps(flipped))
    result, data = run(cli, anvil_node, reg, str(tmp_path / "flipped.json"))
    assert result.exit_code == 1 and data["outcome"] == "TAMPERED"


def test_duplicate_key_in_sealed_document_is_tampered(cli, anvil_node, issued, tmp_path):
    """Issue 9: `"parcel":"99-99","parcel":"42-17"` must never verify (a reader keeping the
    first key would show 99-99)."""
    out, reg = issued
    text = (out / "deed.json").read_text()
    forged = text.replace('"parcel": "42-17"', '"parcel": "99-99", "parcel": "42-17"', 1)
    assert forged != text
    (tmp_path / "dup.json").write_text(forged)
    result, data = run(cli, anvil_node, reg, str(tmp_path / "dup.json"))
    assert result.exit_code == 1 and data["outcome"] == "TAMPERED", result.output
    assert "parcel" in data["checks"][0]["reason"]


def test_tampered_is_decided_offline_with_the_node_down(cli, issued):
    out, reg = issued
    result = cli(
        "verify",
        str(out / "deed.altered.json"),
        "--rpc",
        "http://127.0.0.1:1",
        "--registry",
        reg.address,
        "--json",
    )
    assert result.exit_code == 1 and json.loads(result.output)["outcome"] == "TAMPERED"
    no_node = cli("verify", str(out / "deed.altered.json"), "--registry", reg.address, "--json")
    assert no_node.exit_code == 1 and json.loads(no_node.output)["outcome"] == "TAMPERED"


def test_untrusted_registry_exit_1(cli, anvil_node, issued):
    out, _ = issued
    result = cli(
        "verify",
        str(out / "deed.json"),
        "--rpc",
        anvil_node.url,
        "--registry",
        "0x" + "12" * 20,
        "--json",
    )
    data = json.loads(result.output.strip().splitlines()[-1])
    assert result.exit_code == 1 and data["outcome"] == "UNTRUSTED"


def test_node_down_is_error_exit_3(cli, issued):
    out, reg = issued
    result = cli(
        "verify",
        str(out / "deed.json"),
        "--rpc",
        "http://127.0.0.1:1",
        "--registry",
        reg.address,
        "--chain-id",
        "31337",
        "--json",
    )
    data = json.loads(result.output.strip().splitlines()[-1])
    assert result.exit_code == 3 and data["outcome"] == "ERROR"


def test_bad_inputs_are_one_line_errors(cli, anvil_node, issued, tmp_path):
    out, reg = issued
    missing = cli(
        "verify", str(tmp_path / "nope.pdf"), "--rpc", anvil_node.url, "--registry", reg.address
    )
    assert missing.exit_code == 2 and "cannot read" in missing.output
    no_receipt = cli(
        "verify", str(out / "extract.pdf"), "--rpc", anvil_node.url, "--registry", reg.address
    )
    assert no_receipt.exit_code == 2 and "needs its receipt" in no_receipt.output
    broken = tmp_path / "broken.json"
    doc = json.loads((out / "deed.json").read_text())
    doc["receipt"]["merkle"]["root"] = "0x1234"
    broken.write_text(json.dumps(doc))
    bad = cli("verify", str(broken), "--rpc", anvil_node.url, "--registry", reg.address)
    # a malformed receipt is TAMPERED (docs/receipt.md section 1), naming the field
    assert (
        bad.exit_code == 1
        and "TAMPERED" in bad.output
        and "receipt.merkle.root" in bad.output
        and "Traceback" not in bad.output
    )


def test_node_on_another_chain_is_error_not_untrusted(cli, anvil_node, issued, tmp_path):
    """The receipt names chain 1; the node given is anvil's chain: wrong endpoint, ERROR (exit
    3), never UNTRUSTED."""
    out, reg = issued
    receipt = json.loads((out / "extract.receipt.json").read_text())
    receipt["anchor"]["chainId"] = 1
    (tmp_path / "chain1.json").write_text(json.dumps(receipt))
    result, data = run(
        cli, anvil_node, reg, str(out / "extract.pdf"), "--receipt", str(tmp_path / "chain1.json")
    )
    assert result.exit_code == 3 and data["outcome"] == "ERROR", result.output
    assert "chain" in {c["name"]: c["reason"] for c in data["checks"]}["anchored"]
