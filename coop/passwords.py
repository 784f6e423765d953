"""The password policy for passwords people choose (web forms and the CLI).

Length and "not a common password", as NIST SP 800-63B and OWASP ASVS 2.1 ask,
without composition rules. zxcvbn recognises the common-password lists, words,
names, dates, keyboard patterns, repeats and the person's own e-mail and name,
and estimates how many guesses the password takes. (The demo accounts keep
their short published passwords: the demo loader sets them directly.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext
from wtforms.validators import ValidationError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
# zxcvbn's score 2 means at least 10^6 guesses: out of reach of an online attack
# that login throttling slows down; the common-password lists all score 0–1.
MIN_SCORE = 2


def problems(password: str, user_inputs: Iterable[str] = ()) -> list[str]:
    """Why this password is refused, in words for the user; empty if it is fine."""
    if len(password) < MIN_LENGTH:
        return [gettext("The password must be at least %(n)d characters long.", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [gettext("The password must be at most %(n)d characters long.", n=MAX_LENGTH)]
    # An e-mail's parts are guessed too: "ivanov" of ivanov@school.ru.
    inputs = [part for text in user_inputs if text for part in (text, *text.replace("@", " ").split())]
    result = zxcvbn(password, user_inputs=inputs, max_length=MAX_LENGTH)
    if result["score"] >= MIN_SCORE:
        return []
    matches = result["sequence"]
    if any(match.get("dictionary_name") == "user_inputs" for match in matches):
        return [gettext("The password must not contain your e-mail or name.")]
    common = [match["token"] for match in matches if match.get("dictionary_name") == "passwords"]
    if common:
        return [
            gettext(
                "The password is built on a commonly used one («%(word)s»); such passwords are tried first.",
                word=max(common, key=len),
            )
        ]
    return [
        gettext(
            "The password is too easy to guess (words, dates, repeats or keyboard rows); "
            "a few unrelated words make a good one."
        )
    ]


class PasswordPolicy:
    """WTForms validator: the policy, with the named sibling fields' values as
    the person's own words (e-mail, name) that the password must not lean on."""

    def __init__(self, *personal_fields: str) -> None:
        self.personal_fields = personal_fields

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return  # Optional()/DataRequired() decide whether it may be empty
        inputs = [str(getattr(form, name).data or "") for name in self.personal_fields if hasattr(form, name)]
        reasons = problems(field.data, inputs)
        if reasons:
            raise ValidationError(reasons[0])
