"""Demo data for this domain (filled in by the domain's issue)."""

from sqlalchemy.orm import Session


def load_demo_data(session: Session, *, actor: str) -> None:
    """Add this domain's demo data to a freshly migrated database."""
