"""The kernel: what every SteriStock domain builds on, knowing none of them.

Settings, the database, auth and roles, the audit trail, problems, input fields, labels,
the clinic clock and periods, CSV export, and the web kit (page forms, templates, CSRF,
HTML error pages, static files). Domains register through `kernel.plugins.DomainPlugin`;
the import contract in pyproject.toml (`lint-imports`) keeps this package free of them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("steristock")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+source"
