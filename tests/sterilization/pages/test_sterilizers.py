"""The sterilizers page over real HTTP: the list with status, reason and last tests,
adding a sterilizer, taking one out of / returning it to service with a required reason
(errors next to the field, values kept, nothing written), read-only roles, the 403 page
and the login redirect."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.db import Database, utcnow
from sterilization import sterilizers
from sterilization.models import Sterilizer
from tests.factories import UserFactory, assert_csp_clean, csrf_token_from, form_post, page_login
from tests.kernel.test_pages_admin_users import field_error, input_value

PATH = "/admin/sterilizers"


@pytest.fixture
def autoclave(database: Database) -> str:
    with database.session() as session:
        s = sterilizers.create_sterilizer(
            session, code="AC-A", name="Autoclave A", kind="steam_prevac", actor="test"
        )
        s.last_bi_at = utcnow()
    return "AC-A"


@pytest.fixture
def admin(client: TestClient[Litestar], users: UserFactory) -> str:
    username = users.create(Role.ADMIN)
    assert page_login(client, username).status_code == 303
    return username


def sterilizer_row(database: Database, code: str) -> Sterilizer:
    with database.session(write=False) as session:
        row = sterilizers.get_sterilizer(session, code)
        session.expunge(row)
        return row


def count_sterilizers(database: Database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(Sterilizer)) or 0


def table_row(html: str, code: str) -> str:
    row = re.search(rf'<tr id="sterilizer-{code}">.*?</tr>', html, re.S)
    assert row, f"no row for {code}"
    return row.group(0)


def test_admin_sees_status_and_last_tests_and_the_forms(
    client: TestClient[Litestar], admin: str, autoclave: str
) -> None:
    page = client.get(PATH)
    assert page.status_code == 200
    row = table_row(page.text, autoclave)
    assert "Autoclave A" in row and "Steam, pre-vacuum" in row and "in service" in row
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d", row)  # last BI, in clinic time
    assert "Take out of service" in row
    assert 'id="add-sterilizer-form"' in page.text
    assert 'href="/admin/sterilizers"' in page.text  # in the navigation
    assert_csp_clean(page)


def test_admin_adds_a_sterilizer(
    client: TestClient[Litestar], admin: str, database: Database
) -> None:
    response = form_post(
        client, PATH, "add-sterilizer-form", code="AC-B", name="Autoclave B", kind="steam_gravity"
    )
    assert response.status_code == 303 and response.headers["location"] == PATH
    page = client.get(PATH)
    assert "Added sterilizer AC-B" in page.text and "Steam, gravity" in table_row(page.text, "AC-B")
    row = sterilizer_row(database, "AC-B")
    assert row.status == "in_service" and row.name == "Autoclave B"


def test_a_rejected_sterilizer_form_shows_errors_next_to_fields_and_keeps_values(
    client: TestClient[Litestar], admin: str, autoclave: str, database: Database
) -> None:
    bad = form_post(client, PATH, "add-sterilizer-form", code="no spaces!", name="Kept name",
                    kind="microwave")  # fmt: skip
    assert bad.status_code == 422
    assert field_error(bad.text, "field-code") == "Contains characters that are not allowed."
    assert field_error(bad.text, "field-kind") == "Choose one of the options."
    assert input_value(bad.text, "field-code") == "no spaces!"
    assert input_value(bad.text, "field-name") == "Kept name"
    missing = form_post(client, PATH, "add-sterilizer-form", code="", name="", kind="dry_heat")
    assert missing.status_code == 422
    assert field_error(missing.text, "field-code") == "Required."
    assert field_error(missing.text, "field-name") == "Required."
    assert '<option value="dry_heat" selected>' in missing.text
    taken = form_post(client, PATH, "add-sterilizer-form", code=autoclave, name="Again",
                      kind="dry_heat")  # fmt: skip
    assert taken.status_code == 409
    assert "already exists" in field_error(taken.text, "field-code")
    assert input_value(taken.text, "field-name") == "Again"
    assert count_sterilizers(database) == 1
    assert_csp_clean(bad)


def test_out_of_service_needs_a_reason_and_writes_nothing_without_one(
    client: TestClient[Litestar], admin: str, autoclave: str, database: Database
) -> None:
    for reason in ("", "   ", "no"):
        refused = form_post(client, PATH, f"status-{autoclave}-form", reason=reason)
        assert refused.status_code == 422
        message = field_error(refused.text, f"reason-{autoclave}")
        assert message.startswith("Say why"), message
        assert input_value(refused.text, f"reason-{autoclave}") == reason.strip()
    assert sterilizer_row(database, autoclave).status == "in_service"
    with database.session(write=False) as session:
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sterilizer.status")
        ).all()


def test_take_out_of_service_and_return_with_reasons_audited(
    client: TestClient[Litestar], admin: str, autoclave: str, database: Database
) -> None:
    reason = "Door gasket leaking; technician booked"
    response = form_post(client, PATH, f"status-{autoclave}-form", reason=reason)
    assert response.status_code == 303
    page = client.get(PATH)
    assert "AC-A is now out of service." in page.text
    row = table_row(page.text, autoclave)
    assert "OUT OF SERVICE" in row and reason in row and "Return to service" in row
    stored = sterilizer_row(database, autoclave)
    assert stored.status == "out_of_service" and stored.status_reason == reason
    back = form_post(client, PATH, f"status-{autoclave}-form", reason="Gasket replaced, BD passed")
    assert back.status_code == 303
    assert sterilizer_row(database, autoclave).status == "in_service"
    with database.session(write=False) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sterilizer.status")
            .order_by(AuditEntry.seq)
        ).all()  # fmt: skip
    assert [e.actor for e in entries] == [admin, admin]
    assert reason in (entries[0].after or "")


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_ma_and_auditor_read_the_list_without_forms_and_cannot_post(
    client: TestClient[Litestar], users: UserFactory, autoclave: str, database: Database,
    role: Role,
) -> None:  # fmt: skip
    page_login(client, users.create(role))
    page = client.get(PATH)
    assert page.status_code == 200 and "Autoclave A" in page.text
    assert '<form method="post" action="/admin/sterilizers' not in page.text
    token = csrf_token_from(page.text)
    refused = client.post(f"{PATH}/{autoclave}/status",
                          data={"_csrf_token": token, "status": "out_of_service",
                                "reason": "I think it is broken"})  # fmt: skip
    assert refused.status_code == 403 and "may not do this" in refused.text
    added = client.post(PATH, data={"_csrf_token": token, "code": "X1", "name": "X",
                                    "kind": "dry_heat"})  # fmt: skip
    assert added.status_code == 403
    assert sterilizer_row(database, autoclave).status == "in_service"
    assert count_sterilizers(database) == 1


def test_purchasing_gets_the_403_page(client: TestClient[Litestar], users: UserFactory) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get(PATH)
    assert page.status_code == 403 and "Not allowed" in page.text


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient[Litestar]) -> None:
    response = client.get(PATH, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/sterilizers"


def test_an_unknown_sterilizer_is_a_404_page(client: TestClient[Litestar], admin: str) -> None:
    page = client.get(PATH)
    response = client.post(
        f"{PATH}/NOPE/status",
        data={"_csrf_token": csrf_token_from(page.text), "status": "out_of_service",
              "reason": "whatever it is"},
    )  # fmt: skip
    assert response.status_code == 404 and "No sterilizer" in response.text


def test_a_double_tap_records_once_and_a_stale_page_is_refused(
    client: TestClient[Litestar], admin: str, autoclave: str, database: Database
) -> None:
    html = client.get(PATH).text
    form = re.search(rf'<form[^>]*id="status-{autoclave}-form".*?</form>', html, re.S)
    assert form
    body = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    body |= {"_csrf_token": csrf_token_from(html), "reason": "Chamber pressure alarm"}
    first = client.post(f"{PATH}/{autoclave}/status", data=body, follow_redirects=False)
    second = client.post(f"{PATH}/{autoclave}/status", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert "sent twice" in client.get(PATH).text
    # the same stale page, sent again as a new form (another tab): refused, nothing changed
    again = {**body, "nonce": "another-tab", "reason": "Also broken?"}
    stale = client.post(f"{PATH}/{autoclave}/status", data=again)
    assert stale.status_code == 409
    assert "already out of service" in field_error(stale.text, f"reason-{autoclave}")
    assert sterilizer_row(database, autoclave).status_reason == "Chamber pressure alarm"
    with database.session(write=False) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sterilizer.status")
        ).all()
    assert len(entries) == 1


def test_admin_records_make_model_serial_and_bi_cadence_on_the_page(
    client: TestClient[Litestar], admin: str, autoclave: str, database: Database
) -> None:
    added = form_post(
        client, PATH, "add-sterilizer-form", code="AC-C", name="Autoclave C",
        kind="steam_gravity", manufacturer="Tuttnauer", model="Elara 11",
        serial_number="SN-77", bi_frequency="daily",
    )  # fmt: skip
    assert added.status_code == 303
    row = table_row(client.get(PATH).text, "AC-C")
    assert "Tuttnauer Elara 11" in row and "S/N SN-77" in row and "Daily" in row
    changed = form_post(
        client, PATH, f"details-{autoclave}-form", name="Autoclave A",
        manufacturer="Midmark", model="M11", serial_number="SN-1", bi_frequency="every_load",
    )  # fmt: skip
    assert changed.status_code == 303
    stored = sterilizer_row(database, autoclave)
    assert (stored.manufacturer, stored.model, stored.serial_number, stored.bi_frequency) == (
        "Midmark", "M11", "SN-1", "every_load"
    )  # fmt: skip
    assert "Every load" in table_row(client.get(PATH).text, autoclave)


def test_a_serial_number_taken_by_another_sterilizer_is_shown_at_its_field(
    client: TestClient[Litestar], admin: str, autoclave: str, database: Database
) -> None:
    form_post(client, PATH, "add-sterilizer-form", code="AC-D", name="Autoclave D",
              kind="dry_heat", serial_number="SN-5", bi_frequency="weekly")  # fmt: skip
    refused = form_post(
        client, PATH, f"details-{autoclave}-form", name="Autoclave A", manufacturer="X",
        model="", serial_number="SN-5", bi_frequency="weekly",
    )  # fmt: skip
    assert refused.status_code == 409
    assert "AC-D" in field_error(refused.text, f"serial_number-{autoclave}")
    assert input_value(refused.text, f"manufacturer-{autoclave}") == "X"
    stored = sterilizer_row(database, autoclave)
    assert stored.serial_number is None and stored.manufacturer is None


def test_the_sterilizer_page_shows_requalification_progress_and_refuses_early_return(
    client: TestClient[Litestar], admin: str, users: UserFactory
) -> None:
    from tests.sterilization_factories import Sterilization

    steri = Sterilization(client, users)
    ster = steri.sterilizer(code="AC-R")
    steri.bi(steri.run("AC-R", bi_lot="L-1")["id"], "positive")
    for n in range(2):
        steri.bi(steri.run("AC-R", cycle_type="bi_test", bi_lot=f"R-{n}")["id"], "negative")
    row = table_row(client.get(PATH).text, ster["code"])
    assert "requalifying" in row and "2 of 3 BI tests" in row
    refused = form_post(client, PATH, "status-AC-R-form", reason="looks fine now")
    assert refused.status_code == 409 and "1 more consecutive bi_test" in refused.text
