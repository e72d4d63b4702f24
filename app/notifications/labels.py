"""Specialty and role names in the reader's language.

The service's catalogue (app/core/i18n/*.json), which the console's pages read too, names
every specialty and role in English, Spanish and French, so a name is written once."""

from app.core.i18n import LANGUAGES, catalogue
from app.specialists.vocabulary import SPECIALTIES


def _label(key: str, language: str) -> str | None:
    return catalogue(language if language in LANGUAGES else "en").get(key)


def specialty_name(code: str, language: str) -> str:
    """The name of `dermatology` in Spanish is Dermatología. A code the catalogue lacks
    falls back to the vocabulary's English name, then to the code itself."""
    return _label(f"specialty.{code}", language) or SPECIALTIES.get(code, code)


def role_name(role: str, language: str) -> str:
    """The role's name (Especialista for `specialist` in Spanish); an unknown role stays
    as it is."""
    return _label(f"role.{role}", language) or role
