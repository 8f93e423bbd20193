"""The sterilization pages, one module per page resource: the pack page a scanned label
opens (`packs`), the cycle log and its forms (`cycles`), the sterilizers (`sterilizers`)
the auditor's compliance page (`compliance`), a tray and its count sheet (`sets`: `/s/{code}`)
and a recall with the trays involved (`recalls`).

Every form post goes through `kernel.web.forms.submit_form`: a refused form comes back
with each message at the field the rule names, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from sterilization.pages import compliance, cycles, packs, recalls, records, sets, sterilizers

page_handlers: list[Any] = [
    *packs.page_handlers,
    *cycles.page_handlers,
    *records.page_handlers,
    *compliance.page_handlers,
    *sterilizers.page_handlers,
    *sets.page_handlers,
    *recalls.page_handlers,
]
