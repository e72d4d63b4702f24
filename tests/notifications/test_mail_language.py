"""An email says which language it is written in (its Content-Language header and its
HTML's lang) as the one its text was rendered in: mail clients offer to translate from it
and screen readers pick their voice by it."""

from app.core.principal import Role
from app.notifications import content
from app.notifications.channels import email
from tests.notifications.support import API, send_all, text_of
from tests.notifications.test_wording import _invited


def _labelled(mail) -> tuple[str, str]:
    html = text_of(mail, "html")
    lang = html.split('<html lang="', 1)[1].split('"', 1)[0] if '<html lang="' in html else ""
    return str(mail["Content-Language"]), lang


async def test_an_invitation_in_spanish_is_labelled_spanish(client, factory, smtp):
    org = await factory.make_org(timezone="America/La_Paz", languages=["qu", "es", "en"])
    row = await _invited(client, factory, role="clinician", organization_id=org.id)
    assert await send_all() == 1
    [mail] = smtp.to(row.email)
    assert mail["Subject"].strip() == "Invitación al programa de consultas"
    assert _labelled(mail) == ("es", "es")


async def test_a_password_reset_in_french_is_labelled_french(client, factory, smtp):
    user = await factory.make_user(Role.specialist)
    r = await client.put(
        f"{API}/me/notification-preferences",
        json={"language": "fr"},
        headers=factory.headers(user),
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"{API}/auth/password-reset", json={"email": user.email})
    assert r.status_code == 202, r.text
    assert await send_all() == 1
    [mail] = smtp.to(user.email)
    assert mail["Subject"].strip() == "Réinitialiser votre mot de passe"
    assert _labelled(mail) == ("fr", "fr")


def test_a_text_not_written_in_the_language_asked_for_says_the_one_it_is_in():
    """A language the texts are not written in falls back to English: the message then says
    English, not the language asked for."""
    rendered = content.render("digest", {"offers": 1}, "https://x.org/", "de", "UTC")
    assert rendered.language == "en" and '<html lang="en">' in rendered.html
    spanish = content.render("digest", {"offers": 1}, "https://x.org/", "es", "UTC")
    assert spanish.language == "es" and '<html lang="es">' in spanish.html
    raw = email.build(email.Mail.of("d1", "<m1@x>", "a@example.org", spanish)).decode()
    assert "\r\nContent-Language: es\r\n" in raw
