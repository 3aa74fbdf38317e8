"""The full schemathesis run (slow; `make bench` or `pytest -m slow`): the `schemathesis run`
command against the app served by uvicorn, 200 examples per operation, every phase
(examples, coverage, fuzzing, stateful), with no token, an agency token and the admin token,
a fresh registry for each. No 5xx, no answer off the OpenAPI document. Reports (JUnit, NDJSON)
go to test-artifacts/fuzz/<auth>/."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from test_schemathesis import AUTHS, CHECKS, fuzz_registry

EXAMPLES = 200
PHASES = "examples,coverage,fuzzing,stateful"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "fuzz"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _serve(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.mark.slow
@pytest.mark.parametrize("auth", AUTHS)
def test_full_fuzz(auth: str) -> None:
    reports = ARTIFACTS / auth
    reports.mkdir(parents=True, exist_ok=True)
    with fuzz_registry() as target:
        server, thread, url = _serve(target.app)
        try:
            headers = [f"--header=Authorization:{v}" for v in target.headers(auth).values()]
            started = time.monotonic()
            run = subprocess.run(
                [
                    str(SCHEMATHESIS),
                    "run",
                    f"{url}/openapi.json",
                    f"--phases={PHASES}",
                    f"--max-examples={EXAMPLES}",
                    "--checks=" + ",".join(check.__name__ for check in CHECKS),
                    "--continue-on-failure",
                    "--seed=20260",
                    "--workers=1",
                    "--request-timeout=30",
                    "--suppress-health-check=all",
                    "--report=junit,ndjson",
                    f"--report-dir={reports}",
                    *headers,
                ],
                capture_output=True,
                text=True,
                timeout=3 * 3600,
                check=False,
            )
            took = time.monotonic() - started
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    (reports / "output.txt").write_text(run.stdout + run.stderr)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :] if "SUMMARY" in run.stdout else run.stdout
    print(f"\n{auth}: {took:.0f} s\n{summary[-3000:]}")
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5000:]
