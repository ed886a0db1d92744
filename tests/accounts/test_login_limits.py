"""Failed logins are limited per account-and-address and per address, behind a configured
number of trusted proxies, with counts shared by every worker through Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fieldwork import create_app
from tests.factories import PASSWORD, make_user

PROJECT = Path(__file__).resolve().parents[2]


def _fail(client, email: str, **options):
    return client.post("/login", data={"email": email, "password": "wrong guess"}, **options)


def _log_in(client, email: str, **options):
    return client.post("/login", data={"email": email, "password": PASSWORD}, **options)


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(client, app):
    """Someone who knows a user's email and fails from their own address locks only
    themselves out: the owner's correct password from another address is accepted."""
    user = make_user()
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 3
    try:
        attacker = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
        for _ in range(3):
            assert _fail(client, user.email, **attacker).status_code == 422
        locked = _log_in(client, user.email, **attacker)
        assert locked.status_code == 429
        assert "Too many failed logins from here" in locked.get_data(as_text=True)
        owner = app.test_client()
        response = _log_in(owner, user.email, environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert response.status_code == 302
    finally:
        app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 10


def test_without_trusted_proxies_a_forwarded_header_does_not_change_the_address(client, app):
    """With TRUSTED_PROXY_HOPS at its default 0, X-Forwarded-For is ignored, so an attacker
    cannot dodge the per-address limit by inventing addresses."""
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 3
    try:
        for number in range(3):
            headers = {"X-Forwarded-For": f"192.0.2.{number}"}
            _fail(client, f"nobody{number}@example.org", headers=headers)
        headers = {"X-Forwarded-For": "192.0.2.200"}
        assert _fail(client, "someone@example.org", headers=headers).status_code == 429
    finally:
        app.config["LOGIN_FAILURES_PER_ADDRESS"] = 50


def test_behind_a_trusted_proxy_each_client_is_counted_at_its_own_address(app, database_config):
    """With TRUSTED_PROXY_HOPS=1, every request arrives from the proxy's address, yet one
    client's failures do not lock out another client behind the same proxy."""
    user = make_user()
    proxied = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "proxy-test-secret",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "TRUSTED_PROXY_HOPS": 1,
            "LOGIN_FAILURES_PER_ADDRESS": 3,
            "LOGIN_FAILURES_PER_ACCOUNT": 3,
            **database_config,
        }
    )
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    attacker = proxied.test_client()
    for _ in range(4):
        _fail(attacker, user.email, environ_base=proxy, headers={"X-Forwarded-For": "203.0.113.9"})
    blocked = _log_in(
        attacker, user.email, environ_base=proxy, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert blocked.status_code == 429
    owner = proxied.test_client()
    response = _log_in(
        owner, user.email, environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert response.status_code == 302
    with proxied.app_context():
        from fieldwork.extensions import db

        db.session.remove()
        db.engine.dispose()


# --- A shared store for several workers: a real redis-server ------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a free loopback port, stopped by its PID afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing; .ci/run installs it")
        pytest.skip("needs redis-server (Debian package redis-server)")
    port = _free_port()
    pidfile = tmp_path / "redis.pid"
    subprocess.run(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--daemonize", "yes", "--pidfile", str(pidfile), "--dir", str(tmp_path)],
        check=True,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}", client
    client.close()
    for _ in range(50):
        if pidfile.exists():
            break
        time.sleep(0.1)
    os.kill(int(pidfile.read_text().strip()), 15)


WORKER = textwrap.dedent(
    """
    import sys
    from fieldwork import create_app
    from fieldwork.extensions import db

    email, password, address = sys.argv[1:4]
    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False, LOGIN_FAILURES_PER_ACCOUNT=3)
    with app.app_context():
        db.create_all()
        from fieldwork.accounts import services
        if services.find_user_by_email(email) is None:
            services.create_user(email, "Shared Store", "interviewer", "a long unusual passphrase")
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    print(response.status_code)
    """
)


def _worker(env: dict, password: str, address: str = "203.0.113.9") -> int:
    """One login attempt in a process of its own (as a gunicorn worker is)."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER, "shared@example.org", password, address],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_workers_share_failed_login_counts_through_redis(redis_url, tmp_path):
    """Three failures, each in a different process, lock the account at that address in a
    fourth process; the counts live in Redis, and another address is still let in."""
    url, redis_client = redis_url
    env = {
        **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
        "FIELDWORK_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.sqlite'}",
        "RATELIMIT_STORAGE_URI": url,
    }
    assert [_worker(env, "wrong guess") for _ in range(3)] == [422, 422, 422]
    assert redis_client.keys("*"), "the counts are in Redis"
    assert _worker(env, "a long unusual passphrase") == 429
    assert _worker(env, "a long unusual passphrase", address="198.51.100.7") == 302
