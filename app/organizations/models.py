"""Facilities: the clinics and mission hospitals that submit cases."""

from typing import Any

from sqlalchemy import text
from sqlmodel import Field

from app.core.db import Timestamped, json_field, new_id


class Organization(Timestamped, table=True):
    __tablename__ = "organization"

    id: str = Field(default_factory=lambda: new_id("org"), primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    timezone: str = Field(max_length=64)
    languages: list[str] = json_field()
    # {"text": "...", "tags": ["ultrasound", "amoxicillin", ...]}: advice must fit what exists.
    local_resources: dict[str, Any] = json_field(default_factory=dict)
    # The ETag; bumped by a conditional UPDATE on every change, so of two edits made from
    # the same read (two clinicians keeping local_resources current) one cannot silently
    # undo the other.
    version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
