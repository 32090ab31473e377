"""Guess whether a text is Polish or English, so replies come in the asker's language."""

from __future__ import annotations

import re

from knowledge.text import fold

_DIACRITICS = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
#: frequent Polish words and stems that survive typing without diacritics
_PL_WORDS = frozenset(
    """
    jak jest nie sie się co czy dlaczego czemu gdzie jaki jaka jakie mam mamy moj moja moje
    maile maila mailem poczta poczty wiadomosc wiadomosci wyslac wysylac wysylka dostaje
    dostajemy dochodza dochodzi doszedl dotarl odbiorca odbiorcy nadawca serwer serwera serwerze
    blad bledu bledy bledem zwrotka zwrotki zwrotke ustawic ustawienia skonfigurowac konfiguracja
    haslo hasla uwierzytelnianie uwierzytelniania logowanie zablokowany zablokowane odrzuca odrzucil
    odrzucona skrzynka skrzynki pelna domena domeny rekord rekordu przez dla przy od na
    oraz ale tez tylko juz jeszcze teraz znowu zawsze nigdy kiedy ktory ktora ktore prosze pomocy
    pomoz pomozcie trzeba mozna musze robic zrobic naprawic sprawdzic wiem wie nasz nasze nasza
    klient klienta klientow portu certyfikat certyfikatu kolejce kolejka spamu spamie
    znaczy oznacza chodzi dziala dzialaja
    """.split()
)
_WORD = re.compile(r"[a-z]+")
_NOT_WORD_CHARS = re.compile(r"[.@/:][a-z0-9]", re.IGNORECASE)


def detect_language(text: str) -> str:
    """Return "pl" when the text looks Polish, else "en".

    Diacritics decide at once; otherwise count Polish function words and stems among the words
    (pasted English server text inside a Polish question must not flip it to English).
    """
    sample = text[:4000]
    if len(_DIACRITICS.findall(sample)) >= 2:
        return "pl"
    # host names and addresses ("shop.co.uk", "poczta.onet.pl") say nothing about the writer's language
    words = _WORD.findall(fold(" ".join(t for t in sample.split() if not _NOT_WORD_CHARS.search(t))))
    if not words:
        return "en"
    hits = sum(1 for w in words if w in _PL_WORDS)
    if hits >= 2 or (hits == 1 and len(words) <= 6):
        return "pl"
    return "en"
