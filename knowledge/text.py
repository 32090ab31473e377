"""Text normalisation shared by the parser and the matcher: case, Polish diacritics, whitespace."""

from __future__ import annotations

import re
import unicodedata

_PL_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
_SPACE = re.compile(r"\s+")

#: an e-mail address, matched only from the start of a run of address characters so a long run
#: without "@" costs one scan, not one per position (pasted bounces can hold megabytes of it)
ADDRESS_PATTERN = r"(?<![\w.+=-])[\w][\w.+=-]{0,63}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,10}"
ADDRESS = re.compile(ADDRESS_PATTERN)


def fold(text: str) -> str:
    """Lower-case, strip diacritics (Polish first: ł has no decomposition) and collapse white space.

    Users type "blad uwierzytelniania" for "błąd uwierzytelniania"; Polish servers reply without
    diacritics too, so every comparison happens on the folded form.
    """
    if text.isascii():
        return _SPACE.sub(" ", text).strip().lower()
    text = text.translate(_PL_FOLD)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACE.sub(" ", text).strip().lower()


def squash(text: str) -> str:
    """Collapse white space (including folded line breaks) to single spaces."""
    return _SPACE.sub(" ", text).strip()
