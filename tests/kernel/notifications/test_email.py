"""E-mail against a real SMTP server process (aiosmtpd on loopback): STARTTLS when
offered, implicit TLS, login, a proper From, plain text plus HTML with the deep link,
once per fact; a refusing or absent server is a failed delivery retried with backoff;
the digest is one mail at 07:00 site time."""

from __future__ import annotations

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.clock import FixedClock
from kernel.notifications import Fact, NotificationRule
from kernel.notifications.models import DeliveryAttempt, NotificationDelivery
from kernel.notifications.rules import STATE_KEY
from tests.live_server import free_port
from tests.notification_factories import run_notifications
from tests.smtp_server import self_signed_certificate, start_smtp_server

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
CHICAGO = ZoneInfo("America/Chicago")
PASSWORD = "p@ss word/1"


@pytest.fixture
def facts(app) -> list[Fact]:
    found: list[Fact] = []
    app.state[STATE_KEY] = (
        NotificationRule("test_kind", "Test", lambda s, c: list(found), frozenset({Role.MA})),
    )
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 9, 0, tzinfo=CHICAGO))
    app.state.settings.public_url = "https://steristock.clinic.example"
    app.state.settings.clinic_name = "Maple Street Clinic"
    return found


@pytest.fixture
def cert(tmp_path):
    return self_signed_certificate(tmp_path)


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(*args: str, port: int | None = None):
        server = start_smtp_server(tmp_path, port or free_port(), *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def use_server(app, url: str, ca: object = None) -> None:
    app.state.settings.smtp_url = url
    app.state.settings.smtp_ca_file = str(ca) if ca else ""


def outbox(app) -> list[NotificationDelivery]:
    with app.state.db.session(write=False) as session:
        return list(
            session.scalars(
                select(NotificationDelivery)
                .where(NotificationDelivery.channel != "in_app")
                .order_by(NotificationDelivery.id)
            )
        )


def test_an_immediate_notification_is_e_mailed_once_over_starttls_with_login(
    app, users, facts, servers, cert
):
    server = servers("--starttls", *map(str, cert), "--auth", f"mailer:{PASSWORD}")
    use_server(app, f"smtp://mailer:p%40ss%20word%2F1@127.0.0.1:{server.port}", cert[0])
    app.state.settings.mail_from = "alerts@clinic.example"
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="Read the BI of cycle 7", detail="Lot L1", url="/cycles/7"))
    first = run_notifications(app)
    run_notifications(app)
    assert (first.sent, first.failed) == (1, 0)
    [(message, meta)] = server.messages()
    assert meta["tls"] is True and meta["login"] == "mailer"
    assert meta["rcpt_tos"] == ["mia@clinic.example"]
    assert message["From"] == "SteriStock · Maple Street Clinic <alerts@clinic.example>"
    assert message["To"] == "mia@clinic.example"
    assert message["Subject"] == "[SteriStock] Read the BI of cycle 7"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "https://steristock.clinic.example/cycles/7" in text
    assert 'href="https://steristock.clinic.example/cycles/7"' in html
    assert "Lot L1" in text and "Lot L1" in html
    assert [d.status for d in outbox(app)] == ["sent"]


def test_smtps_is_implicit_tls(app, users, facts, servers, cert):
    server = servers("--smtps", *map(str, cert))
    use_server(app, f"smtps://127.0.0.1:{server.port}", cert[0])
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="over TLS"))
    assert run_notifications(app).sent == 1
    [(_, meta)] = server.messages()
    assert meta["tls"] is True


def test_a_server_certificate_not_trusted_is_a_failed_delivery(app, users, facts, servers, cert):
    server = servers("--starttls", *map(str, cert))
    use_server(app, f"smtp://127.0.0.1:{server.port}")  # the CA is not given
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="s"))
    assert run_notifications(app).failed == 1
    assert server.messages() == []
    assert "CERTIFICATE_VERIFY_FAILED" in (outbox(app)[0].last_error or "")


