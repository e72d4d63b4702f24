from typing import Annotated, Any

from fastapi import Depends, Query, Response

from app.core.conditional import CONDITIONAL_READ, IfMatch, etag, with_etag
from app.core.deps import RoundsRead, RoundsWrite, SessionDep, UserPrincipal
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, lenient_query, make_router
from app.core.schemas import Rfc3339
from app.rounds import calendar, service
from app.rounds.models import RoundSeries
from app.rounds.schemas import (
    AgendaCreate,
    AgendaItemRead,
    AgendaUpdate,
    AttendanceCreate,
    AttendanceRead,
    CalendarTokenRead,
    OccurrenceCancel,
    OccurrenceMove,
    OccurrenceRead,
    RoundCreate,
    RoundParticipantCreate,
    RoundParticipantRead,
    RoundRead,
    RoundUpdate,
    SuggestedAgendaCase,
)

router = make_router(tags=["rounds"])
ICS = "text/calendar; charset=utf-8"
ICS_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "An iCalendar file"}
}
OCC = "/rounds/{round_id}/occurrences/{start}"


async def visible_round(round_id: str, session: SessionDep, p: RoundsRead) -> RoundSeries:
    return await service.get_series(session, p, round_id)


async def editable_round(
    round_id: str, session: SessionDep, p: RoundsWrite, if_match: IfMatch = None
) -> RoundSeries:
    return await service.get_editable(session, p, round_id, if_match)


VisibleRound = Annotated[RoundSeries, Depends(visible_round)]
EditableRound = Annotated[RoundSeries, Depends(editable_round)]


async def _tagged(session: SessionDep, response: Response, series: RoundSeries) -> object:
    response.headers["ETag"] = service.etag(series)
    return await service.host_named(session, series)


@router.post(
    "/rounds",
    response_model=RoundRead,
    status_code=201,
    summary="Schedule a recurring round",
    responses=problem_responses(401, 403, 409, 415, 422),
)
async def create_round(
    session: SessionDep, p: RoundsWrite, body: RoundCreate, response: Response
) -> object:
    return await _tagged(session, response, await service.create(session, p, body.model_dump()))


