"""Scanning across domains: `GET /api/v1/scan` (the object a code names) and the /scan
page (the page a code opens). A pack is sterilization's, a bin or GS1 box inventory's."""