def test_a_refusing_server_is_a_failed_delivery_retried_with_backoff_then_sent(
    app, users, facts, servers, cert
):
    refusing = servers("--refuse")
    use_server(app, f"smtp://127.0.0.1:{refusing.port}")
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="retry me"))
    assert run_notifications(app).failed == 1
    [row] = outbox(app)
    assert row.status == "pending" and row.attempts == 1
    assert "550" in (row.last_error or "")
    now = app.state.clock.now()
    assert row.next_attempt_at == now + dt.timedelta(minutes=1)
    refusing.stop()
    accepting = servers(port=refusing.port)
    app.state.clock.advance(dt.timedelta(seconds=30))
    assert run_notifications(app).sent == 0  # not due yet
    app.state.clock.advance(dt.timedelta(seconds=30))
    assert run_notifications(app).sent == 1
    assert len(accepting.messages()) == 1
    [row] = outbox(app)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    with app.state.db.session(write=False) as session:
        log = list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))
    assert [a.ok for a in log] == [False, True]


def test_backoff_doubles_while_the_server_stays_away(app, users, facts):
    use_server(app, f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="s"))
    waits = []
    for _ in range(4):
        run_notifications(app)
        [row] = outbox(app)
        waits.append(row.next_attempt_at - app.state.clock.now())
        app.state.clock.advance(waits[-1])
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert "ConnectionRefused" in (row.last_error or "")


def test_the_digest_is_one_mail_at_seven_site_time(app, client, users, facts, servers):
    server = servers()
    use_server(app, f"smtp://127.0.0.1:{server.port}")
    name = users.create(Role.MA, email="mia@clinic.example")
    client.put(
        "/api/v1/users/me/notification-preferences",
        json={"test_kind": "digest"},
        headers={"Authorization": f"Bearer {users.token(name)}"},
    )
    facts.append(Fact(key="a", subject="first thing"))
    run_notifications(app)  # 09:00
    facts.append(Fact(key="b", subject="second thing"))
    app.state.clock.advance(dt.timedelta(hours=8))
    run_notifications(app)  # 17:00
    app.state.clock.advance(dt.timedelta(hours=13, minutes=59))  # 06:59 next day
    run_notifications(app)
    assert server.messages() == []
    app.state.clock.advance(dt.timedelta(minutes=1))  # 07:00 in Chicago
    assert run_notifications(app).sent == 2  # two rows, one mail
    [(message, _)] = server.messages()
    assert message["Subject"] == "[SteriStock] Daily digest 2026-12-04: 2 notifications"
    text = message.get_body(("plain",)).get_content()
    assert "first thing" in text and "second thing" in text
    app.state.clock.advance(dt.timedelta(days=1))
    run_notifications(app)
    assert len(server.messages()) == 1


def test_every_message_sent_is_audited_without_secrets(app, users, facts, servers):
    server = servers("--auth", f"mailer:{PASSWORD}")
    use_server(app, f"smtp://mailer:p%40ss%20word%2F1@127.0.0.1:{server.port}")
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="audited"))
    run_notifications(app)
    with app.state.db.session(write=False) as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    sent = [e for e in entries if e.action == "notification.send"]
    assert len(sent) == 1 and '"channel":"email"' in (sent[0].after or "")
    assert all(PASSWORD not in (e.after or "") and "p%40ss" not in (e.after or "") for e in entries)


def test_a_password_is_never_sent_in_clear_to_another_machine(app, users, facts, servers):
    """A server that offers no STARTTLS gets no password unless it is this machine's own
    relay (localhost); smtps:// or STARTTLS otherwise. 127.0.0.2 stands for another host."""
    server = servers("--host", "127.0.0.2", "--auth", f"mailer:{PASSWORD}")
    use_server(app, f"smtp://mailer:p%40ss%20word%2F1@127.0.0.2:{server.port}")
    users.create(Role.MA, email="mia@clinic.example")
    facts.append(Fact(key="c1", subject="s"))
    assert run_notifications(app).failed == 1
    [row] = outbox(app)
    assert "offers no STARTTLS" in (row.last_error or "")
    assert PASSWORD not in (row.last_error or "")
    assert server.messages() == []
