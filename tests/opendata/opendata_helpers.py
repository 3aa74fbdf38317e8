"""Helpers of the open-data tests (a module of its own: conftest is not importable): a registry
with some of every event the export counts, on any chain, and the DCAT-AP 3.0.1 shapes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import rdflib
from pyshacl import validate

from registry.chain import RegistryContract, fund_from_dev_account, new_account
from registry.merkle import KIND_FILE, MerkleTree
from registry.opendata import month_of
from registry.vocabulary import Reason

SHAPES = Path(__file__).parent / "shapes" / "dcat-ap-SHACL.ttl"
HOSTILE_NAME = 'Office of "Quotes", Commas\r\nand <img src=x onerror=alert(1)> & more'
"""An agency name a CSV, a JSON-LD or Turtle serializer, and an HTML page must all survive."""
MONTH = 31 * 24 * 3600


@lru_cache(maxsize=1)
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES, format="turtle")


def conforms(graph: rdflib.Graph) -> tuple[bool, str]:
    """pySHACL against the vendored DCAT-AP 3.0.1 shapes (no inference: the catalog states
    every type the shapes' sh:class constraints ask for)."""
    ok, _, text = validate(graph, shacl_graph=shapes_graph(), inference="none")
    return bool(ok), str(text)


def jsonld_graph(document: dict[str, Any] | str | bytes) -> rdflib.Graph:
    data = document if isinstance(document, str | bytes) else json.dumps(document)
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated class
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Graph().parse(data=data, format="json-ld")


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@dataclass
class Scene:
    """A registry with three agencies and what was done on it, to compare the export with."""

    registry: RegistryContract
    names: dict[str, str]
    anchors: list[tuple[str, int, int, int]] = field(default_factory=list)
    """(agency, block time, leaf count, gas used) per anchor."""
    revocations: list[tuple[str, int, Reason, str]] = field(default_factory=list)
    """(agency, block time, reason, how: own | batch | superseded | authority)."""
    other: list[tuple[str, int, str]] = field(default_factory=list)
    """(agency, block time, column) for key rotations, proposals, suspensions, ..."""

    def totals(self, agency: str) -> dict[str, int]:
        out = {
            "records_anchored": sum(n for a, _, n, _ in self.anchors if a == agency),
            "batches_anchored": sum(1 for a, *_ in self.anchors if a == agency),
            "gas_used_anchoring": sum(g for a, _, _, g in self.anchors if a == agency),
            "revocations": sum(1 for a, *_ in self.revocations if a == agency),
            "revocations_by_authority": sum(
                1 for a, _, _, how in self.revocations if a == agency and how == "authority"
            ),
            "batch_revocations": sum(
                1 for a, _, _, how in self.revocations if a == agency and how == "batch"
            ),
            "supersessions": sum(
                1 for a, _, _, how in self.revocations if a == agency and how == "superseded"
            ),
        }
        for reason in Reason:
            out[f"revoked_{reason.name.lower()}"] = sum(
                1 for a, _, r, _ in self.revocations if a == agency and r is reason
            )
        for column in (
            "key_proposals",
            "key_rotations",
            "suspensions",
            "reinstatements",
            "compromise_marks",
            "account_moves",
        ):
            out[column] = sum(1 for a, _, c in self.other if a == agency and c == column)
        return out

    def months(self) -> set[str]:
        times = [t for _, t, *_ in self.anchors] + [t for _, t, *_ in self.revocations]
        return {month_of(t) for t in times}


def _tree(seed: str, count: int) -> MerkleTree:
    digests = [hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(count)]
    return MerkleTree.from_digests(digests, KIND_FILE)


def build_scene(env: Any) -> Scene:
    """On `env` (tests/chain_envs.py's ChainEnv: agencies A and B registered): a third agency
    with a hostile name, anchors over two months, revocations of every kind, a suspension and
    reinstatement, a key rotation, a compromise mark and a move."""
    registry: RegistryContract = env.registry
    node = registry.node
    admin, a, b = env.admin, env.agency_a, env.agency_b
    c = new_account()
    fund_from_dev_account(env.w3, c.address)
    registry.register_agency(admin, account=c.address, name=HOSTILE_NAME, signing_key=b"\xc1" * 32)
    scene = Scene(
        registry,
        names={
            a.address: "Civil Registry Office",
            b.address: "Ministry of Education",
            c.address: HOSTILE_NAME,
        },
    )

    def at(tx: Any) -> int:
        return node.block_time(tx.block_number)

    def anchor(account: Any, tree: MerkleTree) -> None:
        tx = registry.anchor(account, root=tree.root, leaf_count=tree.count)
        scene.anchors.append((account.address, at(tx), tree.count, tx.gas_used))

    a1, b1, a2, c1 = _tree("a1", 10), _tree("b1", 4), _tree("a2", 6), _tree("c1", 3)
    anchor(a, a1)
    anchor(b, b1)
    tx = registry.revoke(a, root=a1.root, leaf=a1.leaf(0), proof=a1.proof(0), reason=Reason.FRAUD)
    scene.revocations.append((a.address, at(tx), Reason.FRAUD, "own"))
    tx = registry.revoke(
        a,
        root=a1.root,
        leaf=a1.leaf(1),
        proof=a1.proof(1),
        reason=Reason.SUPERSEDED,
        replacement=hashlib.sha256(b"corrected").digest(),
    )
    scene.revocations.append((a.address, at(tx), Reason.SUPERSEDED, "superseded"))
    env.advance(MONTH)
    anchor(a, a2)
    anchor(c, c1)
    tx = registry.revoke(b, root=b1.root, leaf=b1.root, proof=[], reason=Reason.ISSUED_IN_ERROR)
    scene.revocations.append((b.address, at(tx), Reason.ISSUED_IN_ERROR, "batch"))
    tx = registry.revoke_by_authority(
        admin,
        agency=a.address,
        root=a1.root,
        leaf=a1.leaf(2),
        proof=a1.proof(2),
        reason=Reason.COURT_ORDER,
    )
    scene.revocations.append((a.address, at(tx), Reason.COURT_ORDER, "authority"))
    tx = registry.suspend_agency(admin, b.address)
    scene.other.append((b.address, at(tx), "suspensions"))
    tx = registry.reinstate_agency(admin, b.address)
    scene.other.append((b.address, at(tx), "reinstatements"))
    proposed, rotated = registry.rotate_signing_key(a, admin, b"\xa2" * 32)
    scene.other.append((a.address, at(proposed), "key_proposals"))
    scene.other.append((a.address, at(rotated), "key_rotations"))
    tx = registry.mark_compromised(admin, c.address, since=at(tx) - 60)
    scene.other.append((c.address, at(tx), "compromise_marks"))
    c2 = new_account()
    fund_from_dev_account(env.w3, c2.address)
    tx = registry.move_agency(admin, c.address, new_account=c2.address)
    scene.other.append((c.address, at(tx), "account_moves"))
    return scene
