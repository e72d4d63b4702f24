"""What the messages say in words: a specialty, an urgency and a country by their names in
the reader's language, never their codes (more in test_urgency_country.py); and an
invitation that reads as one: who invited, to which facility, the role in words, the link
and its expiry, and no footer about preferences the invitee cannot have."""

import re

import pytest
from sqlalchemy import select

from app.core.db import new_id, sessionmaker
from app.core.i18n import catalogue
from app.core.principal import Role
from app.notifications import accounts, content
from app.notifications.labels import role_name, specialty_name
from app.notifications.models import AccountToken
from app.specialists.vocabulary import SPECIALTIES
from tests.notifications.support import API, send_all, text_of
from tests.specialists.support import make_specialist

OFFER = {"specialty": "dermatology", "urgency": "urgent", "country": "AR"}
PREFERENCES = ("preferences", "preferencias", "préférences")
SIGN_IN = ("sign-in", "iniciar sesión", "connexion")


def _expiry(row: AccountToken) -> str:
    """The expiry as the email has always written it (UTC: an invitee has no zone yet)."""
    return content._when(row.expires_at, "UTC")


# Specialties ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "name"),
    [("en", "Dermatology"), ("es", "Dermatología"), ("fr", "Dermatologie")],
)
def test_a_subject_names_the_specialty_in_the_readers_language(language, name):
    for kind in ("offer", "offer_expiring", "case_unmatched", "case_overdue", "note_signed"):
        subj = content.subject(kind, OFFER, language, "UTC")
        assert name in subj and "dermatology" not in subj, (kind, subj)
    r = content.render("offer", OFFER, "https://x.org/offers/o1", language, "UTC")
    for text in (r.subject, r.text, r.html, r.short):
        assert name in text and "dermatology" not in text


def test_the_names_are_the_consoles_one_list():
    for language in ("en", "es", "fr"):
        names = catalogue(language)
        for code in SPECIALTIES:
            assert specialty_name(code, language) == names[f"specialty.{code}"]
        for role in Role:
            assert role_name(role.value, language) == names[f"role.{role.value}"]
    assert specialty_name("pediatrics", "fr") == "Pédiatrie"
    # A language the catalogue lacks reads English; an unknown code stays readable.
    assert specialty_name("dermatology", "sw") == "Dermatology"
    assert specialty_name("astrology", "es") == "astrology"


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        (
            "en",
            "New consult offer: Dermatology, urgent (Kenya)",
            "You are offered an urgent case in Dermatology from a facility (Kenya).",
        ),
        (
            "es",
            "Nueva oferta de consulta: Dermatología, urgente (Kenia)",
            "Se le ofrece un caso urgente de Dermatología de un centro (Kenia).",
        ),
        (
            "fr",
            "Nouvelle demande d'avis : Dermatologie, urgente (Kenya)",
            "On vous propose un cas urgent en Dermatologie d'un centre (Kenya).",
        ),
    ],
)
async def test_an_offer_emailed_in_each_language_names_specialty_urgency_and_country(
    client, factory, smtp, language, subject, body
):
    org = await factory.make_org(country="KE")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await make_specialist(factory, languages=[language])
    case = await factory.make_case(org.id, languages=[language], urgency="urgent")
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"auto": True, "count": 1},
        headers=factory.headers(clin),
    )
    assert r.status_code == 201, r.text
    assert await send_all() == 1
    [mail] = smtp.to(spec.email)
    # An encoded (non-ASCII) subject is folded onto the next line: unfolding leaves a space.
    assert mail["Subject"].strip() == subject
    assert "dermatology" not in text_of(mail)
    assert text_of(mail).startswith(body)
    # The in-app list reads the same subject.
    [n] = (await client.get(f"{API}/notifications", headers=factory.headers(spec))).json()["items"]
    assert n["subject"] == subject


# Invitations ------------------------------------------------------------------------------


