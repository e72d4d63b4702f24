"""What an email, SMS or push says: the minimum necessary, in the reader's language.

Only the facts a notification's `data` carries reach the text: kind, specialty, urgency and
the facility's country (each by its name in the reader's language, never its code), a
deadline, counts, and a link under PUBLIC_URL that needs a sign-in. An invitation also
names who sent it, the facility and the role. No patient reference, no clinical text
(question, summary, notes, follow-up descriptions, messages) is ever rendered, whatever a
caller puts in `data`."""

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, select_autoescape

from app.core.config import get_settings
from app.notifications import round_texts
from app.notifications.kinds import AccountMail
from app.notifications.labels import (
    a_case_of,
    country_name,
    role_name,
    specialty_name,
    urgency_name,
)
from app.notifications.wording import local, pick

# The only keys a text may show; anything else in `data` is ignored.
SAFE_KEYS = (
    "specialty",
    "urgency",
    "country",
    "deadline",
    "count",
    "role",
    "start",
    "title",
    "offers",
    "follow_ups",
    "unread",
    "unmatched",
    "overdue",
    "stage",
    "inviter",
    "organization",
    # A round's change (round_texts.py): the meetings concerned, and whether a reason was
    # given ("reason" too, as notifications written before kept it: never shown).
    "occurrence",
    "moved_to",
    "before",
    "after",
    "until",
    "next",
    "host_zone",
    "reason_given",
    "reason",
)

SUBJECT: dict[str, dict[str, str]] = {
    "offer": {
        "en": "New consult offer: {specialty}, {urgency} ({country})",
        "es": "Nueva oferta de consulta: {specialty}, {urgency} ({country})",
        "fr": "Nouvelle demande d'avis : {specialty}, {urgency} ({country})",
    },
    "offer_expiring": {
        "en": "Offer expiring soon: {specialty}, {urgency}",
        "es": "La oferta vence pronto: {specialty}, {urgency}",
        "fr": "L'offre expire bientôt : {specialty}, {urgency}",
    },
    # The urgency follows a feminine noun in Spanish and French (consulta, demande), as the
    # console's labels do: "Consulta sin especialista: Dermatología, urgente".
    "case_unmatched": {
        "en": "Case without a specialist: {specialty}, {urgency} ({country})",
        "es": "Consulta sin especialista: {specialty}, {urgency} ({country})",
        "fr": "Demande d'avis sans spécialiste : {specialty}, {urgency} ({country})",
    },
    "case_overdue": {
        "en": "Case past its deadline: {specialty}, {urgency} ({country})",
        "es": "Consulta vencida: {specialty}, {urgency} ({country})",
        "fr": "Demande d'avis en retard : {specialty}, {urgency} ({country})",
    },
    "note_signed": {
        "en": "A consult note was signed ({specialty})",
        "es": "Se firmó una nota de consulta ({specialty})",
        "fr": "Une note d'avis a été signée ({specialty})",
    },
    "case_added": {
        "en": "You were added to a case: {specialty}, {urgency} ({country})",
        "es": "Se le añadió a una consulta: {specialty}, {urgency} ({country})",
        "fr": "Vous avez été ajouté(e) à une demande d'avis : {specialty}, {urgency} ({country})",
    },
    "followup_assigned": {
        "en": "A follow-up is yours to do",
        "es": "Un seguimiento queda a su cargo",
        "fr": "Un suivi vous est confié",
    },
    "followup_due": {
        "en": "A follow-up is due",
        "es": "Hay un seguimiento pendiente",
        "fr": "Un suivi est dû",
    },
    "followup_overdue": {
        "en": "A follow-up is overdue",
        "es": "Un seguimiento está vencido",
        "fr": "Un suivi est en retard",
    },
    "messages": {
        "en": "{count} new message(s) in a {specialty} case",
        "es": "{count} mensaje(s) nuevo(s) en un caso de {specialty}",
        "fr": "{count} nouveau(x) message(s) dans un cas de {specialty}",
    },
    "digest": {
        "en": "Your daily summary",
        "es": "Su resumen diario",
        "fr": "Votre résumé du jour",
    },
    "invitation": {
        "en": "Invitation to the consult programme",
        "es": "Invitación al programa de consultas",
        "fr": "Invitation au programme d'avis",
    },
    "password_reset": {
        "en": "Reset your password",
        "es": "Restablecer su contraseña",
        "fr": "Réinitialiser votre mot de passe",
    },
    **round_texts.SUBJECT,
}

