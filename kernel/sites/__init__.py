"""Sites: one SteriStock for a clinic group, each site seeing only its own records.

`SiteScope` (the `sites` request dependency) is the one mechanism that scopes queries and
writes; `kernel.clock` counts days in a site's zone. How a domain makes a table
site-owned: docs/sites.md.
"""

from kernel.sites.models import MAIN, Site, UserSite
from kernel.sites.scope import SiteInfo, SiteScope

__all__ = ["MAIN", "Site", "SiteInfo", "SiteScope", "UserSite"]
