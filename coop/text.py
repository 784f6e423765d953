"""Text as the documents Coop writes (Word, iCalendar) can hold it."""

from __future__ import annotations

import re

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """`text` without control characters; Word's soft line break becomes a newline."""
    return _CONTROL_RE.sub("", text.replace("\x0b", "\n"))
