"""E-mailing a purchase order to its supplier: the printable PDF attached, a short note in
plain text and HTML, through the notification outbox (sent by the one sender, retried
with backoff; the audit trail has it queued and sent)."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy.orm import Session

from inventory import purchasing
from inventory.lookups import get_supplier
from inventory.po_pdf import letterhead, render_po_pdf
from kernel.clock import ClinicTime
from kernel.notifications.mail import Attachment
from kernel.notifications.models import OutboundMail
from kernel.notifications.outbox import queue_mail
from kernel.problems import Conflict
from kernel.settings import Settings

SENDABLE = ("submitted", "partially_received")


def send_po(
    session: Session,
    settings: Settings,
    *,
    po_id: int,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
) -> OutboundMail:
    """Queue the order's e-mail to the supplier's address. Only a submitted order goes out
    (a draft is not an order yet, a received or cancelled one is over), and only to a
    supplier with an e-mail address."""
    po = purchasing.get_po(session, po_id)
    number = purchasing.po_number(po_id)
    if po.status not in SENDABLE:
        raise Conflict(
            f"{number} is {po.status.replace('_', ' ')}; submit it before sending it.",
            extra={"current_status": po.status},
        )
    supplier = get_supplier(session, po.supplier_id)
    if not supplier.email:
        raise Conflict(
            f"{supplier.name} has no e-mail address; add one to the supplier first.",
            field="email",
        )
    clinic = settings.clinic_name.strip() or "our clinic"
    pdf = render_po_pdf(session, po_id, letterhead=letterhead(settings), zone=zone, now=now)
    account = f" (account {supplier.account_number})" if supplier.account_number else ""
    text = (
        f"Hello {supplier.name},\n\nplease find attached purchase order {number} from "
        f"{clinic}{account}.\nPlease confirm the order and the expected delivery date by "
        "replying to this e-mail.\n\nThank you.\n"
    )
    body = (
        f"<p>Hello {html.escape(supplier.name)},</p><p>please find attached purchase order "
        f"<strong>{number}</strong> from {html.escape(clinic)}{html.escape(account)}.</p>"
        "<p>Please confirm the order and the expected delivery date by replying to this "
        "e-mail.</p><p>Thank you.</p>"
    )
    return queue_mail(
        session,
        settings,
        actor=actor,
        to=supplier.email,
        subject=f"Purchase order {number} from {clinic}",
        text=text,
        html=body,
        reference=number,
        attachment=Attachment(f"{number}.pdf", pdf, "application/pdf"),
        now=now,
    )
