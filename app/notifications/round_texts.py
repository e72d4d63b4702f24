"""What a round's people are told when it changes (`round_changed`), when they are added
to it (`round_added`) and before a meeting (`round_reminder`), in English, Spanish and
French. Used by content.py, which renders every text: only the keys of its allow-list
reach these templates.

A round is "a round" (en), "una sesión clínica" (es), "un staff" (fr); one of its meetings
"a meeting", "una sesión", "une séance". Every meeting is the reader's, one way in every
text (wording.meeting): its day written in her language (Babel, from the Unicode CLDR) and
its wall time in her zone, named once at the end ("Times are in your time zone
(Asia/Tokyo)")."""

from typing import Any

from app.notifications.wording import day, local, meeting, meeting_for, pick

ROUND_KINDS = ("round_changed", "round_added", "round_reminder")
SPANS = ("occurrence", "moved_to", "next", "until")  # [start, end], ISO 8601
LISTS = ("before", "after")  # lists of spans

_MOVED = {
    "en": "Round moved: {title}, {day}",
    "es": "Sesión movida: {title}, {day}",
    "fr": "Séance déplacée : {title}, {day}",
}
_ADDED = {
    "en": "You were added to a round: {title}",
    "es": "Se le añadió a una sesión clínica: {title}",
    "fr": "Vous avez été ajouté(e) à un staff : {title}",
}
_SCHEDULE = {
    "en": "New schedule: {title}",
    "es": "Nuevo horario: {title}",
    "fr": "Nouvel horaire : {title}",
}
SUBJECT: dict[str, dict[str, str]] = {
    "round_changed": {
        "en": "Round changed: {title}",
        "es": "Cambio en la sesión clínica: {title}",
        "fr": "Staff modifié : {title}",
    },
    "round_changed.cancelled": {
        "en": "Round cancelled: {title}, {day}",
        "es": "Sesión cancelada: {title}, {day}",
        "fr": "Séance annulée : {title}, {day}",
    },
    "round_changed.moved": _MOVED,
    "round_changed.moved_back": _MOVED,
    "round_changed.schedule": _SCHEDULE,
    "round_changed.schedule_none": _SCHEDULE,
    "round_changed.deleted": {
        "en": "Round called off: {title}",
        "es": "Sesión clínica suprimida: {title}",
        "fr": "Staff supprimé : {title}",
    },
    "round_changed.taken_off": {
        "en": "Taken off a round: {title}",
        "es": "Se le retiró de una sesión clínica: {title}",
        "fr": "Retiré(e) d'un staff : {title}",
    },
    "round_added": _ADDED,
    "round_added.by": _ADDED,
    "round_reminder": {
        "en": "Round reminder: {title}",
        "es": "Recordatorio de sesión: {title}",
        "fr": "Rappel de séance : {title}",
    },
}

LINE: dict[str, dict[str, str]] = {
    "round_changed": {
        "en": "{title} changed.",
        "es": "La sesión clínica «{title}» cambió.",
        "fr": "Le staff « {title} » a changé.",
    },
    "round_changed.cancelled": {
        "en": "The meeting of {title} on {occurrence} is cancelled.",
        "es": "Se canceló la sesión de «{title}» del {occurrence}.",
        "fr": "La séance du staff « {title} » du {occurrence} est annulée.",
    },
    "round_changed.moved": {
        "en": "The meeting of {title} on {occurrence} is moved to {moved_to}.",
        "es": "La sesión de «{title}» del {occurrence} pasa al {moved_to}.",
        "fr": "La séance du staff « {title} » du {occurrence} est déplacée au {moved_to}.",
    },
    "round_changed.moved_back": {
        "en": "The meeting of {title} is back at its scheduled time: {moved_to}.",
        "es": "La sesión de «{title}» vuelve a su horario previsto: {moved_to}.",
        "fr": "La séance du staff « {title} » revient à son horaire prévu : {moved_to}.",
    },
    "round_changed.schedule": {
        "en": "{title} has a new schedule. Its next meetings: {after}.",
        "es": "La sesión clínica «{title}» tiene un nuevo horario. Sus próximas sesiones: {after}.",
        "fr": "Le staff « {title} » change d'horaire. Ses prochaines séances : {after}.",
    },
    "round_changed.schedule_none": {
        "en": "{title} has a new schedule, with no meeting left.",
        "es": "La sesión clínica «{title}» tiene un nuevo horario, sin más sesiones.",
        "fr": "Le staff « {title} » change d'horaire : il n'a plus de séance prévue.",
    },
    "round_changed.deleted": {
        "en": "{title} was removed from the programme and will not meet again. Its next "
        "meeting would have been {occurrence}.",
        "es": "La sesión clínica «{title}» se eliminó del programa y no volverá a reunirse. "
        "Su próxima sesión iba a ser el {occurrence}.",
        "fr": "Le staff « {title} » a été supprimé du programme et ne se réunira plus. Sa "
        "prochaine séance devait avoir lieu le {occurrence}.",
    },
    "round_changed.taken_off": {
        "en": "You were taken off {title} ({organization}): its meetings no longer include you.",
        "es": "Se le retiró de la sesión clínica «{title}» ({organization}): sus sesiones ya "
        "no le incluyen.",
        "fr": "Vous avez été retiré(e) du staff « {title} » ({organization}) : ses séances ne "
        "vous incluent plus.",
    },
    "round_added": {
        "en": "You were added to {title} ({organization}) as {role}.",
        "es": "Se le añadió a la sesión clínica «{title}» ({organization}) como {role}.",
        "fr": "Vous avez été ajouté(e) au staff « {title} » ({organization}) comme {role}.",
    },
    "round_added.by": {
        "en": "{inviter} added you to {title} ({organization}) as {role}.",
        "es": "{inviter} le añadió a la sesión clínica «{title}» ({organization}) como {role}.",
        "fr": "{inviter} vous a ajouté(e) au staff « {title} » ({organization}) comme {role}.",
    },
    # {start} is the meeting as every text says one: "Thursday, December 3, 2026, 20:30–21:30".
    "round_reminder": {
        "en": "The next meeting of {title} is on {start}. The invitation is attached.",
        "es": "La próxima sesión de «{title}» es el {start}. La invitación va adjunta.",
        "fr": "La prochaine séance du staff « {title} » a lieu le {start}. L'invitation est "
        "jointe.",
    },
}

