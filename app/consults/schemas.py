"""Request and response shapes of the consult room's store-and-forward path."""

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints, computed_field

from app.core.schemas import ReadModel, RequestBody, example

MessageBody = Annotated[str, StringConstraints(min_length=1, max_length=8000)]
ClientMsgId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class MessageCreate(RequestBody):
    model_config = example(
        {
            "body": "Photo of the left forearm attached; the rash is fading.",
            "client_msg_id": "m-7f3a2c",
        }
    )

    body: MessageBody
    # Chosen by the client (a UUID): a resend after a drop returns the stored message.
    client_msg_id: ClientMsgId


class MessageRead(ReadModel):
    id: str
    case_id: str
    seq: int
    sender_id: str
    sender_role: str
    body: str
    client_msg_id: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def updated_at(self) -> datetime:
        # Messages never change once stored.
        return self.created_at
