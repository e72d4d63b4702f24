from app.cases.dependencies import FullCase
from app.core.deps import CasesRead, SessionDep
from app.core.errors import problem_responses
from app.core.routing import autocommit, make_router
from app.records import service
from app.records.schemas import CaseRecord

router = make_router(tags=["cases"])


@router.get(
    "/cases/{case_id}/record",
    response_model=CaseRecord,
    summary="The case's story in time order: intake, offers and assignment, signed "
    "notes, round recommendations, follow-ups and outcomes, feedback",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def get_case_record(session: SessionDep, p: CasesRead, case: FullCase) -> object:
    return await service.case_record(session, p, case)
