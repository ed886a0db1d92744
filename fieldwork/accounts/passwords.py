"""The password policy: long enough, not a common password, not the user's own email or name.

One function, `password_problem`, answers for every place a password is chosen (the command
line, the user forms, the password change, the set-password link), so the rule is the same
everywhere and the message says what to do.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

MINIMUM_LENGTH = 10
MAXIMUM_LENGTH = 500
#: The 30,000 most common passwords (see data/README.md for where the list comes from).
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def _squashed(text: str) -> str:
    """Lower case, letters and digits only: "Ana.Ruiz" and "ana ruiz" compare equal."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """What is wrong with this password, in words for the person choosing it, or None."""
    if len(password) < MINIMUM_LENGTH:
        return f"Use at least {MINIMUM_LENGTH} characters."
    if len(password) > MAXIMUM_LENGTH:
        return f"Use at most {MAXIMUM_LENGTH} characters."
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        return "That password is one of the most common ones; choose a less guessable one."
    squashed = _squashed(password)
    email = email.strip().lower()
    own = {email, email.partition("@")[0], name.strip().lower()}
    own_squashed = {_squashed(word) for word in own if word}
    own_squashed.discard("")
    if any(squashed == word for word in own_squashed):
        return "Do not use your email address or name as your password."
    if len(set(squashed)) <= 2:
        return "Use more than one or two different characters."
    return None
