"""Account leases (issue 10: two servers on one store): one holder per account at a time, on
SQLite (a file lock) and PostgreSQL (an advisory lock); a killed holder's lease is taken over;
the anchoring worker sends nothing for an account whose lease another process holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

from registry.chain import new_account
from registry.store import Store
from registry.store.lease import AccountLease, lease_key


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_one_holder_per_account(store: Store) -> None:
    account = new_account().address
    first, second = AccountLease(store, account), AccountLease(store, account.upper())
    assert first.acquire() and first.acquire()  # idempotent while held
    assert not second.acquire()
    other = AccountLease(store, new_account().address)
    assert other.acquire()  # accounts are independent
    first.release()
    assert second.acquire()
    second.release()
    other.release()


def test_lease_key_is_stable_and_case_blind() -> None:
    account = "0x" + "ab" * 20
    assert lease_key(account) == lease_key(account.upper().replace("0X", "0x"))
    assert -(2**63) <= lease_key(account) < 2**63


def test_a_killed_holder_is_taken_over(store: Store) -> None:
    """Another process holds the lease and is SIGKILLed: the lease is free within seconds."""
    account = new_account().address
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from registry.store import open_store
        from registry.store.lease import AccountLease
        store = open_store({_url(store)!r}, data_dir=Path({str(store_dir(store))!r}))
        lease = AccountLease(store, {account!r})  # kept: a dropped lease is released
        assert lease.acquire()
        print("held", flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        mine = AccountLease(store, account)
        assert not mine.acquire()
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 10
        while not mine.acquire():
            assert time.monotonic() < deadline, "the dead holder's lease was never freed"
            time.sleep(0.1)
        mine.release()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def store_dir(store: Store) -> str:
    database = store.engine.url.database
    if store.dialect == "sqlite" and database:
        return os.path.dirname(database)
    return "/tmp"


def test_worker_does_not_send_for_an_account_leased_elsewhere(store: Store) -> None:
    from registry.service.anchoring import AnchoringWorker

    account = new_account()
    issuer = SimpleNamespace(agency_id=1, account=account, store=store)
    sent: list[int] = []
    purges: list[int] = []
    operator = SimpleNamespace(purge_documents=lambda: purges.append(1))
    keyring = SimpleNamespace(loaded=lambda: [issuer], operator=operator)
    worker = AnchoringWorker(keyring, interval=0.1, grace=1)  # type: ignore[arg-type]
    worker._issue = lambda i: sent.append(i.agency_id)  # type: ignore[method-assign]
    elsewhere = AccountLease(store, account.address)
    assert elsewhere.acquire()
    worker.run_pass()
    assert sent == []
    elsewhere.release()
    worker.run_pass()
    assert sent == [1]
    worker.release_leases()
    assert AccountLease(store, account.address).acquire()
    # the documents' retention rule ran once in these passes (then waits PURGE_INTERVAL)
    assert purges == [1]
