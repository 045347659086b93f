"""Threads that start together on a fresh client share one httpx client (one connection
pool, one TLS set-up), as ``read_area``'s workers do."""

from __future__ import annotations

import threading

from google.oauth2.credentials import Credentials

import eerest


def test_threads_racing_on_a_fresh_client_share_one_http_client() -> None:
    client = eerest.Client(project="p", base_url="http://127.0.0.1:9", credentials=Credentials(token="t"))
    start = threading.Barrier(16)
    seen: list[int] = []

    def first_request() -> None:
        start.wait()
        seen.append(id(client._http))

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert len(seen) == 16 and len(set(seen)) == 1
