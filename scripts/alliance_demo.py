"""The alliance demo (docs/trust.md): two countries, two chains, one signed trust list.

Country A and country B each run a registry on their own anvil node (chain ids 7001 and 7002),
with an agency each, set up through the `registry` CLI as an operator would. The alliance's
publisher signs a trust list naming both registries. Then, at country B's server (`registry
serve`, holding the list and a node URL for A's chain):

- a diploma issued in A verifies VALID, the verdict naming country A, its registry and agency;
- after A's registry is withdrawn from the list (a new version of the list, from a date on),
  a diploma A anchored before that date stays VALID and one anchored after is UNTRUSTED;
- a look-alike registry deployed on A's chain, with its own "Ministry", is UNTRUSTED;
- the page at B's server shows the issuing country (its address is printed; `--keep` leaves
  everything running until Ctrl-C).

Run: python scripts/alliance_demo.py  (or `make demo-alliance`). Needs anvil (npm, see README).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner
from web3 import Web3

from registry.chain.devnode import AnvilNode, free_port, start_anvil
from registry.cli import app as cli

PASSPHRASE = "alliance demo passphrase"
CHAIN_A, CHAIN_B = 7001, 7002
WITHDRAWN_AFTER = timedelta(minutes=30)
"""A's registry leaves the list this long after the demo starts; its chain then moves an
hour ahead, so A's next anchor falls after the withdrawal."""


@dataclass
class Country:
    """One country's registry, set up through the CLI in its own data directory."""

    code: str
    name: str
    node: AnvilNode
    data_dir: Path
    agency: str
    env: dict[str, str] = field(default_factory=dict)
    registry: str = ""

    @property
    def rpc(self) -> str:
        return f"http://127.0.0.1:{self.node.port}"

    def run(self, *args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env=self.env)
        if result.exit_code != 0:
            raise RuntimeError(f"registry {' '.join(args)}: {result.output}")
        return result.output

    def set_up(self) -> None:
        self.env = {
            "REGISTRY_DATA_DIR": str(self.data_dir),
            "REGISTRY_KEYSTORE_PASSPHRASE": PASSPHRASE,
        }
        self.run("init", "--rpc", self.rpc)
        deployed = self.run("deploy", "--fund-from-dev", "--json")
        address = json.loads(deployed.strip().splitlines()[-1])["registry"]
        self.registry = f"eip155:{self.node_chain_id()}:{address}"
        self.run("agency", "create", self.agency, "--fund-from-dev")

    def node_chain_id(self) -> int:
        return int(Web3(Web3.HTTPProvider(self.rpc)).eth.chain_id)

    def issue(self, name: str, record: dict[str, Any], out: Path) -> Path:
        source = out / f"{name}.json"
        out.mkdir(parents=True, exist_ok=True)
        source.write_text(json.dumps(record, indent=2))
        self.run("issue", str(source), "--agency", self.agency, "--out", str(out / "issued"))
        return out / "issued" / f"{name}.sealed.json"

    def move_clock(self, seconds: int) -> None:
        """The chain's next block `seconds` later (anvil), as time passing would."""
        w3 = Web3(Web3.HTTPProvider(self.rpc))
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@dataclass
class Outcome:
    """What B's server said about one document."""

    document: str
    outcome: str
    country: str | None
    agency: str | None
    registry: str | None
    trust_reason: str

    def line(self) -> str:
        where = f"{self.country} / {self.agency}" if self.country else self.registry or "-"
        return (
            f"{self.document:<34} {self.outcome:<10} {where}\n{'':<34} trust: {self.trust_reason}"
        )


@dataclass
class AllianceResult:
    outcomes: dict[str, Outcome]
    trust_list: dict[str, Any]
    server: str


