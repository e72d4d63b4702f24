"""Notifications: the in-app list, preferences, devices, invitations and password resets."""

from typing import Annotated

from fastapi import Path, Response

from app.auth.schemas import UserRead
from app.core.conditional import CONDITIONAL_READ
from app.core.deps import AdminPrincipal, SessionDep, StaffPrincipal, UserPrincipal
from app.core.errors import problem_responses
from app.core.pagination import Cursor, Limit, Page
from app.core.routing import autocommit, make_router
from app.notifications import accounts, devices, preferences, sender, service
from app.notifications.models import DeliveryStatus
from app.notifications.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    NotificationDeliveryRead,
    NotificationRead,
    PasswordReset,
    PasswordResetRequest,
    PhoneSet,
    PhoneVerify,
    PreferencesRead,
    PreferencesUpdate,
    PushSubscriptionCreate,
    PushSubscriptionRead,
)

router = make_router(tags=["notifications"])
Token = Annotated[str, Path(min_length=20, max_length=100)]


@router.get(
    "/notifications",
    response_model=Page[NotificationRead],
    summary="Your notifications, newest first (?unread=true: only unread)",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_notifications(
    session: SessionDep,
    p: UserPrincipal,
    unread: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await service.list_for(session, p, unread, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationRead,
    summary="Mark one of your notifications read",
    responses=problem_responses(401, 403, 404),
)
async def read_notification(session: SessionDep, p: UserPrincipal, notification_id: str) -> object:
    return await service.mark_read(session, p, notification_id)


@router.post(
    "/notifications/read-all",
    summary="Mark all your notifications read",
    responses=problem_responses(401, 403),
)
async def read_all(session: SessionDep, p: UserPrincipal) -> dict[str, int]:
    return {"marked": await service.mark_all_read(session, p)}


@router.get(
    "/notification-deliveries",
    response_model=Page[NotificationDeliveryRead],
    summary="Deliveries by status (admin): failed ones, to see who was not reached",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_notification_deliveries(
    session: SessionDep,
    p: AdminPrincipal,
    status: DeliveryStatus = DeliveryStatus.failed,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    items, nxt = await sender.deliveries_by_status(session, status, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.get(
    "/me/notification-preferences",
    response_model=PreferencesRead,
    summary="Your channels per kind, quiet hours, zone and language",
    responses=problem_responses(401, 403),
    openapi_extra=CONDITIONAL_READ,
)
@autocommit
async def get_preferences(session: SessionDep, p: UserPrincipal) -> object:
    return await preferences.read(session, p.id)


@router.put(
    "/me/notification-preferences",
    response_model=PreferencesRead,
    summary="Replace your notification preferences",
    responses=problem_responses(401, 403, 422),
)
async def put_preferences(session: SessionDep, p: UserPrincipal, body: PreferencesUpdate) -> object:
    quiet = (body.quiet_hours.start, body.quiet_hours.end) if body.quiet_hours else None
    return await preferences.replace(
        session, p.id, body.channels, quiet, body.timezone, body.language
    )


@router.post(
    "/me/push-subscriptions",
    response_model=PushSubscriptionRead,
    status_code=201,
    summary="Register this browser or phone for Web Push",
    responses=problem_responses(401, 403, 422),
)
async def add_push_subscription(
    session: SessionDep, p: UserPrincipal, body: PushSubscriptionCreate
) -> object:
    return await devices.subscribe(session, p, body.endpoint, body.keys.p256dh, body.keys.auth)


@router.delete(
    "/me/push-subscriptions/{subscription_id}",
    status_code=204,
    summary="Stop pushes to one browser or phone",
    responses=problem_responses(401, 403, 404),
)
async def delete_push_subscription(
    session: SessionDep, p: UserPrincipal, subscription_id: str
) -> Response:
    await devices.unsubscribe(session, p, subscription_id)
    return Response(status_code=204)


@router.put(
    "/me/phone",
    response_model=PreferencesRead,
    summary="Set your phone (E.164); a code is sent to it by SMS",
    responses=problem_responses(401, 403, 409, 422),
)
async def set_phone(session: SessionDep, p: UserPrincipal, body: PhoneSet) -> object:
    await devices.set_phone(session, p, body.phone)
    return await preferences.read(session, p.id)


@router.post(
    "/me/phone/verify",
    response_model=PreferencesRead,
    summary="Verify your phone with the code it received",
    responses=problem_responses(401, 403, 422),
)
async def verify_phone(session: SessionDep, p: UserPrincipal, body: PhoneVerify) -> object:
    await devices.verify_phone(session, p, body.code)
    return await preferences.read(session, p.id)


@router.post(
    "/invitations",
    tags=["accounts"],
    response_model=InvitationRead,
    status_code=201,
    summary="Invite a specialist, interpreter or clinician by email (single-use link)",
    responses=problem_responses(401, 403, 409, 422),
)
async def invite(session: SessionDep, p: StaffPrincipal, body: InvitationCreate) -> object:
    return await accounts.invite(session, p, str(body.email), body.role, body.organization_id)


@router.get(
    "/invitations",
    tags=["accounts"],
    response_model=Page[InvitationRead],
    summary="Invitations still waiting for an answer, newest first (coordinators and admins)",
    responses=problem_responses(401, 403),
)
@autocommit
async def list_invitations(
    session: SessionDep, p: StaffPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> object:
    items, nxt = await accounts.pending_invitations(session, p, limit, cursor)
    return {"items": items, "next_cursor": nxt}


@router.delete(
    "/invitations/{invitation_id}",
    tags=["accounts"],
    status_code=204,
    summary="Take back an invitation not yet answered: its link stops working",
    responses=problem_responses(401, 403, 404),
)
async def withdraw_invitation(session: SessionDep, p: StaffPrincipal, invitation_id: str) -> None:
    await accounts.withdraw(session, p, invitation_id)


@router.post(
    "/invitations/{token}/accept",
    tags=["accounts"],
    response_model=UserRead,
    status_code=201,
    summary="Accept an invitation: your name and password create your account",
    responses=problem_responses(404, 410, 422),
)
async def accept_invitation(session: SessionDep, token: Token, body: InvitationAccept) -> object:
    return await accounts.accept(session, token, body.name, body.password)


@router.post(
    "/auth/password-reset",
    tags=["accounts"],
    status_code=202,
    summary="Email a password-reset link (always 202: nobody learns whether an email exists)",
    responses=problem_responses(422),
)
async def request_reset(session: SessionDep, body: PasswordResetRequest) -> dict[str, str]:
    await accounts.request_reset(session, body.email)
    return {"status": "accepted"}


@router.post(
    "/auth/password-reset/{token}",
    tags=["accounts"],
    status_code=204,
    summary="Set a new password with a reset link (every session you had ends)",
    responses=problem_responses(404, 410, 422),
)
async def reset_password(session: SessionDep, token: Token, body: PasswordReset) -> Response:
    await accounts.reset(session, token, body.password)
    return Response(status_code=204)
