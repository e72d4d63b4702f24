from sqlalchemy import select

from app.core.db import new_id, sessionmaker
from app.core.principal import Principal, PrincipalKind, Role
from app.notifications import accounts
from app.notifications.kinds import Kind
from app.notifications.models import AccountToken, PushSubscription
from app.notifications.service import notify
from tests.matrix_support import Row, World

API = "/api/v1"
OWN = {
    "anonymous": 401,
    "admin": 404,
    "coordinator": 404,
    "clinician_a": 404,
    "clinician_b": 404,
    "specialist": 200,
    "interpreter": 404,
    "client_a": 403,
    "client_b": 403,
}
# A link's token is its own authority: whoever holds it, signed in or not.
ANYONE = dict.fromkeys(OWN, 201)


async def _notification(w: World):
    async with sessionmaker()() as s:
        n = await notify(s, w.users["specialist"].id, Kind.digest, data={"offers": 1}, link="/")
        await s.commit()
    assert n is not None
    return f"{API}/notifications/{n.id}/read", None


async def _subscription(w: World):
    async with sessionmaker()() as s:
        sub = PushSubscription(
            user_id=w.users["specialist"].id,
            endpoint="https://push.example.org/" + new_id("e"),
            endpoint_hash=new_id("h"),
            p256dh="BNc",
            auth="YXV0aA",
        )
        s.add(sub)
        await s.commit()
    return f"{API}/me/push-subscriptions/{sub.id}", None


async def _invitation(w: World):
    coord = Principal(
        id="usr_c", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None
    )
    async with sessionmaker()() as s:
        row = await accounts.invite(s, coord, f"{new_id('i')}@example.org", Role.specialist, None)
        await s.commit()
    return f"{API}/invitations/{accounts.token_of(row)}/accept", {
        "name": "Dr New",
        "password": "a-long-password-1",
    }


async def _pending_invitation(w: World):
    coord = Principal(
        id="usr_c", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None
    )
    async with sessionmaker()() as s:
        row = await accounts.invite(s, coord, f"{new_id('i')}@example.org", Role.specialist, None)
        await s.commit()
    return f"{API}/invitations/{row.id}", None


async def _reset(w: World):
    user = await w.f.make_user(Role.interpreter)
    async with sessionmaker()() as s:
        await accounts.request_reset(s, user.email)
        await s.commit()
        row = await s.scalar(select(AccountToken).where(AccountToken.user_id == user.id))
    assert row is not None
    return f"{API}/auth/password-reset/{accounts.token_of(row)}", {"password": "a-long-password-2"}


ROWS = [
    Row("POST", f"{API}/notifications/{{notification_id}}/read", _notification, OWN),
    Row(
        "DELETE",
        f"{API}/me/push-subscriptions/{{subscription_id}}",
        _subscription,
        {k: 204 if v == 200 else v for k, v in OWN.items()},
    ),
    Row("POST", f"{API}/invitations/{{token}}/accept", _invitation, ANYONE),
    # Taking an invitation back: who may send one (staff), no one else.
    Row(
        "DELETE",
        f"{API}/invitations/{{invitation_id}}",
        _pending_invitation,
        {**dict.fromkeys(OWN, 403), "anonymous": 401, "admin": 204, "coordinator": 204},
    ),
    Row("POST", f"{API}/auth/password-reset/{{token}}", _reset, dict.fromkeys(OWN, 204)),
]
