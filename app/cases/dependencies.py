"""Loading a case once per request, already authorised (404 for anyone who may not see it)."""

from typing import Annotated

from fastapi import Depends

from app.audit import service as audit
from app.cases.access import CaseNotFound, View, snapshot_of, view_of
from app.cases.models import Case
from app.core.deps import CurrentPrincipal, SessionDep


async def get_visible_case(
    case_id: str, session: SessionDep, p: CurrentPrincipal
) -> tuple[Case, View]:
    found = await view_of(session, p, case_id)
    if found is None:
        # Kept in the audit log although the request itself rolls back.
        await audit.append_denied(p, "case.read", "case", case_id[:40])
        raise CaseNotFound("No such case.")
    return found


async def get_full_case(
    visible: Annotated[tuple[Case, View], Depends(get_visible_case)], p: CurrentPrincipal
) -> Case:
    case, view = visible
    if view != View.full:
        await audit.append_denied(p, "case.read_full", "case", case.id)
        raise CaseNotFound("No such case.")
    return case


async def get_full_case_snapshot(case_id: str, session: SessionDep, p: CurrentPrincipal) -> Case:
    found = await snapshot_of(session, p, case_id)
    if found is None or found[1] != View.full:
        await audit.append_denied(
            p, "case.read" if found is None else "case.read_full", "case", case_id[:40]
        )
        raise CaseNotFound("No such case.")
    return found[0]


VisibleCase = Annotated[tuple[Case, View], Depends(get_visible_case)]
FullCase = Annotated[Case, Depends(get_full_case)]
# The same case for routes that only read it (app.cases.access.snapshot_of): not tracked
# by the session, so nothing done to it is saved.
FullCaseSnapshot = Annotated[Case, Depends(get_full_case_snapshot)]
