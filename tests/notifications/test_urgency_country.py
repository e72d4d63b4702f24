"""A case's urgency and its facility's country are named in the reader's language, in words
that fit the sentence ("an urgent case", "un caso urgente", "un cas urgent"; "Argentina",
"Argentine"), never by their codes; a country code nobody knows stays readable as it is."""

import re

import pytest

from app.cases.models import Urgency
from app.core.i18n import LANGUAGES, catalogue
from app.notifications import content
from app.notifications.labels import a_case_of, country_name, urgency_name

DEADLINE = "2026-05-04T15:00:00+00:00"
LINK = "https://consult.example.org/offers/o1"
CASE_KINDS = ("offer", "offer_expiring", "case_unmatched", "case_overdue")
WITH_COUNTRY = ("offer", "case_unmatched", "case_overdue")  # subject and body
ARGENTINA = {"en": "Argentina", "es": "Argentina", "fr": "Argentine"}

# Each urgency in each language: the subject's word (after the specialty, as the console's
# label reads) and the body's "a case" of that urgency.
WORDS = {
    "en": {
        "routine": ("routine", "a routine case"),
        "urgent": ("urgent", "an urgent case"),
        "emergency": ("emergency", "an emergency case"),
    },
    "es": {
        "routine": ("ordinaria", "un caso ordinario"),
        "urgent": ("urgente", "un caso urgente"),
        "emergency": ("emergencia", "un caso de emergencia"),
    },
    "fr": {
        "routine": ("courante", "un cas non urgent"),
        "urgent": ("urgente", "un cas urgent"),
        "emergency": ("urgence vitale", "un cas d'urgence vitale"),
    },
}


def _data(urgency: str = "urgent", country: str = "AR") -> dict[str, str]:
    return {
        "specialty": "dermatology",
        "urgency": urgency,
        "country": country,
        "deadline": DEADLINE,
    }


def _code_shows(code: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(code)}\b", text) is not None


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        (
            "en",
            "New consult offer: Dermatology, urgent (Argentina)",
            "You are offered an urgent case in Dermatology from a facility (Argentina). "
            "Please accept or decline by 2026-05-04 15:00 UTC.",
        ),
        (
            "es",
            "Nueva oferta de consulta: Dermatología, urgente (Argentina)",
            "Se le ofrece un caso urgente de Dermatología de un centro (Argentina). "
            "Acepte o rechace antes de 2026-05-04 15:00 UTC.",
        ),
        (
            "fr",
            "Nouvelle demande d'avis : Dermatologie, urgente (Argentine)",
            "On vous propose un cas urgent en Dermatologie d'un centre (Argentine). "
            "Merci d'accepter ou de refuser avant 2026-05-04 15:00 UTC.",
        ),
    ],
)
def test_an_offer_names_urgency_and_country_in_words(language, subject, line):
    r = content.render("offer", _data(), LINK, language, "UTC")
    assert r.subject == subject
    assert r.text.split("\n\n")[0] == line
    assert r.short == f"{subject} {LINK}"  # SMS and push
    assert ARGENTINA[language] in r.html
    for text in (r.subject, r.text, r.html, r.short):
        assert not _code_shows("AR", text), text
        if language == "es":  # "urgente", never the code
            assert not _code_shows("urgent", text), text
    if language == "en":
        assert "an urgent case" in r.text and "a urgent" not in r.text.lower()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("urgency", list(Urgency))
@pytest.mark.parametrize("kind", CASE_KINDS)
def test_every_urgency_reads_right_in_every_case_text(kind, urgency, language):
    word, a_case = WORDS[language][urgency.value]
    r = content.render(kind, _data(urgency.value), LINK, language, "UTC")
    assert f", {word}" in r.subject, r.subject
    assert f" {a_case} " in r.text, r.text
    if kind in WITH_COUNTRY:
        assert f"({ARGENTINA[language]})" in r.subject and f"({ARGENTINA[language]})" in r.text
    for text in (r.subject, r.text, r.short):
        assert not _code_shows("AR", text), text
        # A code shows only where it is the language's own word ("urgent" in English and
        # French); "routine" and "emergency" are never left as codes in Spanish or French.
        if language != "en" and urgency is not Urgency.urgent:
            assert not _code_shows(urgency.value, text), text
    if language == "en":  # "an" before a vowel, "a" before a consonant
        assert not re.search(r"\ba (urgent|emergency)\b", r.text.lower()), r.text
        assert not re.search(r"\ban routine\b", r.text.lower()), r.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_country_code_stays_readable(language):
    for kind in WITH_COUNTRY:
        r = content.render(kind, _data(country="XQ"), LINK, language, "UTC")
        assert "(XQ)" in r.subject and "(XQ)" in r.text, (r.subject, r.text)
        assert "-" not in r.subject.replace("d'avis", "")
    assert country_name("XQ", language) == "XQ"


def test_a_country_is_named_by_babel_in_the_readers_language():
    assert country_name("AR", "fr") == "Argentine"
    assert country_name("KE", "es") == "Kenia"
    assert country_name("CI", "fr") == "Côte d’Ivoire"
    assert country_name("US", "en") == "United States"
    assert country_name("ar", "es") == "Argentina"  # a code in lower case too
    assert country_name("MW", "sw") == "Malawi"  # a language we do not write: English


def test_the_urgency_words_are_the_catalogues():
    """The subject's word is the console's label; the body's phrase is the catalogue's
    sentence form: every urgency has both in every language."""
    for language in LANGUAGES:
        names = catalogue(language)
        for urgency in Urgency:
            label = names[f"urgency.{urgency.value}"]
            assert urgency_name(urgency.value, language) == label[:1].lower() + label[1:]
            assert a_case_of(urgency.value, language) == names[f"urgency.case.{urgency.value}"]
            assert (urgency_name(urgency.value, language), a_case_of(urgency.value, language)) == (
                WORDS[language][urgency.value]
            )
    assert urgency_name("someday", "es") == "someday"


@pytest.mark.parametrize(
    ("language", "start"),
    [
        ("en", "You are offered a case in Dermatology from a facility (Kenya)."),
        ("es", "Se le ofrece un caso de Dermatología de un centro (Kenia)."),
        ("fr", "On vous propose un cas en Dermatologie d'un centre (Kenya)."),
    ],
)
def test_a_case_of_no_known_urgency_is_just_a_case(language, start):
    for urgency in (None, "someday"):
        data = {**_data(country="KE"), "urgency": urgency}
        assert content.render("offer", data, LINK, language, "UTC").text.startswith(start)


def test_no_patient_data_rides_along_with_the_names():
    data = {**_data(), "patient_reference": "PT-7731", "question": "Rash on both forearms"}
    for language in LANGUAGES:
        r = content.render("offer", data, LINK, language, "UTC")
        for text in (r.subject, r.text, r.html, r.short):
            assert "PT-7731" not in text and "forearms" not in text


@pytest.mark.parametrize(
    ("language", "opens"),
    [
        ("en", f"Open (sign-in needed): {LINK}"),
        ("es", f"Abrir (requiere iniciar sesión): {LINK}"),
        ("fr", f"Ouvrir (connexion requise)\u00a0: {LINK}"),
    ],
)
def test_the_link_line_says_a_sign_in_is_needed_in_each_languages_typography(language, opens):
    r = content.render("offer", _data(), LINK, language, "UTC")
    assert opens in r.text.split("\n\n")
