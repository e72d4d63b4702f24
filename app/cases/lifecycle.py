"""The case lifecycle, in one place. Every transition not listed here is a 409."""

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case, CaseStatus
from app.core.db import utcnow
from app.core.errors import InvalidTransition
from app.events.service import emit

S = CaseStatus
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.submitted: frozenset({S.offered, S.assigned, S.unmatched, S.cancelled}),
    S.offered: frozenset({S.offered, S.assigned, S.unmatched, S.cancelled}),
    # A coordinator can re-offer an unmatched case once someone new is available.
    S.unmatched: frozenset({S.offered, S.assigned, S.cancelled}),
    # Back to unmatched only when its specialist can no longer answer it (ONLY_BECAUSE below).
    S.assigned: frozenset({S.answered, S.cancelled, S.unmatched}),
    S.answered: frozenset({S.closed}),
    S.closed: frozenset(),
    S.cancelled: frozenset(),
}

# Transitions allowed only for one of these reasons (`because`), never at anyone's wish: a
# case is taken back from its specialist only when she was deactivated (by an admin or a
# coordinator) before she answered (app/matching/departures.py); it then waits for a
# coordinator as any unmatched one.
SPECIALIST_DEACTIVATED = "specialist_deactivated"
SPECIALIST_ROLE_CHANGED = "specialist_role_changed"  # no longer a specialist (app.auth.leaving)
ONLY_BECAUSE: dict[tuple[CaseStatus, CaseStatus], frozenset[str]] = {
    (S.assigned, S.unmatched): frozenset({SPECIALIST_DEACTIVATED, SPECIALIST_ROLE_CHANGED}),
}

# Events partners and the live hub hear of (see the contract's event names).
EVENT_FOR: dict[CaseStatus, str] = {
    S.offered: "case.offered",
    S.assigned: "case.assigned",
    S.answered: "case.answered",
    S.unmatched: "case.unmatched",
    S.closed: "case.closed",
    S.cancelled: "case.cancelled",
}

OPEN_STATUSES = (S.submitted, S.offered, S.assigned, S.answered, S.unmatched)


def can_transition(current: str, to: CaseStatus, because: str | None = None) -> bool:
    now = CaseStatus(current)
    if to not in TRANSITIONS[now]:
        return False
    reasons = ONLY_BECAUSE.get((now, to))
    return reasons is None or because in reasons


class CaseFacts(Protocol):
    """What a transition's event names: a Case, or the row an UPDATE returned."""

    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def submitted_by_id(self) -> str | None: ...
    @property
    def assigned_specialist_id(self) -> str | None: ...


def audience(case: CaseFacts) -> list[str]:
    """Users who hear of this case's changes directly (besides its facility)."""
    people = [case.submitted_by_id, case.assigned_specialist_id]
    return [p for p in people if p]


# The time each status is stamped with, besides `updated_at`.
STAMP: dict[CaseStatus, str] = {
    S.assigned: "assigned_at",
    S.answered: "answered_at",
    S.closed: "closed_at",
    S.cancelled: "cancelled_at",
}


def columns_written(to: CaseStatus) -> tuple[str, ...]:
    """What a transition to `to` writes besides `status` and `version` (one more): the
    times, all `now`. A fast-lane UPDATE that moves a case sets these and nothing less."""
    stamp = STAMP.get(to)
    return ("updated_at", stamp) if stamp else ("updated_at",)


async def hold(session: AsyncSession, case: Case) -> None:
    """Read the case again and hold its row to the commit, before deciding a change by its
    status or version: a change made at the same moment (a cancellation while the note is
    signed or the case closed, an accept) waits, and this one then sees what it wrote. The
    writes people make by hand take it; on SQLite writers already run one at a time."""
    # FOR NO KEY UPDATE: changes to the case wait for each other (an accept's UPDATE takes
    # the same lock), while rows that only refer to it (a message, an event) go on.
    await session.refresh(case, with_for_update={"key_share": True})


async def transition(
    session: AsyncSession,
    case: Case,
    to: CaseStatus,
    actor_id: str | None = None,
    *,
    because: str | None = None,
    **payload: Any,
) -> None:
    """Move the case, stamp the time, and write the event in the same transaction.
    `because` names why, for the transitions that need a reason (ONLY_BECAUSE); it is kept
    in the event's payload as `status_reason`, a code a partner may read (a cancellation's
    `reason` is her free text, never sent out)."""
    _allowed(case.status, to, because)
    previous = case.status
    now = utcnow()
    case.status = to.value
    case.version += 1
    for name in columns_written(to):
        setattr(case, name, now)
    await _announce(session, case, to, previous, actor_id, because=because, **payload)


async def moved(
    session: AsyncSession,
    case: CaseFacts,
    to: CaseStatus,
    previous: str,
    actor_id: str | None = None,
    *,
    because: str | None = None,
    **payload: Any,
) -> None:
    """A transition a fast-lane UPDATE already wrote (`columns_written`, under a WHERE
    that held the case at `previous`): checked against the same rules, and its event
    written as `transition` writes it. An offer's accept moves the case this way, in the
    UPDATE that decides who wins it, rather than writing the row twice."""
    _allowed(previous, to, because)
    await _announce(session, case, to, previous, actor_id, because=because, **payload)


def _allowed(current: str, to: CaseStatus, because: str | None) -> None:
    if not can_transition(current, to, because):
        raise InvalidTransition(
            f"A case that is {current} cannot become {to.value}.",
            current_status=current,
            requested_status=to.value,
        )


async def _announce(
    session: AsyncSession,
    case: CaseFacts,
    to: CaseStatus,
    previous: str,
    actor_id: str | None,
    *,
    because: str | None = None,
    **payload: Any,
) -> None:
    if because is not None:
        payload["status_reason"] = because
    await emit(
        session,
        EVENT_FOR[to],
        "case",
        case.id,
        organization_id=case.organization_id,
        audience=audience(case),
        payload={
            "case_id": case.id,
            "status": to.value,
            "previous_status": previous,
            "actor_id": actor_id,
            **payload,
        },
    )
