"""SteriStock: supplies and sterilization tracking for outpatient clinics.

This package is the shell: app factory, settings, database, auth, audit trail, labels,
CLI and shared templates. The `inventory` and `sterilization` packages own their domains.
"""

__version__ = "0.1.0"
