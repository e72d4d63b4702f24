from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RecordEntry(BaseModel):
    """One event in the case's story; `type` says which fields accompany it."""

    model_config = ConfigDict(extra="allow")

    at: datetime
    type: str


class CaseRecord(BaseModel):
    case_id: str
    status: str
    entries: list[RecordEntry]
