"""GET /healthz again and again until stdin closes, then print the latencies (seconds, one JSON
list). A process of its own: measured from the test's process, the probe would wait for the GIL
behind the test's own upload threads, and the figure would be the client's, not the server's."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time


def main(host: str, port: int) -> None:
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", "/healthz")  # the connection is open before the clock starts
    connection.getresponse().read()
    print("ready", flush=True)
    latencies: list[float] = []
    while not done.is_set() or len(latencies) < 10:
        started = time.perf_counter()
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            sys.exit(f"/healthz answered {answer.status}")
        latencies.append(time.perf_counter() - started)
        time.sleep(0.01)
    print(json.dumps(latencies), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