# The paragraphs after the first, each only when its fact is there; in this order.
EXTRA: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "before",
        {
            "en": "Before the change: {before}.",
            "es": "Antes del cambio: {before}.",
            "fr": "Avant le changement : {before}.",
        },
    ),
    (
        "until",
        {
            "en": "The last meeting is {until}.",
            "es": "La última sesión es el {until}.",
            "fr": "La dernière séance a lieu le {until}.",
        },
    ),
    (
        "host_zone",
        {
            "en": "The round's time zone is now {host_zone}.",
            "es": "La zona horaria de la sesión clínica es ahora {host_zone}.",
            "fr": "Le fuseau horaire du staff est désormais {host_zone}.",
        },
    ),
    (
        "next",
        {
            "en": "Its next meeting is {next}.",
            "es": "Su próxima sesión es el {next}.",
            "fr": "Sa prochaine séance a lieu le {next}.",
        },
    ),
    # Said to be there, not quoted: it is free text (it may name a patient), and a text
    # leaving the service carries none; the round's page, behind a sign-in, shows it.
    (
        "reason_given",
        {
            "en": "A reason was given: it is on the round's page.",
            "es": "Se indicó un motivo: está en la página de la sesión clínica.",
            "fr": "Un motif a été indiqué : il figure sur la page du staff.",
        },
    ),
)
NO_MEETING = {
    "en": "No meeting is scheduled yet.",
    "es": "Aún no hay sesiones previstas.",
    "fr": "Aucune séance n'est encore prévue.",
}
ZONE = {
    "en": "Times are in your time zone ({zone}).",
    "es": "Las horas están en su zona horaria ({zone}).",
    "fr": "Les heures sont indiquées dans votre fuseau horaire ({zone}).",
}
# A participant's role in a round, inside a sentence.
ROLE = {
    "specialist": {"en": "a specialist", "es": "especialista", "fr": "spécialiste"},
    "interpreter": {"en": "an interpreter", "es": "intérprete", "fr": "interprète"},
    "local_team": {
        "en": "a member of the local team",
        "es": "miembro del equipo local",
        "fr": "membre de l'équipe locale",
    },
}


def variant(template: str, data: dict[str, Any]) -> str:
    """The text a round notification is written with: its change (`round_changed.moved`),
    or whether someone is named as having added the reader (`round_added.by`)."""
    if template == "round_changed":
        change = str(data.get("change") or "")
        if change == "schedule" and not data.get("after"):
            change = "schedule_none"
        key = f"{template}.{change}"
        return key if key in LINE else template
    if template == "round_added" and data.get("inviter"):
        return "round_added.by"
    return template


def _span(value: Any, zone: str, language: str) -> str:
    """A meeting given as [start, end], as the reader says it."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return "-"
    return meeting(value[0], value[1], zone, language)


def facts(out: dict[str, Any], zone: str, language: str, minutes: Any = None) -> None:
    """Write a round notification's instants in the reader's zone and language (in place);
    `minutes` is how long the reminded meeting (`start`) lasts."""
    if out.pop("reason", None):  # written before whether one was given was all it kept
        out["reason_given"] = True
    if "start" in out:
        out["start"] = meeting_for(out["start"], minutes, zone, language)
    if "occurrence" in out:
        first = out["occurrence"]
        start = local(first[0], zone) if isinstance(first, list | tuple) and first else None
        if start is not None:
            out["day"] = day(start, language)
    for k in SPANS:
        if k in out:
            out[k] = _span(out[k], zone, language)
    for k in LISTS:
        if k in out:
            spans = out[k] if isinstance(out[k], list) else []
            sep = " ; " if language == "fr" else "; "  # French spaces a semicolon too
            out[k] = sep.join(_span(s, zone, language) for s in spans) or "-"
    out["zone"] = zone


def prepare(out: dict[str, Any], language: str) -> None:
    """The participant's role as the sentence says it ("as a specialist")."""
    role = str(out.get("role") or "")
    if role in ROLE:
        out["role"] = pick(ROLE[role], language)


def extra(template: str, out: dict[str, Any], language: str) -> str:
    """The paragraphs after the first line, the reader's zone last."""
    parts = [
        pick(table, language).format_map(out)
        for key, table in EXTRA
        if key in out and out[key] not in ("", "-")
    ]
    if template.startswith("round_added") and "next" not in out:
        parts.append(pick(NO_MEETING, language))
    if template != "round_changed.taken_off":  # the one notice that gives no time
        parts.append(pick(ZONE, language).format_map(out))
    return "\n\n".join(parts)