@contextmanager
def _server(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """`registry serve` for country B, until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from registry.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env={**os.environ, **env, "REGISTRY_DATA_DIR": str(data_dir)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"country B's server stopped: {process.stderr.read().decode()[-2000:]}"
                )  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("country B's server did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _verify(base: str, name: str, sealed: Path) -> Outcome:
    answer = httpx.post(f"{base}/v1/verify", content=sealed.read_bytes(), timeout=30)
    answer.raise_for_status()
    body = answer.json()
    trust = next(c for c in body["checks"] if c["name"] == "trust")
    return Outcome(
        document=name,
        outcome=body["outcome"],
        country=body.get("country"),
        agency=body.get("agencyName"),
        registry=body.get("registry"),
        trust_reason=trust["reason"],
    )


def run_alliance(
    work: Path, *, keep: bool = False, say: Any = print, stack: ExitStack | None = None
) -> AllianceResult:
    """The whole story in `work`; the verdicts of B's server. With a `stack`, the nodes and
    the server keep running until the caller closes it."""
    with ExitStack() as own:
        stack = stack if stack is not None else own
        node_a = start_anvil(chain_id=CHAIN_A)
        stack.callback(node_a.stop)
        node_b = start_anvil(chain_id=CHAIN_B)
        stack.callback(node_b.stop)
        a = Country("KZ", "Country A", node_a, work / "country-a", "Ministry of Education A")
        b = Country("AZ", "Country B", node_b, work / "country-b", "Civil Registry B")
        lookalike = Country(
            "KZ", "Look-alike", node_a, work / "lookalike", "Ministry of Education A"
        )
        for country in (a, b, lookalike):
            country.set_up()
            say(f"{country.name}: registry {country.registry}, agency {country.agency!r}")

        diploma = {"type": "Diploma", "holder": "Aigerim S.", "degree": "MSc Public Administration"}
        before = a.issue("diploma-before", {**diploma, "year": 2026}, work / "a-docs")
        fake = lookalike.issue("diploma-lookalike", {**diploma, "holder": "Impostor"}, work / "x")

        # The alliance's publisher: a key, a list naming both registries, signed.
        publisher = Country("--", "Publisher", node_a, work / "publisher", "-")
        publisher.env = {
            "REGISTRY_DATA_DIR": str(publisher.data_dir),
            "REGISTRY_KEYSTORE_PASSPHRASE": PASSPHRASE,
        }
        lists = work / "lists"
        lists.mkdir(parents=True, exist_ok=True)
        key_file, first = work / "publisher.key", lists / "alliance-1.json"
        multikey = json.loads(
            publisher.run("trustlist", "keygen", "--out", str(key_file), "--json")
            .strip()
            .splitlines()[-1]
        )["multikey"]
        joined = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        publisher.run(
            "trustlist",
            "create",
            str(first),
            "--operator",
            "Alliance Secretariat",
            "--territory",
            "ZZ",
        )
        publisher.run(
            "trustlist",
            "add",
            str(first),
            "--name",
            "Country A registry",
            "--country",
            a.code,
            "--registry",
            a.registry,
            "--since",
            joined,
        )
        publisher.run(
            "trustlist",
            "add",
            str(first),
            "--name",
            "Country B registry",
            "--country",
            b.code,
            "--registry",
            b.registry,
            "--since",
            joined,
        )
        publisher.run("trustlist", "sign", str(first), "--key", str(key_file))
        say(f"trust list v1 signed by {multikey[:16]}...: {first}")

        # A leaves the alliance 30 minutes from now: version 2 of the list.
        second = lists / "alliance-2.json"
        second.write_bytes(first.read_bytes())
        leaves = (datetime.now(UTC) + WITHDRAWN_AFTER).strftime("%Y-%m-%dT%H:%M:%SZ")
        publisher.run(
            "trustlist", "withdraw", str(second), "--registry", a.registry, "--at", leaves
        )
        publisher.run("trustlist", "sign", str(second), "--key", str(key_file))
        say(f"trust list v2: {a.registry} withdrawn from {leaves}")

        # The publisher (hosted by country B's registry) anchors each signed version as a
        # file, so the list's history can be audited from the chain.
        b.run("agency", "create", "Alliance Secretariat", "--fund-from-dev")
        for version in (first, second):
            b.run("issue", str(version), "--as-file", "--agency", "Alliance Secretariat",
                  "--out", str(lists / "anchored"))  # fmt: skip
        say(f"both versions anchored on {b.registry} by the Alliance Secretariat")

        # An hour passes on A's chain; A anchors another diploma, after its withdrawal.
        a.move_clock(3600)
        after = a.issue(
            "diploma-after", {**diploma, "holder": "Daulet K.", "year": 2026}, work / "a-docs"
        )

        env = {
            "REGISTRY_KEYSTORE_PASSPHRASE": PASSPHRASE,
            "REGISTRY_TRUST_LISTS": json.dumps([str(second)]),
            "REGISTRY_TRUST_LIST_KEYS": json.dumps([multikey]),
            "REGISTRY_CHAIN_RPCS": json.dumps([f"eip155:{CHAIN_A}={a.rpc}"]),
        }
        base = stack.enter_context(_server(b.data_dir, env))
        say(f"country B's server: {base} (the page: {base}/)")
        outcomes = {
            "before": _verify(base, "diploma from A, before withdrawal", before),
            "after": _verify(base, "diploma from A, after withdrawal", after),
            "lookalike": _verify(base, "diploma from a look-alike on A", fake),
        }
        held = httpx.get(f"{base}/v1/trust-list", timeout=10).json()
        for outcome in outcomes.values():
            say(outcome.line())
        if keep:
            say("running; Ctrl-C to stop")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return AllianceResult(outcomes=outcomes, trust_list=held, server=base)


EXPECTED = {"before": "VALID", "after": "UNTRUSTED", "lookalike": "UNTRUSTED"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the servers running")
    parser.add_argument("--work", type=Path, help="directory for the countries' data")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alliance-") as temp:
        result = run_alliance(options.work or Path(temp), keep=options.keep)
    wrong = {k: o.outcome for k, o in result.outcomes.items() if o.outcome != EXPECTED[k]}
    if wrong:
        print(f"unexpected verdicts: {wrong} (expected {EXPECTED})", file=sys.stderr)
        return 1
    print("alliance demo: every verdict as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