# {a_case} is "an urgent case", "un caso urgente", "un cas urgent" (never at a sentence's
# start). The country follows in brackets: no article before it, so "a facility (United
# States)" and "d'un centre (Argentine)" read right whatever the country's name.
LINE: dict[str, dict[str, str]] = {
    "offer": {
        "en": "You are offered {a_case} in {specialty} from a facility ({country}). "
        "Please accept or decline by {deadline}.",
        "es": "Se le ofrece {a_case} de {specialty} de un centro ({country}). "
        "Acepte o rechace antes de {deadline}.",
        "fr": "On vous propose {a_case} en {specialty} d'un centre ({country}). "
        "Merci d'accepter ou de refuser avant {deadline}.",
    },
    "offer_expiring": {
        "en": "The offer of {a_case} in {specialty} expires at {deadline}.",
        "es": "La oferta de {a_case} de {specialty} vence a las {deadline}.",
        "fr": "L'offre pour {a_case} en {specialty} expire à {deadline}.",
    },
    "case_unmatched": {
        "en": "There is still no specialist for {a_case} in {specialty} from a facility "
        "({country}); its deadline is {deadline}.",
        "es": "Aún no hay especialista para {a_case} de {specialty} de un centro "
        "({country}); vence el {deadline}.",
        "fr": "Il n'y a toujours pas de spécialiste pour {a_case} en {specialty} d'un "
        "centre ({country}) ; échéance {deadline}.",
    },
    "case_overdue": {
        "en": "The deadline ({deadline}) of {a_case} in {specialty} from a facility "
        "({country}) passed without a signed note.",
        "es": "Venció el plazo ({deadline}) de {a_case} de {specialty} de un centro "
        "({country}) sin nota firmada.",
        "fr": "Le délai ({deadline}) pour {a_case} en {specialty} d'un centre ({country}) "
        "est dépassé sans note signée.",
    },
    "note_signed": {
        "en": "The specialist signed a consult note. Please read and acknowledge it.",
        "es": "El especialista firmó una nota de consulta. Léala y confirme su lectura.",
        "fr": "Le spécialiste a signé une note d'avis. Merci de la lire et d'en accuser réception.",
    },
    "case_added": {
        "en": "You were added as {role} to {a_case} in {specialty} from a facility "
        "({country}); its deadline is {deadline}. Open it to read the case and join its "
        "conversation.",
        "es": "Se le añadió como {role} a {a_case} de {specialty} de un centro ({country}); "
        "vence el {deadline}. Ábrala para leer el caso y unirse a la conversación.",
        "fr": "Vous avez été ajouté(e) comme {role} à {a_case} en {specialty} d'un centre "
        "({country}) ; échéance {deadline}. Ouvrez-la pour lire le cas et rejoindre "
        "l'échange.",
    },
    "followup_assigned": {
        "en": "A follow-up of a case was given to you; it is due {deadline}. Open it to see "
        "what is to be done.",
        "es": "Se le asignó un seguimiento de una consulta; vence el {deadline}. Ábralo para "
        "ver qué hay que hacer.",
        "fr": "Un suivi d'une demande d'avis vous a été confié ; il est dû le {deadline}. "
        "Ouvrez-le pour voir ce qui est à faire.",
    },
    "followup_due": {
        "en": "A follow-up assigned to you is due ({deadline}).",
        "es": "Un seguimiento asignado a usted vence ({deadline}).",
        "fr": "Un suivi qui vous est confié est dû ({deadline}).",
    },
    "followup_overdue": {
        "en": "A follow-up assigned to you was due {deadline} and is still open.",
        "es": "Un seguimiento asignado a usted vencía {deadline} y sigue abierto.",
        "fr": "Un suivi qui vous est confié était dû {deadline} et reste ouvert.",
    },
    "messages": {
        "en": "{count} new message(s) arrived in a {specialty} case while you were away.",
        "es": "Llegaron {count} mensaje(s) en un caso de {specialty} mientras no estaba.",
        "fr": "{count} message(s) sont arrivés dans un cas de {specialty} en votre absence.",
    },
    "digest": {
        "en": "Pending offers: {offers}. Follow-ups due: {follow_ups}. Unread "
        "notifications: {unread}. Unmatched cases: {unmatched}. Overdue cases: {overdue}.",
        "es": "Ofertas pendientes: {offers}. Seguimientos: {follow_ups}. Notificaciones "
        "sin leer: {unread}. Casos sin especialista: {unmatched}. Casos vencidos: {overdue}.",
        "fr": "Offres en attente : {offers}. Suivis dus : {follow_ups}. Notifications non "
        "lues : {unread}. Cas sans spécialiste : {unmatched}. Cas en retard : {overdue}.",
    },
    "invitation": {
        "en": "To accept, choose your password with the link below; it is valid until {deadline}.",
        "es": "Para aceptar, elija su contraseña con el enlace de abajo; es válido hasta "
        "{deadline}.",
        "fr": "Pour accepter, choisissez votre mot de passe avec le lien ci-dessous ; il est "
        "valable jusqu'au {deadline}.",
    },
    "password_reset": {
        "en": "Someone asked to reset your password. If it was you, use this link (valid "
        "until {deadline}); if not, ignore this email: your password stays as it is.",
        "es": "Alguien pidió restablecer su contraseña. Si fue usted, use este enlace "
        "(válido hasta {deadline}); si no, ignore este correo.",
        "fr": "Quelqu'un a demandé à réinitialiser votre mot de passe. Si c'était vous, "
        "utilisez ce lien (valable jusqu'au {deadline}) ; sinon, ignorez ce message.",
    },
    **round_texts.LINE,
}

