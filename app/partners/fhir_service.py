"""FHIR reads: load through the API's own visibility rules, audit, build the resource."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.cases.access import View, view_of
from app.cases.models import Case
from app.consults.models import Message
from app.core.clock import utcnow
from app.core.errors import BadRequest, NotFound
from app.core.principal import Principal
from app.partners import fhir
from app.rounds import service as rounds
from app.rounds.models import RoundParticipant


class FhirNotFound(NotFound):
    """No such FHIR resource, or the caller may not see it."""


async def visible_case(
    session: AsyncSession, p: Principal, case_id: str, full: bool = False
) -> tuple[Case, View]:
    """The rule of GET /cases/{id}: 404 (and a denied audit row) for anyone else."""
    found = await view_of(session, p, fhir.our_id(case_id))
    if found is None or (full and found[1] != View.full):
        await audit.append_denied(p, "case.read", "case", case_id[:40], detail="fhir")
        raise FhirNotFound("No such case.")
    return found


async def service_request(session: AsyncSession, p: Principal, case_id: str) -> dict[str, Any]:
    case, view = await visible_case(session, p, case_id)
    await audit.append(session, p, "case.read", "case", case.id, detail="fhir ServiceRequest")
    return fhir.service_request(case, view == View.full)


async def task(session: AsyncSession, p: Principal, case_id: str) -> dict[str, Any]:
    case, view = await visible_case(session, p, case_id)
    await audit.append(session, p, "case.read", "case", case.id, detail="fhir Task")
    return fhir.task(case, view == View.full)


async def communications(
    session: AsyncSession,
    p: Principal,
    based_on: str,
    count: int,
    after_seq: int,
    self_url: str,
    base: str,
) -> dict[str, Any]:
    """A case's messages as a searchset Bundle; messages need the full view of the case."""
    kind, _, ref = based_on.partition("/")
    if kind != "ServiceRequest" or not ref:
        raise BadRequest(
            "based-on must be ServiceRequest/{id}.",
            code="invalid-search",
            errors=[{"pointer": "#query/based-on", "detail": "expected ServiceRequest/{id}"}],
        )
    case, _ = await visible_case(session, p, ref, full=True)
    rows = list(
        (
            await session.scalars(
                select(Message)
                .where(col(Message.case_id) == case.id, col(Message.seq) > after_seq)
                .order_by(col(Message.seq))
                .limit(count + 1)
            )
        ).all()
    )
    more = len(rows) > count
    rows = rows[:count]
    nxt = None
    if more:
        nxt = (
            f"{base}/Communication?based-on=ServiceRequest/{fhir.fhir_id(case.id)}"
            f"&_count={count}&_after-seq={rows[-1].seq}"
        )
    await audit.append(session, p, "message.read", "case", case.id, detail="fhir Communication")
    return fhir.bundle(self_url, [fhir.communication(case, m) for m in rows], base, nxt)


async def appointment(session: AsyncSession, p: Principal, occurrence: str) -> dict[str, Any]:
    """One round occurrence, under the rounds' own visibility rule."""
    parsed = fhir.parse_occurrence_id(occurrence)
    if parsed is None:
        raise FhirNotFound("No such appointment.")
    series_id, start = parsed
    try:
        series = await rounds.get_series(session, p, series_id)
        original, exc = await rounds.resolve_occurrence(session, series, start.isoformat())
    except NotFound as e:
        raise FhirNotFound("No such appointment.") from e
    begins, minutes, cancelled = original, series.duration_minutes, False
    if exc is not None:
        cancelled = exc.cancelled
        begins = exc.moved_to or original
        minutes = exc.moved_duration_minutes or minutes
    people = list(
        (
            await session.scalars(
                select(RoundParticipant)
                .where(col(RoundParticipant.series_id) == series.id)
                .order_by(col(RoundParticipant.id))
            )
        ).all()
    )
    return fhir.appointment(
        series, original, begins, begins + timedelta(minutes=minutes), cancelled, people, utcnow()
    )
