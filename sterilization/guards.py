"""Who may do what in sterilization (SPEC section 3).

Everyone signed in reads the record. MAs (and admins) do everything on packs, cycles and
indicator results; adding sterilizers, changing their status, configuring cycle types and
resolving recalls are administrator decisions (`kernel.auth.guards.admin_only`). The
sterilizers page is for MAs and auditors to read; the compliance page is the auditor's.
Auditors and purchasing never write here.
"""

from __future__ import annotations

from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser

ma_or_admin = requires_role(Role.MA)
sterilizer_readers = requires_role(Role.MA, Role.AUDITOR)
auditor_or_admin = requires_role(Role.AUDITOR)


def can_act(me: CurrentUser) -> bool:
    """Whether a page shows this user the pack and cycle forms."""
    return me.role in (Role.MA, Role.ADMIN)
