"""Matching, the public service: what the router and other domains call.

The rules live in the modules named after what they govern: `ranking` (candidates ranked in
SQL; its statements in `ranking_sql`, who was left out and why in `exclusions`),
`candidates` (the ranking as the API shows it), `offers` (who sees which offer, proposing a
case down its ranking or to chosen specialists, withdrawing), `answers` (a specialist
accepts or declines), `jobs` (offers expiring, new cases offered by themselves) and
`workload` (a specialist's open cases, which the specialist directory borrows).
"""

from app.matching.answers import accept, decline
from app.matching.candidates import candidates, may_see_candidates
from app.matching.errors import (
    AtCapacity,
    CaseNotOfferable,
    InvalidOfferTarget,
    OfferAlreadyTaken,
    OfferNotFound,
    OfferNotPending,
)
from app.matching.jobs import AUTO_OFFER_COUNT, auto_offer_new, expire_due
from app.matching.offers import (
    OFFERABLE,
    create_offers,
    list_offers,
    offer_next,
    read_offer,
    withdraw_pending,
)

__all__ = [
    "AUTO_OFFER_COUNT",
    "OFFERABLE",
    "AtCapacity",
    "CaseNotOfferable",
    "InvalidOfferTarget",
    "OfferAlreadyTaken",
    "OfferNotFound",
    "OfferNotPending",
    "accept",
    "auto_offer_new",
    "candidates",
    "create_offers",
    "decline",
    "expire_due",
    "list_offers",
    "may_see_candidates",
    "offer_next",
    "read_offer",
    "withdraw_pending",
]
