"""Access matrix rows for the rounds routes: each target is a series hosted by facility A.

The world's specialist and interpreter take no part in it, so they may not see it (404).
"""

from app.core.principal import Role
from tests.matrix_support import Row, World
from tests.rounds.support import API, make_round

R = f"{API}/rounds/{{round_id}}"
OCC = f"{R}/occurrences/{{start}}"
START = "2026-10-13T13:00:00Z"  # the second Tuesday of the default series, 09:00 New York

READ = {
    "anonymous": 401,
    "admin": 200,
    "coordinator": 200,
    "clinician_a": 200,
    "clinician_b": 404,
    "specialist": 404,
    "interpreter": 404,
    "client_a": 200,
    "client_b": 404,
}


def _edit(ok: int) -> dict[str, int]:
    return {**READ, "admin": ok, "coordinator": ok, "clinician_a": ok, "client_a": ok}


async def _round(w: World) -> str:
    return (await make_round(w.org_a.id)).id


def _url(suffix: str = "", body=None):
    async def setup(w: World):
        rid = await _round(w)
        b = body(w) if callable(body) else body
        if hasattr(b, "__await__"):
            b = await b
        return f"{API}/rounds/{rid}{suffix}", b

    return setup


async def _agenda_item(w: World):
    from app.core.db import sessionmaker
    from app.rounds.models import RoundAgendaItem
    from app.rounds.occurrences import parse_start

    rid = await _round(w)
    case = await w.f.make_case(w.org_a.id)
    async with sessionmaker()() as s:
        item = RoundAgendaItem(
            series_id=rid,
            occurrence_start=parse_start(START),
            case_id=case.id,
            presenter_id=w.users["clinician_a"].id,
        )
        s.add(item)
        await s.commit()
    return f"{API}/rounds/{rid}/occurrences/{START}/agenda/{item.id}", {
        "recommendation": "Topical steroid for two weeks, then review."
    }


async def _agenda_item_to_remove(w: World):
    url, _ = await _agenda_item(w)
    return url, None


async def _participant(w: World):
    spec = await w.f.make_user(Role.specialist)
    rnd = await make_round(w.org_a.id, participants=[(spec.id, "specialist")])
    return f"{API}/rounds/{rnd.id}/participants/{spec.id}", None


async def _agenda_body(w: World):
    case = await w.f.make_case(w.org_a.id)
    return {"case_id": case.id, "presenter_id": w.users["clinician_a"].id}


async def _participant_body(w: World):
    spec = await w.f.make_user(Role.specialist)
    return {"user_id": spec.id, "role": "specialist"}


async def _wrong_feed(w: World):
    return f"{API}/calendar/cal_not-a-real-token.ics", None


ROWS = [
    Row("GET", R, _url(), READ),
    Row("PATCH", R, _url(body={"title": "Renamed rounds"}), _edit(200)),
    Row("DELETE", R, _url(), _edit(204)),
    Row("GET", f"{R}/occurrences", _url("/occurrences?from=2026-10-01T00:00:00Z"), READ),
    Row("POST", f"{OCC}/cancel", _url(f"/occurrences/{START}/cancel"), _edit(200)),
    Row(
        "PATCH",
        OCC,
        _url(f"/occurrences/{START}", {"starts_at_local": "2026-10-14T09:00"}),
        _edit(200),
    ),
    Row("GET", f"{R}/participants", _url("/participants"), READ),
    Row("POST", f"{R}/participants", _url("/participants", _participant_body), _edit(201)),
    Row("DELETE", f"{R}/participants/{{user_id}}", _participant, _edit(204)),
    Row("POST", f"{OCC}/agenda", _url(f"/occurrences/{START}/agenda", _agenda_body), _edit(201)),
    Row("GET", f"{OCC}/agenda", _url(f"/occurrences/{START}/agenda"), READ),
    Row("PATCH", f"{OCC}/agenda/{{item_id}}", _agenda_item, _edit(200)),
    Row("DELETE", f"{OCC}/agenda/{{item_id}}", _agenda_item_to_remove, _edit(204)),
    Row("GET", f"{OCC}/suggested-agenda", _url(f"/occurrences/{START}/suggested-agenda"), READ),
    Row(
        "POST",
        f"{OCC}/attendance",
        _url(
            f"/occurrences/{START}/attendance",
            lambda w: {"user_id": w.users["clinician_a"].id, "attended": True},
        ),
        _edit(201),
    ),
    Row("GET", f"{OCC}/attendance", _url(f"/occurrences/{START}/attendance"), READ),
    Row("GET", f"{R}/calendar.ics", _url("/calendar.ics"), READ),
    # The feed is authenticated by its token alone: a wrong one is 404 for everybody.
    Row("GET", f"{API}/calendar/{{feed_token}}.ics", _wrong_feed, dict.fromkeys(READ, 404)),
]
