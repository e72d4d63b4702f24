"""Specialty, role, urgency and country names in the reader's language.

The service's catalogue (app/core/i18n/*.json), which the console's pages read too, names
every specialty, role and urgency in English, Spanish and French, so a name is written
once. Countries are named by Babel (the Unicode CLDR's names), not by a table of ours."""

from functools import lru_cache

from babel import Locale

from app.core.i18n import DEFAULT, LANGUAGES, catalogue
from app.specialists.vocabulary import SPECIALTIES


def _language(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT


def _label(key: str, language: str) -> str | None:
    return catalogue(_language(language)).get(key)


def specialty_name(code: str, language: str) -> str:
    """The name of `dermatology` in Spanish is Dermatología. A code the catalogue lacks
    falls back to the vocabulary's English name, then to the code itself."""
    return _label(f"specialty.{code}", language) or SPECIALTIES.get(code, code)


def role_name(role: str, language: str) -> str:
    """The role's name (Especialista for `specialist` in Spanish); an unknown role stays
    as it is."""
    return _label(f"role.{role}", language) or role


def urgency_name(code: str, language: str) -> str:
    """The console's label, in lower case to follow a comma: "urgente" for `urgent` in
    Spanish. The labels agree with an offer, a consult, a request (oferta, consulta,
    demande: all feminine). An unknown code stays as it is."""
    label = _label(f"urgency.{code}", language)
    return label[:1].lower() + label[1:] if label else code


def a_case_of(code: str | None, language: str) -> str:
    """A case of that urgency, inside a sentence, article and agreement included: "an
    urgent case", "un caso urgente", "un cas urgent". A case of unknown (or no) urgency is
    just "a case", "un caso", "un cas"."""
    return _label(f"urgency.case.{code}", language) or _label("urgency.case", language) or "-"


@lru_cache(maxsize=len(LANGUAGES))
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


def country_name(code: str, language: str) -> str:
    """The name of `AR` in French is Argentine (CLDR's names, through Babel). A code
    CLDR does not know stays as it is."""
    return _territories(_language(language)).get(code.strip().upper(), code)
