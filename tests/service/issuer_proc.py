"""A separate issuing process for the crash tests: submit, then drain (seal, anchor, confirm).

Reads a JSON job from argv[1]; REGISTRY_TEST_CRASH_AT makes it SIGKILL itself at a state.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from eth_account import Account

from registry import keys
from registry.chain import RegistryContract, connect
from registry.chain.tx import TxOptions
from registry.service.issuing import Issuer, IssuingConfig
from registry.store import open_store


def main() -> None:
    job = json.loads(sys.argv[1])
    w3 = connect(job["rpc"])
    registry = RegistryContract.at(w3, job["registry"], options=TxOptions(poll_interval=0.02))
    store = open_store(job["db"], data_dir=Path(job["data_dir"]))
    issuer = Issuer(
        store=store,
        registry=registry,
        account=Account.from_key(job["account_key"]),
        signing_key=keys.signing_key_from_seed(bytes.fromhex(job["seed"])),
        agency_id=job["agency_id"],
        config=IssuingConfig(batch_size=job["batch_size"], batch_age=0.0, retry_initial=0.05),
        agency_address=job["agency"],
        salt_secret=bytes.fromhex(job["salt_secret"]),
    )
    items = [
        (hashlib.sha256(f"{job['tag']} {i}".encode()).digest(), "file", None)
        for i in range(job["count"])
    ]
    issuer.submit(items)
    issuer.drain()
    print("drained")


if __name__ == "__main__":
    main()
