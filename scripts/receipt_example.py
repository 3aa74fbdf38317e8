"""Compute the worked example of docs/receipt.md: every number in that document comes from here.

    python scripts/receipt_example.py           # print the example blocks
    python scripts/receipt_example.py --write   # rewrite the example blocks in docs/receipt.md
    python scripts/receipt_example.py --check   # exit 1 if docs/receipt.md has drifted

The example is a batch of two records anchored together: the file "hello registry\\n" and
a small structured record. The signing key is derived from the seed 0x01 * 32 and the
salts are fixed bytes: TEST ONLY, anyone can sign with that key and guess those salts.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rfc8785

from registry.keys import (
    ROOT_MESSAGE_TAG,
    public_key_bytes,
    root_signing_message,
    sign_root,
    signing_key_from_seed,
)
from registry.merkle import KIND_FILE, KIND_RECORD, MerkleTree, keccak256, leaf_hash
from registry.receipt import DigestKind, build_receipt, check_receipt_offline, receipt_to_json
from registry.record import (
    attach_receipt,
    bytes_digest,
    field_hash,
    redact,
    seal_record,
    to_json,
    to_pointer,
)
from registry.types import to_hex

DOC = Path(__file__).resolve().parent.parent / "docs" / "receipt.md"

FILE_CONTENT = b"hello registry\n"
RECORD: dict[str, Any] = {
    "name": "Ada Lovelace",
    "born": "1815-12-10",
    "languages": ["en", "fr"],
}
REDACT = ["/born"]
TEST_SEED = bytes([0x01]) * 32  # TEST ONLY
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # first contract of anvil's account 0
AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's well-known test account 1
KECCAK_ONE_LINER = (
    "python3 -c 'import sys, sha3; k = int(sys.argv[1]); d = bytes.fromhex(sys.argv[2][2:]); "
    'e = k.to_bytes(32, "big") + d; '
    'print("0x" + sha3.keccak_256(sha3.keccak_256(e).digest()).hexdigest())\' '
)
"""Shell command printing a (kind, digest) leaf; needs safe-pysha3 (hashlib.sha3_256 is NOT
keccak256)."""
BLOCK_NUMBER = 2
ANCHORED_AT = "2026-11-23T10:00:00Z"
ANCHORED_AT_UNIX = 1795428000


KINDS: tuple[DigestKind, DigestKind] = ("file", "record")


def _fixed_salts() -> Iterator[bytes]:
    """Salts 0x0101..., 0x0202..., ...: TEST ONLY (real salts come from `secrets`)."""
    n = 0
    while True:
        n += 1
        yield bytes([n]) * 16


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def example_blocks() -> dict[str, tuple[str, str]]:
    """Every example block of docs/receipt.md, by name: (fence language, text)."""
    blocks: dict[str, tuple[str, str]] = {}

    # 1. The file digest and its leaf.
    file_digest = bytes_digest(FILE_CONTENT)
    file_leaf = leaf_hash(KIND_FILE, file_digest)
    encoded = KIND_FILE.to_bytes(32, "big") + file_digest
    blocks["file"] = (
        "text",
        "\n".join(
            [
                "$ printf 'hello registry\\n' | sha256sum",
                f"{file_digest.hex()}  -",
                "",
                f"digest = {to_hex(file_digest)}",
                f"abi.encode(uint8 1, digest) = {to_hex(encoded)}",
                f"keccak256(abi.encode(1, digest)) = {to_hex(keccak256(encoded))}",
                f"leaf = keccak256(keccak256(abi.encode(1, digest))) = {to_hex(file_leaf)}",
                "",
                f"$ {KECCAK_ONE_LINER}{KIND_FILE} {to_hex(file_digest)}",
                to_hex(file_leaf),
            ]
        ),
    )

    # 2. The structured record: field hashes and record digest.
    salts = _fixed_salts()
    sealed = seal_record(RECORD, salt_source=lambda n: next(salts)[:n])
    lines = [f"record: {json.dumps(RECORD, ensure_ascii=False)}", ""]
    hashes: list[bytes] = []
    for pointer, path, value in _fields(sealed.data):
        salt = sealed.salts[pointer]
        canonical = rfc8785.dumps([list(path), salt, value])
        digest = field_hash(path, salt, value)
        hashes.append(digest)
        lines += [
            f"field {pointer}",
            f"  JCS([path, salt, value]) = {canonical.decode()}",
            f"  field hash = {to_hex(digest)}",
        ]
    lines += ["", "field hashes sorted bytewise:"]
    lines += [f"  {to_hex(h)}" for h in sorted(hashes)]
    lines += [
        "",
        f"record digest = SHA-256(concatenation) = {to_hex(sealed.digest)}",
        "leaf = keccak256(keccak256(abi.encode(uint8 2, record digest))) = "
        + to_hex(leaf_hash(KIND_RECORD, sealed.digest)),
    ]
    blocks["record"] = ("text", "\n".join(lines))

    # 3. The batch of two: root and proofs.
    digests = [file_digest, sealed.digest]
    kinds = [KIND_FILE, KIND_RECORD]
    tree = MerkleTree.from_digests(digests, kinds)
    leaves = [leaf_hash(k, d) for k, d in zip(kinds, digests, strict=True)]
    blocks["batch"] = (
        "text",
        "\n".join(
            [
                f"index 0 (file)   leaf {to_hex(leaves[0])}",
                f"index 1 (record) leaf {to_hex(leaves[1])}",
                "root = keccak256(smaller leaf || larger leaf)",
                f"     = {to_hex(tree.root)}",
                f"proof of index 0 = [{', '.join(to_hex(p) for p in tree.proof(0))}]",
                f"proof of index 1 = [{', '.join(to_hex(p) for p in tree.proof(1))}]",
            ]
        ),
    )

    # 4. The agency key and the signature over the root.
    key = signing_key_from_seed(TEST_SEED)
    public_key = public_key_bytes(key)
    message = root_signing_message(
        chain_id=CHAIN_ID, registry=REGISTRY, agency=AGENCY, root=tree.root
    )
    signature = sign_root(key, chain_id=CHAIN_ID, registry=REGISTRY, agency=AGENCY, root=tree.root)
    blocks["signature"] = (
        "text",
        "\n".join(
            [
                f"seed (TEST ONLY)    {to_hex(TEST_SEED)}",
                f"Ed25519 public key  {to_hex(public_key)}",
                "",
                f"message ({len(message)} bytes):",
                f"  tag       {to_hex(ROOT_MESSAGE_TAG)}  ({ROOT_MESSAGE_TAG.decode()})",
                f"  chain id  {to_hex(CHAIN_ID.to_bytes(32, 'big'))}  ({CHAIN_ID})",
                f"  registry  {to_hex(bytes.fromhex(REGISTRY[2:]))}",
                f"  agency    {to_hex(bytes.fromhex(AGENCY[2:]))}",
                f"  root      {to_hex(tree.root)}",
                f"  = {to_hex(message)}",
                "",
                f"signature = {to_hex(signature)}",
            ]
        ),
    )

    # 5. The two receipts; the file's in full, the record's inside its sealed document.
    receipts = [
        build_receipt(
            digest=digests[i],
            digest_kind=kind,
            root=tree.root,
            proof=tree.proof(i),
            count=tree.count,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            agency=AGENCY,
            block_number=BLOCK_NUMBER,
            anchored_at=ANCHORED_AT_UNIX,
            public_key=public_key,
            signature=signature,
        )
        for i, kind in enumerate(KINDS)
    ]
    assert receipt_to_json(receipts[0])["anchor"]["anchoredAt"] == ANCHORED_AT
    blocks["receipt"] = ("json", _json(receipt_to_json(receipts[0])))
    document = attach_receipt(sealed, receipts[1])
    blocks["sealed"] = ("json", _json(to_json(document)))
    shown = to_json(redact(document, REDACT))
    shown["receipt"] = "(unchanged)"
    blocks["redacted"] = ("json", _json(shown))

    # 6. What the offline check reports for the file and its receipt.
    checks = check_receipt_offline(receipts[0], digest=file_digest, digest_kind="file")
    blocks["checks"] = (
        "text",
        "\n".join(f"{c.name:<10} {c.status:<5} {c.reason}" for c in checks),
    )
    return blocks


def _fields(data: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _fields(value, (*path, key))
    elif isinstance(data, list) and data:
        for index, value in enumerate(data):
            yield from _fields(value, (*path, index))
    else:
        yield to_pointer(path), path, data


_BLOCK = re.compile(
    r"<!-- example:(?P<name>[\w-]+) -->\n```(?P<lang>\w*)\n(?:(?P<text>.*?)\n)?```\n"
    r"<!-- /example:(?P=name) -->",
    re.DOTALL,
)


def render_doc(text: str, blocks: dict[str, tuple[str, str]]) -> str:
    """The document with every example block replaced by the freshly computed one."""

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in blocks:
            raise KeyError(f"docs/receipt.md has an unknown example block {name!r}")
        lang, body = blocks[name]
        return f"<!-- example:{name} -->\n```{lang}\n{body}\n```\n<!-- /example:{name} -->"

    return _BLOCK.sub(replace, text)


def doc_blocks(text: str) -> dict[str, str]:
    """The example blocks as the document has them: name -> text."""
    return {m["name"]: m["text"] or "" for m in _BLOCK.finditer(text)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="update docs/receipt.md in place")
    group.add_argument("--check", action="store_true", help="exit 1 if docs/receipt.md drifted")
    args = parser.parse_args(argv)
    blocks = example_blocks()
    if args.write or args.check:
        current = DOC.read_text(encoding="utf-8")
        fresh = render_doc(current, blocks)
        if args.check:
            if fresh != current:
                print("docs/receipt.md: example blocks differ; run --write", file=sys.stderr)
                return 1
            return 0
        DOC.write_text(fresh, encoding="utf-8")
        return 0
    for name, (_, body) in blocks.items():
        print(f"== {name} ==\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