async def _invited(client, factory, **body):
    coord = await factory.make_user(Role.coordinator, name="Dr Ana Quispe")
    # An address of its own: other tests, on other workers, invite people too.
    email = f"{new_id('inv')}@example.org".lower()
    r = await client.post(
        f"{API}/invitations",
        json={"email": email, "role": "specialist", **body},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    async with sessionmaker()() as s:
        row = await s.scalar(select(AccountToken).where(AccountToken.id == r.json()["id"]))
    assert row is not None
    return row


async def test_the_invitation_email_reads_as_an_invitation(client, factory, smtp):
    row = await _invited(client, factory)
    assert await send_all() == 1
    [mail] = smtp.to(row.email)
    body, html = text_of(mail).replace("\r\n", "\n"), text_of(mail, "html")
    assert mail["Subject"] == "Invitation to the consult programme"
    assert "as a specialist." in body and "(specialist)" not in body
    link = f"https://consult.example.org/invitations/{accounts.token_of(row)}"
    assert f"Accept the invitation: {link}\n" in body and f'href="{link}"' in html
    assert f"valid until {_expiry(row)}." in body
    assert "If you were not expecting this invitation" in body
    for text in (body, html):
        assert not any(w in text for w in PREFERENCES + SIGN_IN), text


async def test_the_invitation_email_says_who_invited_and_to_which_facility(client, factory, smtp):
    org = await factory.make_org(name="Hospital de Humahuaca")
    row = await _invited(client, factory, role="clinician", organization_id=org.id)
    await send_all()
    [mail] = smtp.to(row.email)
    assert (
        "Dr Ana Quispe invited you to join the consult programme at Hospital de Humahuaca "
        "as a clinician." in text_of(mail)
    )


@pytest.mark.parametrize(
    ("language", "first", "accept", "valid", "subject"),
    [
        (
            "en",
            "Dr Ana Quispe invited you to join the consult programme at Hospital de "
            "Humahuaca as a clinician.",
            "Accept the invitation",
            "valid until",
            "Invitation to the consult programme",
        ),
        (
            "es",
            "Dr Ana Quispe le invitó a unirse al programa de consultas en el centro "
            "Hospital de Humahuaca como clínico.",
            "Aceptar la invitación",
            "válido hasta",
            "Invitación al programa de consultas",
        ),
        (
            "fr",
            "Dr Ana Quispe vous invite à rejoindre le programme d'avis pour "
            "l'établissement Hospital de Humahuaca, en tant que clinicien.",
            "Accepter l'invitation",
            "valable jusqu'au",
            "Invitation au programme d'avis",
        ),
    ],
)
async def test_an_invitation_in_each_language_names_inviter_facility_and_role(
    client, factory, language, first, accept, valid, subject
):
    org = await factory.make_org(name="Hospital de Humahuaca")
    row = await _invited(client, factory, role="clinician", organization_id=org.id)
    async with sessionmaker()() as s:
        facts = await accounts.mail_facts(s, row)
    link = f"https://consult.example.org/invitations/{accounts.token_of(row)}"
    r = content.render("invitation", facts, link, language, "UTC")
    assert r.subject == subject
    paragraphs = r.text.strip().split("\n\n")
    assert paragraphs[0] == first
    assert f"{valid} {_expiry(row)}" in paragraphs[1]
    colon = "\u00a0:" if language == "fr" else ":"  # French typography
    assert paragraphs[2] == f"{accept}{colon} {link}"
    assert len(paragraphs) == 4  # and a line on ignoring it, not a preferences footer
    for text in (r.text, r.html):
        assert not any(w in text for w in PREFERENCES + SIGN_IN), text
        assert "clinician" not in text.replace("a clinician", "")  # the code never shows


def test_an_invitation_leaves_out_what_is_not_known():
    r = content.render("invitation", {"role": "interpreter"}, "https://x.org/i/t", "en", "UTC")
    assert r.text.startswith("You are invited to join the consult programme as an interpreter.")
    r = content.render("invitation", {"role": "specialist"}, "https://x.org/i/t", "es", "UTC")
    assert r.text.startswith("Se le invita a unirse al programa de consultas como especialista.")
    r = content.render("invitation", {}, "https://x.org/i/t", "fr", "UTC")
    assert r.text.startswith("Vous avez reçu une invitation à rejoindre le programme d'avis.")


def test_a_name_is_text_not_markup_or_a_template():
    data = {"inviter": "<b>Eve</b> {deadline}", "organization": "A&B", "role": "admin"}
    r = content.render("invitation", data, "https://x.org/i/t", "en", "UTC")
    assert r.text.startswith("<b>Eve</b> {deadline} invited you")
    assert "&lt;b&gt;Eve&lt;/b&gt;" in r.html and "A&amp;B" in r.html and "<b>" not in r.html


async def test_a_password_reset_has_no_preferences_footer(client, factory, smtp):
    user = await factory.make_user(Role.specialist)
    r = await client.post(f"{API}/auth/password-reset", json={"email": user.email})
    assert r.status_code == 202, r.text
    assert await send_all() == 1
    [mail] = smtp.to(user.email)
    body = text_of(mail).replace("\r\n", "\n")
    assert re.search(r"Reset your password: https://consult\.example\.org/password-reset/", body)
    assert not any(w in body for w in PREFERENCES + SIGN_IN)


async def test_an_invitation_to_a_spanish_speaking_facility_is_in_spanish(client, factory, smtp):
    """The invitee has no language of her own yet: her facility's first one it can write."""
    org = await factory.make_org(
        name="Centro de Salud Tupiza", timezone="America/La_Paz", languages=["qu", "es"]
    )
    row = await _invited(client, factory, role="clinician", organization_id=org.id)
    await send_all()
    [mail] = smtp.to(row.email)
    assert mail["Subject"].strip() == "Invitación al programa de consultas"
    text = text_of(mail)
    assert "le invitó a unirse al programa de consultas en el centro Centro de Salud Tupiza" in text
    assert f"válido hasta {content._when(row.expires_at, 'America/La_Paz')}" in text
