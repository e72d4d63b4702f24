"""The calendar invitation attached to a round reminder: one VEVENT, in UTC."""

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from app.notifications.models import Notification


def occurrence_ics(n: Notification) -> bytes:
    start = datetime.fromisoformat(n.data["start"])
    cal = Calendar()
    cal.add("prodid", "-//consult//rounds//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    ev = Event()
    ev.add("uid", f"{n.data.get('round_id', n.id)}-{start.strftime('%Y%m%dT%H%M%SZ')}@consult")
    ev.add("dtstamp", n.created_at)
    ev.add("dtstart", start)
    ev.add("dtend", start + timedelta(minutes=int(n.data.get("duration_minutes", 60))))
    ev.add("summary", n.data.get("title") or "Virtual round")
    ev.add("url", n.link)
    ev.add("description", n.link)
    cal.add_component(ev)
    return bytes(cal.to_ical())
