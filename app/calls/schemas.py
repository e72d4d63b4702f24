from pydantic import BaseModel, Field


class IceServer(BaseModel):
    """One RTCIceServer, as RTCPeerConnection takes it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServers(BaseModel):
    ice_servers: list[IceServer] = Field(serialization_alias="iceServers")
    ttl_seconds: int | None = Field(
        default=None, description="How long the TURN credentials hold (none: no TURN entry)."
    )
