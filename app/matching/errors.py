"""Matching's refusals, each rendered as problem+json with its own code."""

from app.core.errors import Conflict, NotFound, Unprocessable


class OfferNotFound(NotFound):
    """No such offer, or the caller may not see it."""


class OfferAlreadyTaken(Conflict):
    """Another specialist accepted this case first."""

    code = "offer-already-taken"


class OfferNotPending(Conflict):
    """The offer was already accepted, declined, withdrawn or has expired."""

    code = "offer-not-pending"


class AtCapacity(Conflict):
    """The specialist already has as many active cases as their profile allows."""

    code = "at-capacity"


class CaseNotOfferable(Conflict):
    """Only a submitted, offered or unmatched case can be offered."""

    code = "case-not-offerable"


class InvalidOfferTarget(Unprocessable):
    """A chosen specialist cannot be offered this case."""

    code = "invalid-offer-target"