@router.get(
    "/rounds",
    response_model=Page[RoundRead],
    summary="Rounds you may see",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_rounds(
    session: SessionDep,
    p: RoundsRead,
    limit: Limit = 50,
    cursor: Cursor = None,
    organization_id: str | None = None,
    specialty: str | None = None,
) -> object:
    items, nxt = await service.list_series(session, p, limit, cursor, organization_id, specialty)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/rounds/{round_id}",
    response_model=RoundRead,
    summary="One round series (304 when If-None-Match names its current ETag)",
    responses=problem_responses(401, 403, 404),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_round(
    round_id: str, session: SessionDep, p: RoundsRead, response: Response
) -> object:
    series = await service.get_named(session, p, round_id)
    with_etag(response, etag(series["version"]))
    return series


@router.patch(
    "/rounds/{round_id}",
    response_model=RoundRead,
    summary="Edit a series; schedule edits (or any edit with effective_from) split a "
    "series that already began: the old one ends, the answer is the new one",
    responses=problem_responses(401, 403, 404, 409, 412, 415, 422),
)
async def update_round(
    session: SessionDep,
    p: RoundsWrite,
    series: EditableRound,
    body: RoundUpdate,
    response: Response,
) -> object:
    return await _tagged(
        session,
        response,
        await service.update(session, p, series, body.model_dump(exclude_unset=True)),
    )


@router.delete(
    "/rounds/{round_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a series (its past recommendations stay in case records)",
    responses=problem_responses(401, 403, 404, 412),
)
async def delete_round(session: SessionDep, p: RoundsWrite, series: EditableRound) -> Response:
    await service.delete_series(session, p, series)
    return Response(status_code=204)


@router.get(
    "/rounds/{round_id}/occurrences",
    response_model=Page[OccurrenceRead],
    summary="Occurrences in a window, in UTC and the series' wall time",
    responses=problem_responses(401, 403, 404, 422),
)
@autocommit
async def list_occurrences(
    session: SessionDep,
    series: VisibleRound,
    limit: Limit = 50,
    cursor: Cursor = None,
    from_: Annotated[
        Rfc3339 | None, Query(alias="from", description="RFC 3339; default now")
    ] = None,
    to: Annotated[Rfc3339 | None, Query(description="RFC 3339; default from + 90 days")] = None,
    include_cancelled: Annotated[bool, Query(description="List cancelled ones, flagged")] = False,
) -> object:
    items, nxt = await service.occurrences(
        session, series, from_, to, limit, cursor, include_cancelled
    )
    return {"items": items, "next_cursor": nxt}


@router.post(
    OCC + "/cancel",
    response_model=OccurrenceRead,
    status_code=200,
    summary="Cancel one occurrence (an EXDATE); the rest of the series is untouched",
    responses=problem_responses(401, 403, 404, 409, 412, 415, 422),
)
async def cancel_occurrence(
    session: SessionDep,
    p: RoundsWrite,
    series: EditableRound,
    start: str,
    body: OccurrenceCancel | None = None,
) -> object:
    return await service.cancel_occurrence(session, p, series, start, body.reason if body else None)


@router.patch(
    OCC,
    response_model=OccurrenceRead,
    summary="Move one occurrence (a RECURRENCE-ID override) to a new wall time",
    responses=problem_responses(401, 403, 404, 409, 412, 415, 422),
)
async def move_occurrence(
    session: SessionDep,
    p: RoundsWrite,
    series: EditableRound,
    start: str,
    body: OccurrenceMove,
) -> object:
    return await service.move_occurrence(
        session, p, series, start, body.model_dump(exclude_unset=True)
    )


@router.get(
    "/rounds/{round_id}/participants",
    response_model=Page[RoundParticipantRead],
    summary="Who takes part",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def list_round_participants(session: SessionDep, series: VisibleRound) -> object:
    return {"items": await service.list_participants(session, series), "next_cursor": None}


@router.post(
    "/rounds/{round_id}/participants",
    response_model=RoundParticipantRead,
    status_code=201,
    summary="Add a participant; a specialist's overlapping booking is 409 unless allow_conflict",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def add_round_participant(
    session: SessionDep, p: RoundsWrite, series: EditableRound, body: RoundParticipantCreate
) -> object:
    return await service.add_participant(session, p, series, body.model_dump())


@router.delete(
    "/rounds/{round_id}/participants/{user_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a participant (added by mistake); 409 while they present a case at a "
    "coming occurrence",
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def remove_round_participant(
    session: SessionDep, p: RoundsWrite, series: EditableRound, user_id: str
) -> Response:
    await service.remove_participant(session, p, series, user_id)
    return Response(status_code=204)


@router.post(
    OCC + "/agenda",
    response_model=AgendaItemRead,
    status_code=201,
    summary="Put a case of the host facility on an occurrence's agenda",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def add_agenda_item(
    session: SessionDep, p: RoundsWrite, series: EditableRound, start: str, body: AgendaCreate
) -> object:
    return await service.add_agenda_item(session, p, series, start, body.model_dump())


@router.get(
    OCC + "/agenda",
    response_model=Page[AgendaItemRead],
    summary="An occurrence's agenda",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def get_agenda(
    session: SessionDep, p: RoundsRead, series: VisibleRound, start: str
) -> object:
    return {"items": await service.agenda(session, p, series, start), "next_cursor": None}


@router.patch(
    OCC + "/agenda/{item_id}",
    response_model=AgendaItemRead,
    summary="Record the round's recommendation (it joins the case's record), or rearrange the "
    "item (If-Match: its version's ETag, 412 when stale)",
    responses=problem_responses(401, 403, 404, 412, 415, 422),
)
async def update_agenda_item(
    session: SessionDep,
    p: RoundsWrite,
    series: VisibleRound,
    start: str,
    item_id: str,
    body: AgendaUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> object:
    item = await service.update_agenda_item(
        session, p, series, start, item_id, body.model_dump(exclude_unset=True), if_match
    )
    with_etag(response, etag(item.version))
    return item


@router.delete(
    OCC + "/agenda/{item_id}",
    status_code=204,
    response_class=Response,
    summary="Take a case off an occurrence's agenda; 409 once the round's recommendation on "
    "it is recorded (it is part of the case's record)",
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def remove_agenda_item(
    session: SessionDep, p: RoundsWrite, series: EditableRound, start: str, item_id: str
) -> Response:
    await service.remove_agenda_item(session, p, series, start, item_id)
    return Response(status_code=204)


@router.get(
    OCC + "/suggested-agenda",
    response_model=Page[SuggestedAgendaCase],
    summary="The host's open cases in the series' specialty: unmatched first, then longest waiting",
    responses=problem_responses(401, 403, 404, 409),
)
@autocommit
async def suggested_agenda(
    session: SessionDep, p: RoundsRead, series: VisibleRound, start: str, limit: Limit = 20
) -> object:
    return {
        "items": await service.suggested_agenda(session, p, series, start, limit),
        "next_cursor": None,
    }


@router.post(
    OCC + "/attendance",
    response_model=AttendanceRead,
    status_code=201,
    summary="Record whether someone attended (201 first time, 200 when corrected)",
    responses=problem_responses(401, 403, 404, 409, 415, 422),
)
async def record_attendance(
    session: SessionDep,
    p: RoundsWrite,
    series: EditableRound,
    start: str,
    body: AttendanceCreate,
    response: Response,
) -> object:
    row, created = await service.record_attendance(session, p, series, start, body.model_dump())
    response.status_code = 201 if created else 200
    return row


@router.get(
    OCC + "/attendance",
    response_model=Page[AttendanceRead],
    summary="Attendance recorded for an occurrence",
    responses=problem_responses(401, 403, 404),
)
@autocommit
async def list_attendance(session: SessionDep, series: VisibleRound, start: str) -> object:
    return {"items": await service.attendance(session, series, start), "next_cursor": None}


@router.get(
    "/rounds/{round_id}/calendar.ics",
    response_class=Response,
    responses={**ICS_DOC, **problem_responses(401, 403, 404)},
    summary="The series as iCalendar",
)
@autocommit
@lenient_query
async def round_calendar(session: SessionDep, series: VisibleRound) -> Response:
    body = await calendar.series_ics(session, series)
    return Response(
        body, media_type=ICS, headers={"Content-Disposition": f'inline; filename="{series.id}.ics"'}
    )


@router.get(
    "/calendar/{feed_token}.ics",
    response_class=Response,
    responses={**ICS_DOC, **problem_responses(404)},
    summary="A person's feed of rounds and due follow-ups (the token in the path is the key)",
)
@autocommit
@lenient_query
async def personal_calendar(session: SessionDep, feed_token: str) -> Response:
    body = await calendar.personal_feed(session, feed_token)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})


@router.post(
    "/me/calendar-token",
    response_model=CalendarTokenRead,
    status_code=201,
    summary="Issue a new calendar feed token; the old one stops working",
    responses=problem_responses(401, 403, 409),
)
async def new_calendar_token(session: SessionDep, p: UserPrincipal) -> object:
    token = await calendar.rotate_token(session, p)
    return {"feed_token": token, "feed_path": f"/api/v1/calendar/{token}.ics"}