OPEN = {
    "en": "Open (sign-in needed)",
    "es": "Abrir (requiere iniciar sesión)",
    "fr": "Ouvrir (connexion requise)",
}
FOOTER = {
    "en": "You receive this because of your notification preferences.",
    "es": "Recibe esto por sus preferencias de notificación.",
    "fr": "Vous recevez ceci selon vos préférences de notification.",
}

# Account emails go to someone who cannot sign in (not yet, or not with a forgotten
# password) and has no preferences (yet): their own link text, and no preferences footer.
ACCOUNT_OPEN: dict[str, dict[str, str]] = {
    AccountMail.invitation: {
        "en": "Accept the invitation",
        "es": "Aceptar la invitación",
        "fr": "Accepter l'invitation",
    },
    AccountMail.password_reset: {
        "en": "Reset your password",
        "es": "Restablecer su contraseña",
        "fr": "Réinitialiser votre mot de passe",
    },
}
ACCOUNT_FOOTER: dict[str, dict[str, str]] = {
    AccountMail.invitation: {
        "en": "If you were not expecting this invitation, you can ignore this email.",
        "es": "Si no esperaba esta invitación, puede ignorar este correo.",
        "fr": "Si vous n'attendiez pas cette invitation, vous pouvez ignorer ce message.",
    },
}

# An invitation's first sentence: who invited (when known), to which facility (when there
# is one), and as what. Built from parts so each fact is left out cleanly when missing.
INVITED = {
    "en": (
        "{inviter} invited you to join the consult programme",
        "You are invited to join the consult programme",
    ),
    "es": (
        "{inviter} le invitó a unirse al programa de consultas",
        "Se le invita a unirse al programa de consultas",
    ),
    "fr": (
        "{inviter} vous invite à rejoindre le programme d'avis",
        "Vous avez reçu une invitation à rejoindre le programme d'avis",
    ),
}
INVITED_AT = {
    "en": " at {organization}",
    "es": " en el centro {organization}",
    "fr": " pour l'établissement {organization}",
}
INVITED_AS = {"en": " as {role}.", "es": " como {role}.", "fr": ", en tant que {role}."}
STAGE = {
    "specialist_deactivated": {
        "en": "Its specialist's account was deactivated before she answered: the case is "
        "back on your queue to be offered again.",
        "es": "Se desactivó la cuenta de su especialista antes de responder: la consulta "
        "vuelve a su cola para ofrecerse de nuevo.",
        "fr": "Le compte de son spécialiste a été désactivé avant la réponse : la demande "
        "revient dans votre file pour être proposée à nouveau.",
    },
    "specialist_role_changed": {
        "en": "Its specialist is no longer one in the programme (her role was changed) before "
        "she answered: the case is back on your queue to be offered again.",
        "es": "Su especialista ya no lo es en el programa (se cambió su rol) antes de "
        "responder: la consulta vuelve a su cola para ofrecerse de nuevo.",
        "fr": "Son spécialiste ne l'est plus dans le programme (son rôle a changé) avant la "
        "réponse : la demande revient dans votre file pour être proposée à nouveau.",
    },
    "deadline_near": {
        "en": "Most of its time to respond has passed.",
        "es": "Ya pasó la mayor parte del plazo.",
        "fr": "La plus grande partie du délai est écoulée.",
    },
}

