"""The hash-chained, append-only audit trail every write goes through."""

from kernel.audit.service import record, snapshot, verify_chain

__all__ = ["record", "snapshot", "verify_chain"]
