"""Who may do what with equipment and HLD (SPEC sections 3 and 12).

Everyone signed in reads the record. MAs (and admins) log runs, efficacy tests,
maintenance, HLD runs and uses: they are the ones at the machine. Adding equipment and
HLD devices and changing their service status is the administrator's, as for
sterilizers. Auditors and purchasing never write here.
"""

from __future__ import annotations

from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser

ma_or_admin = requires_role(Role.MA)
equipment_readers = requires_role(Role.MA, Role.AUDITOR)


def can_act(me: CurrentUser) -> bool:
    """Whether a page shows this user the run, test and maintenance forms."""
    return me.role in (Role.MA, Role.ADMIN)
