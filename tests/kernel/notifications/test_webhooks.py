"""Webhooks against a real HTTP receiver process: each fact once, signed HMAC-SHA256;
a receiver that answers 500 or hangs is a failed attempt retried with backoff; loopback
and private targets refused unless allowed; the delivery log for the admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.clock import FixedClock
from kernel.notifications import Fact, NotificationRule
from kernel.notifications.rules import STATE_KEY
from tests.factories import form_post, page_login
from tests.live_server import free_port
from tests.notification_factories import run_notifications
from tests.webhook_receiver import start_receiver

CHICAGO = ZoneInfo("America/Chicago")
SECRET = "a-long-webhook-secret-0123456789"
HOOKS = "/api/v1/webhooks"


@pytest.fixture
def facts(app) -> list[Fact]:
    found: list[Fact] = []
    app.state[STATE_KEY] = (
        NotificationRule("test_kind", "Test", lambda s, c: list(found), frozenset({Role.MA})),
        NotificationRule("other_kind", "Other", lambda s, c: [], frozenset()),
    )
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 9, 0, tzinfo=CHICAGO))
    app.state.settings.public_url = "https://steristock.clinic.example"
    app.state.settings.webhook_allow_private = True  # the receiver is on loopback
    app.state.settings.webhook_timeout_seconds = 1.0
    return found


@pytest.fixture
def receivers(tmp_path):
    started = []

    def start(*args: str):
        receiver = start_receiver(tmp_path, free_port(), *args)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def add_hook(client, users, url: str, kinds: list[str] | None = None, expect: int = 201):
    response = client.post(
        HOOKS, json={"url": url, "secret": SECRET, "kinds": kinds or []},
        headers=users.headers(Role.ADMIN),
    )  # fmt: skip
    assert response.status_code == expect, response.text
    return response.json()


def log(client, users, hook_id: int) -> list[dict]:
    response = client.get(f"{HOOKS}/{hook_id}/deliveries", headers=users.headers(Role.ADMIN))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_webhook_gets_each_fact_once_signed_with_hmac_sha256(
    app, client, users, facts, receivers
):
    receiver = receivers()
    hook = add_hook(client, users, receiver.url)
    facts.append(Fact(key="r1", subject="Recall open", detail="2 packs", url="/cycles/4"))
    run_notifications(app)
    run_notifications(app)
    [request] = receiver.requests()
    body = request["body"].encode()
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["x-steristock-signature"], expected)
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["x-steristock-event"] == "test_kind"
    payload = json.loads(body)
    assert set(payload) == {"id", "kind", "site", "subject", "detail", "url", "at"}
    assert payload["kind"] == "test_kind" and payload["subject"] == "Recall open"
    assert payload["url"] == "https://steristock.clinic.example/cycles/4"
    assert payload["at"] == "2026-12-03T15:00:00Z"
    [delivery] = log(client, users, hook["id"])
    assert delivery["status"] == "sent" and delivery["log"][0]["status_code"] == 200


def test_a_forged_body_does_not_match_the_signature(app, client, users, facts, receivers):
    receiver = receivers()
    add_hook(client, users, receiver.url)
    facts.append(Fact(key="r1", subject="genuine"))
    run_notifications(app)
    [request] = receiver.requests()
    forged = request["body"].replace("genuine", "forged!").encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), forged, hashlib.sha256).hexdigest()
    assert signature != request["headers"]["x-steristock-signature"]


def test_a_receiver_answering_500_is_retried_with_backoff_until_it_takes_it(
    app, client, users, facts, receivers
):
    receiver = receivers("--fail-first", "2")
    hook = add_hook(client, users, receiver.url)
    facts.append(Fact(key="r1", subject="retry"))
    run_notifications(app)
    [delivery] = log(client, users, hook["id"])
    assert (
        delivery["status"] == "pending"
        and delivery["last_error"] == "HTTP 500 Internal Server Error"
    )
    first_retry = dt.datetime.fromisoformat(delivery["next_attempt_at"])
    assert first_retry - app.state.clock.now() == dt.timedelta(minutes=1)
    app.state.clock.advance(dt.timedelta(minutes=1))
    run_notifications(app)
    [delivery] = log(client, users, hook["id"])
    second_retry = dt.datetime.fromisoformat(delivery["next_attempt_at"])
    assert second_retry - app.state.clock.now() == dt.timedelta(minutes=2)
    app.state.clock.advance(dt.timedelta(minutes=1))
    run_notifications(app)  # not due yet
    assert len(receiver.requests()) == 2
    app.state.clock.advance(dt.timedelta(minutes=1))
    run_notifications(app)
    [delivery] = log(client, users, hook["id"])
    assert delivery["status"] == "sent" and delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["log"]] == [500, 500, 200]
    assert len(receiver.requests()) == 3
    assert len({r["body"] for r in receiver.requests()}) == 1  # the same fact each time


def test_a_receiver_that_hangs_times_out_and_the_app_is_unaffected(
    app, client, users, facts, receivers
):
    receiver = receivers("--hang", "5")
    hook = add_hook(client, users, receiver.url)
    facts.append(Fact(key="r1", subject="slow"))
    result = run_notifications(app)
    assert (result.sent, result.failed) == (0, 1)
    [delivery] = log(client, users, hook["id"])
    assert "timed out" in delivery["last_error"]
    assert delivery["status"] == "pending"
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
def test_loopback_and_private_network_urls_are_refused_unless_allowed(
    app, client, users, facts, url
):
    app.state.settings.webhook_allow_private = False
    refused = add_hook(client, users, url, expect=422)
    assert refused["errors"][0]["field"] == "url"
    assert "STERISTOCK_WEBHOOK_ALLOW_PRIVATE" in refused["detail"]
    app.state.settings.webhook_allow_private = True
    add_hook(client, users, url)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://example.com/x", "secret": SECRET}, "url"),
        ({"url": "https://user:pw@example.com/x", "secret": SECRET}, "url"),
        ({"url": "https://example.com/x", "secret": "short"}, "secret"),
        ({"url": "https://example.com/x", "secret": SECRET, "kinds": ["nope"]}, "kinds"),
    ],
)
def test_a_webhook_needs_an_http_url_a_long_secret_and_known_kinds(
    client, users, facts, body, field
):
    response = client.post(HOOKS, json=body, headers=users.headers(Role.ADMIN))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert client.get(HOOKS, headers=users.headers(Role.ADMIN)).json()["total"] == 0


def test_a_target_that_turned_private_is_refused_at_send_time(app, client, users, facts, receivers):
    receiver = receivers()
    hook = add_hook(client, users, receiver.url)
    app.state.settings.webhook_allow_private = False
    facts.append(Fact(key="r1", subject="s"))
    run_notifications(app)
    assert receiver.requests() == []
    [delivery] = log(client, users, hook["id"])
    assert "loopback or private" in delivery["last_error"]


def test_a_webhook_gets_only_its_kinds(app, client, users, facts, receivers):
    receiver = receivers()
    add_hook(client, users, receiver.url, kinds=["other_kind"])
    facts.append(Fact(key="r1", subject="s"))
    run_notifications(app)
    assert receiver.requests() == []


def test_the_secret_is_never_shown_or_audited(app, client, users, facts, receivers):
    receiver = receivers()
    add_hook(client, users, receiver.url)
    listed = client.get(HOOKS, headers=users.headers(Role.ADMIN))
    assert SECRET not in listed.text and "secret" not in listed.json()["items"][0]
    facts.append(Fact(key="r1", subject="s"))
    run_notifications(app)
    with app.state.db.session(write=False) as session:
        entries = list(session.scalars(select(AuditEntry)))
    assert entries and all(SECRET not in (e.after or "") for e in entries)
    assert any(e.action == "notification.send" and '"channel":"webhook"' in (e.after or "")
               for e in entries)  # fmt: skip


def test_the_admin_sees_the_delivery_log_page(app, client, users, facts, receivers):
    receiver = receivers("--fail-first", "1")
    admin = users.create(Role.ADMIN)
    page_login(client, admin)
    added = form_post(client, "/admin/webhooks", "add-webhook-form", url=receiver.url,
                      secret=SECRET)  # fmt: skip
    assert added.status_code == 303, added.text
    hook_page = added.headers["location"]
    facts.append(Fact(key="r1", subject="Logged fact"))
    run_notifications(app)
    page = client.get(hook_page)
    assert page.status_code == 200
    assert "Logged fact" in page.text and "HTTP 500 Internal Server Error" in page.text
    assert "retrying" in page.text
    assert SECRET not in client.get("/admin/webhooks").text
