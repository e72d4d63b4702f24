from fastapi import Response

from app.calls import service
from app.calls.schemas import IceServers
from app.core.deps import CurrentPrincipal
from app.core.errors import problem_responses
from app.core.routing import make_router

router = make_router(tags=["calls"])


@router.get(
    "/rtc/ice-servers",
    response_model=IceServers,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    summary="ICE servers for a WebRTC call (TURN entries carry short-lived credentials)",
    responses=problem_responses(401),
)
async def ice_servers(p: CurrentPrincipal, response: Response) -> object:
    # Credentials are per caller and expire: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return service.ice_servers(p)
