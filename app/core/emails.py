"""Email addresses people are known by: one form each, and none drawn like another's.

An address is folded to one form (NFKC, lower case, internationalised domain labels in
their Unicode form) and refused when it could pass for another address on screen
(issue 16): a Cyrillic "а" in "аdmin@clinic.org", a domain spelt entirely in Cyrillic
letters that look Latin ("аррӏе.com"), invisible characters, or letters of two scripts in
one part. The rule follows UTS #39's "highly restrictive" profile, with the part of its
confusables table that maps letters of other scripts onto basic Latin ones: enough to tell
that an address pretends to be an ASCII one, without the whole table (no package for it).
"""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, EmailStr

# Letters (after lower-casing) drawn like a basic Latin letter or digit: Cyrillic, Greek,
# Armenian, Cherokee-style and Latin look-alikes (dotless i, small capitals, Latin alpha).
LOOKALIKES = frozenset(
    "аъьвгеёзіїјкмнопрстуўхѕԁԛԝӏһҫӓӧӱєѡѵүҳӑӕԍԃԑ"  # Cyrillic
    "αβγεηικνορτυχωϲϳμςϱϑϒϰϸ"  # Greek
    "օոսհցզյաւ"  # Armenian
    "ıȷɑɡɩɪʟɴʀʏᴀᴄᴅᴇᴊᴋᴍᴏᴘᴛᴜᴠᴡᴢꞵꭰɒɔɛɢʜ"  # Latin look-alikes of basic Latin
)
# Scripts UTS #39 lets share one identifier ("highly restrictive").
_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


class ConfusableEmail(ValueError):
    """The address could pass for another one."""


def _script(ch: str) -> str:
    """The script of a letter or digit, from its Unicode name (the standard library has no
    Script property; the name's first word is the script for letters of every script an
    address can hold)."""
    name = unicodedata.name(ch, "")
    if name.startswith(("CJK ", "IDEOGRAPHIC")):
        return "CJK"
    if name.startswith("HANGUL"):
        return "HANGUL"
    return name.split(" ", 1)[0] or "UNKNOWN"


def _label(label: str) -> str:
    """A domain label in its Unicode form (an IDNA `xn--` label decoded, so the letters it
    stands for are what is checked)."""
    if label.startswith("xn--"):
        try:
            return label.encode("ascii").decode("idna")
        except UnicodeError as e:
            raise ConfusableEmail(f"{label!r} is not a valid internationalised label") from e
    return label


def _check_part(part: str) -> None:
    scripts: set[str] = set()
    digits = False  # beyond ASCII: "۱" passes for "1", "٠" for a dot
    previous = ""
    for ch in part:
        if ch.isascii():
            if ch.isalpha():
                scripts.add("LATIN")
            previous = ch
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "M":
            if previous.isascii():  # a mark stacked on a basic Latin letter NFKC kept apart
                raise ConfusableEmail("it has a combining mark on a Latin letter")
        elif cat[0] == "L":
            scripts.add(_script(ch))
        elif cat == "Nd":
            digits = True
        else:  # invisible, spacing, punctuation and symbols beyond ASCII
            raise ConfusableEmail(f"it holds the character U+{ord(ch):04X}")
        previous = ch
    if len(scripts) > 1 and not any(scripts <= mix for mix in _MIXES):
        raise ConfusableEmail(f"{part!r} mixes scripts ({', '.join(sorted(scripts))})")
    if digits and (not scripts or "LATIN" in scripts):
        raise ConfusableEmail(f"{part!r} has digits of another script")
    foreign = [ch for ch in part if not ch.isascii() and unicodedata.category(ch)[0] == "L"]
    if foreign and all(ch in LOOKALIKES for ch in foreign):
        raise ConfusableEmail(f"{part!r} is written in letters drawn like basic Latin ones")


def normalise_email(raw: str) -> str:
    """The one form of an address (for storing it and for finding it): NFKC, lower case,
    domain labels decoded from IDNA. No check; `safe_email` checks."""
    folded = unicodedata.normalize("NFKC", raw.strip()).lower()
    local, at, domain = folded.rpartition("@")
    if not at:
        return folded
    try:
        labels = [_label(label) for label in domain.split(".")]
    except ConfusableEmail:
        return folded
    return f"{local}@{'.'.join(labels)}"


def safe_email(raw: str) -> str:
    """The address in its one form, or ConfusableEmail when it could pass for another."""
    email = unicodedata.normalize("NFKC", raw.strip()).lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise ConfusableEmail("it is not an address")
    labels = [_label(label) for label in domain.split(".")]
    for part in (local, *labels):
        _check_part(part)
    return f"{local}@{'.'.join(labels)}"


def _validate(value: str) -> str:
    try:
        return safe_email(value)
    except ConfusableEmail as e:
        raise ValueError(f"this address could pass for another one: {e}") from e


# An email in a request body: valid, in its one form, and not a look-alike of another.
SafeEmail = Annotated[EmailStr, AfterValidator(_validate)]