_html = Environment(autoescape=select_autoescape(default=True)).from_string(
    """<!doctype html><html lang="{{ lang }}"><body style="font-family:sans-serif">
<p>{{ line }}</p>{% for p in extras %}<p>{{ p }}</p>{% endfor %}
<p><a href="{{ link }}">{{ open }}</a></p>
{% if footer %}<p style="color:#666;font-size:small">{{ footer }}</p>{% endif %}</body></html>"""
)


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def _when(value: Any, zone: str) -> str:
    """A deadline: "2026-12-03 20:30 JST" (a meeting is said as round_texts says one)."""
    d = local(value, zone)
    return d.strftime("%Y-%m-%d %H:%M %Z") if d is not None else "-"


def facts(data: dict[str, Any], zone: str, language: str = "en") -> dict[str, Any]:
    out = _Facts({k: data[k] for k in SAFE_KEYS if k in data and data[k] is not None})
    if "deadline" in out:
        out["deadline"] = _when(out["deadline"], zone)
    # The data holds codes; the reader gets names.
    if "specialty" in out:
        out["specialty"] = specialty_name(str(out["specialty"]), language)
    if "country" in out:
        out["country"] = country_name(str(out["country"]), language)
    round_texts.facts(out, zone, language, data.get("duration_minutes"))
    urgency = str(out["urgency"]) if "urgency" in out else None
    out["a_case"] = a_case_of(urgency, language)
    if urgency is not None:
        out["urgency"] = urgency_name(urgency, language)
    return out


def subject(template: str, data: dict[str, Any], language: str, zone: str) -> str:
    template = round_texts.variant(template, data)
    return pick(SUBJECT[template], language).format_map(facts(data, zone, language))[:300]


def _role_in_sentence(role: str, language: str) -> str:
    """The role's name as a common noun: "a specialist", "especialista", "spécialiste"."""
    word = role_name(role, language).lower()
    if language not in ("es", "fr"):  # English (also the fallback) needs an article
        return ("an " if word[:1] in "aeiou" else "a ") + word
    return word


def _invited(f: dict[str, Any], language: str) -> str:
    """Who invited the reader, to which facility, as what; each part only when known."""
    by, anonymous = pick(INVITED, language)
    sentence = by if "inviter" in f else anonymous
    if "organization" in f:
        sentence += pick(INVITED_AT, language)
    if "role" in f:
        sentence += pick(INVITED_AS, language)
        f = _Facts({**f, "role": _role_in_sentence(str(f["role"]), language)})
    else:
        sentence += "."
    # One format over the whole template: braces in a name are never read as fields.
    return sentence.format_map(f)


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    short: str  # SMS and push body
    link: str
    # The language the texts are in (the one asked for, or English when they are not
    # written in it): an email's Content-Language and its HTML's lang say this one.
    language: str = "en"
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def render(template: str, data: dict[str, Any], link: str, language: str, zone: str) -> Rendered:
    # Settled first: every part (names, punctuation, the HTML's lang) in the one language
    # the message is written in, which travels with it to the channel.
    kind, template = template, round_texts.variant(template, data)
    language = language if language in LINE[template] else "en"
    f = facts(data, zone, language)
    if kind in round_texts.ROUND_KINDS:
        round_texts.prepare(f, language)
    if template == "case_added" and "role" in f:
        f["role"] = _role_in_sentence(str(f["role"]), language)
    line = pick(LINE[template], language).format_map(f)
    extra = pick(STAGE[f["stage"]], language) if f.get("stage") in STAGE else ""
    if template == AccountMail.invitation:
        line, extra = _invited(f, language), line
    if kind in round_texts.ROUND_KINDS:
        extra = round_texts.extra(template, f, language)
    subj = subject(kind, data, language, zone)
    if template in ACCOUNT_OPEN:
        open_ = pick(ACCOUNT_OPEN[template], language)
        footer = pick(ACCOUNT_FOOTER[template], language) if template in ACCOUNT_FOOTER else ""
    else:
        open_, footer = pick(OPEN, language), pick(FOOTER, language)
    colon = "\u00a0:" if language == "fr" else ":"  # French sets a space before a colon
    text = "\n\n".join(p for p in (line, extra, f"{open_}{colon} {link}", footer) if p)
    extras = extra.split("\n\n") if extra else []
    html = _html.render(
        lang=language, line=line, extras=extras, link=link, open=open_, footer=footer
    )
    return Rendered(subj, text + "\n", html, f"{subj} {link}", link, language)


def link(path: str) -> str:
    """A link people open; the page asks them to sign in."""
    return get_settings().public_url.rstrip("/") + path
