"""Uploads waiting for the import page's confirm button.

The page checks an upload (a dry run) and shows the report; the confirm button then
imports the same files. They wait here, under a random token, instead of in one app
worker's memory (another worker may serve the confirm) or a hidden form field (megabytes
sent back and forth). Only files whose dry run passed are kept; the confirm deletes the
row, so a second click cannot import twice; rows older than a day are swept away.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from kernel.db import UTCDateTime, utcnow


class CatalogueUpload(SQLModel, table=True):
    __tablename__ = "catalogue_uploads"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    username: str = Field(max_length=64)
    items_name: str | None = Field(default=None, max_length=200)
    items_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    par_levels_name: str | None = Field(default=None, max_length=200)
    par_levels_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
