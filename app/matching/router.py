from typing import Annotated, Literal

from fastapi import Query

from app.cases.dependencies import VisibleCase
from app.core.conditional import CONDITIONAL_READ
from app.core.deps import CasesRead, CasesWrite, CurrentPrincipal, SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router
from app.matching import service
from app.matching.schemas import CandidateList, OfferBatch, OfferCreate, OfferDecline, OfferRead

router = make_router(tags=["matching"])

OfferStatusQuery = Literal["pending", "accepted", "declined", "expired", "withdrawn"]


@router.get(
    "/cases/{case_id}/candidates",
    response_model=CandidateList,
    summary="Specialists ranked for this case, each score with its parts",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def list_candidates(
    session: SessionDep,
    p: CasesRead,
    visible: VisibleCase,
    explain: Annotated[bool, Query(description="Also list who was excluded, and why")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> object:
    return await service.candidates(session, p, visible[0], limit=limit, explain=explain)


@router.post(
    "/cases/{case_id}/offers",
    response_model=OfferBatch,
    status_code=201,
    summary="Offer the case: the top of the ranking, or chosen specialists",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_offers(
    session: SessionDep, p: CasesWrite, visible: VisibleCase, body: OfferCreate
) -> object:
    return await service.create_offers(
        session,
        p,
        visible[0].id,
        auto=body.auto,
        count=body.count,
        specialist_ids=body.specialist_ids,
    )


@router.get(
    "/offers",
    response_model=Page[OfferRead],
    summary="Offers: a specialist's inbox; staff see all, a facility its cases'",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_offers(
    session: SessionDep,
    p: CasesRead,
    status: OfferStatusQuery | None = None,
    case_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.list_offers(
        session, p, status=status, case_id=case_id, limit=limit, cursor=cursor
    )
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/offers/{offer_id}",
    response_model=OfferRead,
    summary="One offer",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_offer(session: SessionDep, p: CasesRead, offer_id: str) -> object:
    return await service.read_offer(session, p, offer_id)


@router.post(
    "/offers/{offer_id}/accept",
    response_model=OfferRead,
    summary="Accept an offer: the first accept of a case wins, later ones are 409",
    responses=problem_responses(401, 403, 404, 409),
)
async def accept_offer(session: SessionDep, p: CurrentPrincipal, offer_id: str) -> object:
    return await service.accept(session, p, offer_id)


@router.post(
    "/offers/{offer_id}/decline",
    response_model=OfferRead,
    summary="Decline an offer (the case goes to the next candidate)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decline_offer(
    session: SessionDep, p: CurrentPrincipal, offer_id: str, body: OfferDecline
) -> object:
    return await service.decline(session, p, offer_id, body.reason)
