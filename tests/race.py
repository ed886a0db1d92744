"""Fire the same request from many threads at once, each through its own client (its own
connection and transaction, as with a threaded server), and collect the status codes."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from flask import Flask

from tests.factories import PASSWORD


def race(
    app: Flask,
    method: str,
    url: str | Callable[[int], str],
    data: dict | Callable[[int], dict] | None = None,
    *,
    count: int = 20,
    login: str | None = None,
    headers: dict[str, str] | None = None,
    json: object = None,
) -> Counter[int]:
    """Send `count` requests together (a barrier releases them at once); returns how many of
    each status code came back. `url` and `data` may depend on the request's number; `json`
    (instead of `data`) and `headers` are the same for every request."""
    clients = []
    for _ in range(count):
        client = app.test_client()
        if login:
            response = client.post("/login", data={"email": login, "password": PASSWORD})
            assert response.status_code == 302, "login failed in a race set-up"
        clients.append(client)
    barrier = threading.Barrier(count)
    statuses: list[int] = [0] * count

    def run(number: int) -> None:
        target = url(number) if callable(url) else url
        body = data(number) if callable(data) else data
        barrier.wait()
        try:
            response = clients[number].open(
                target, method=method, data=body, json=json, headers=headers
            )
            statuses[number] = response.status_code
        except Exception:  # noqa: BLE001 - an exception escaping the app counts as a 500
            statuses[number] = 500

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(statuses)
