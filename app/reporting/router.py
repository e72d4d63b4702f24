from datetime import datetime
from typing import Annotated

from fastapi import Query

from app.core.deps import CasesRead, SessionDep
from app.core.errors import problem_responses
from app.core.routing import make_router
from app.core.schemas import Rfc3339
from app.reporting import service
from app.reporting.schemas import QualityMetrics

router = make_router(tags=["measures"])


@router.get(
    "/metrics/quality",
    response_model=QualityMetrics,
    response_model_by_alias=True,
    summary="The programme's quality measures over the cases submitted in a period",
    responses=problem_responses(401, 403, 404, 422),
)
async def quality_metrics(
    session: SessionDep,
    p: CasesRead,  # an API client needs cases:read; a person's role decides in the service
    organization_id: Annotated[
        str | None,
        Query(description="One facility (a clinician's own is the default and the only one)."),
    ] = None,
    specialty: str | None = None,
    from_: Annotated[
        Rfc3339 | None,
        Query(alias="from", description="Cases submitted at or after this time."),
    ] = None,
    to: Annotated[Rfc3339 | None, Query(description="Cases submitted before this time.")] = None,
) -> object:
    start: datetime | None = from_
    return await service.quality(
        session, p, organization_id=organization_id, specialty=specialty, start=start, end=to
    )
