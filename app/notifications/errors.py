"""Errors of the notifications domain."""

from app.core.errors import AppError, Conflict, NotFound, Unprocessable


class UnknownLink(NotFound):
    """No invitation or reset link with this token."""

    code = "unknown-link"


class LinkExpired(AppError):
    """The link was used already, or its time ran out: ask for a new one."""

    status, code, title = 410, "link-expired", "Link used or expired"


class InvalidCode(Unprocessable):
    """The phone verification code is wrong, expired or tried too often."""

    code = "invalid-code"


class NoSmsGateway(Conflict):
    """This deployment has no SMS gateway (SMS_GATEWAY_URL), so phones cannot be verified."""

    code = "no-sms-gateway"


class InvitationWaiting(Conflict):
    """An invitation to this address that the caller may not take back is still waiting."""

    code = "invitation-waiting"
