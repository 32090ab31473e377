"""Every user-facing sentence of the bot, in English and Polish, in one table.

Keeping them together (as Bolt keeps its log texts in `logger/messages.py`) makes the two languages
easy to review side by side and lets tests look texts up by key instead of copying them.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "help.title": {
        "en": "smtpbot — email delivery helper",
        "pl": "smtpbot — pomocnik od dostarczania poczty",
    },
    "help.intro": {
        "en": "Paste a bounce (NDR, DSN or a single `550 5.7.26 …` line) or ask a question, "
        "or use one of these commands:",
        "pl": "Wklej zwrotkę (NDR, DSN albo jedną linię `550 5.7.26 …`) lub zadaj pytanie, "
        "albo użyj jednej z komend:",
    },
    "help.unknown": {
        "en": "I don't know the command `{name}`.",
        "pl": "Nie znam komendy `{name}`.",
    },
    "cmd.help": {"en": "this help", "pl": "ta pomoc"},
    "cmd.explain": {
        "en": "explain a bounce or answer a question",
        "pl": "wyjaśnij zwrotkę lub odpowiedz na pytanie",
    },
    "cmd.check": {
        "en": "live checks of a domain, mail server (host:port) or IP (MX, SPF, DKIM, DMARC, TLS…)",
        "pl": "testy na żywo domeny, serwera (host:port) lub IP (MX, SPF, DKIM, DMARC, TLS…)",
    },
    "cmd.spf": {"en": "evaluate SPF for a domain and sending IP", "pl": "oceń SPF dla domeny i IP nadawcy"},
    "cmd.kb": {"en": "search the knowledge base", "pl": "szukaj w bazie wiedzy"},
    "cmd.kb_show": {"en": "show one knowledge-base entry", "pl": "pokaż jeden wpis bazy wiedzy"},
    "cmd.lang": {"en": "answer me in Polish or English", "pl": "odpowiadaj mi po polsku lub angielsku"},
    "cmd.about": {"en": "version and knowledge-base size", "pl": "wersja i rozmiar bazy wiedzy"},
    "help.private": {
        "en": "Add `-p` to get the answer only for you.",
        "pl": "Dodaj `-p`, żeby odpowiedź widział tylko Ty.",
    },
    "lang.set": {"en": "OK, I will answer you in English.", "pl": "OK, będę Ci odpowiadać po polsku."},
    "lang.usage": {"en": "Usage: `lang pl` or `lang en`.", "pl": "Użycie: `lang pl` albo `lang en`."},
    "about.text": {
        "en": "smtpbot {version} — knowledge base: {entries} entries.",
        "pl": "smtpbot {version} — baza wiedzy: {entries} wpisów.",
    },
    "usage.explain": {
        "en": "Usage: `explain TEXT` — paste the bounce or type a question after it.",
        "pl": "Użycie: `explain TEKST` — wklej zwrotkę albo wpisz pytanie.",
    },
    "usage.check": {
        "en": "Usage: `check TARGET [--dkim-selector S] [--smtp-port N] [--no-smtp] [-p]` — "
        "TARGET is a domain, host:port or IP.",
        "pl": "Użycie: `check CEL [--dkim-selector S] [--smtp-port N] [--no-smtp] [-p]` — "
        "CEL to domena, host:port albo IP.",
    },
    "usage.spf": {"en": "Usage: `spf DOMAIN IP`.", "pl": "Użycie: `spf DOMENA IP`."},
    "usage.kb_show": {"en": "Usage: `kb show ID`.", "pl": "Użycie: `kb show ID`."},
    "kb.none": {
        "en": "Nothing in the knowledge base matches “{query}”.",
        "pl": "Nic w bazie wiedzy nie pasuje do „{query}”.",
    },
    "kb.unknown": {
        "en": "There is no entry `{id}`. Try `kb {id}`.",
        "pl": "Nie ma wpisu `{id}`. Spróbuj `kb {id}`.",
    },
    "kb.list": {"en": "Knowledge-base entries:", "pl": "Wpisy bazy wiedzy:"},
    "explain.none": {
        "en": "I could not find an explanation for this. Try `kb SEARCH` or paste more of the bounce.",
        "pl": "Nie znalazłem wyjaśnienia. Spróbuj `kb SZUKANE` albo wklej więcej zwrotki.",
    },
    "explain.unreadable": {
        "en": "I can't read that: {reason}",
        "pl": "Nie umiem tego przeczytać: {reason}",
    },
    "check.busy": {
        "en": "I am running too many checks right now — please try again in a minute.",
        "pl": "Właśnie wykonuję zbyt wiele testów — spróbuj za minutę.",
    },
    "check.rate_user": {
        "en": "You have started many checks in the last minute — please wait a moment.",
        "pl": "Uruchomiłeś wiele testów w ostatniej minucie — poczekaj chwilę.",
    },
    "check.rate_channel": {
        "en": "This channel has started many checks in the last minute — please wait a moment.",
        "pl": "Na tym kanale uruchomiono wiele testów w ostatniej minucie — poczekaj chwilę.",
    },
    "check.started": {"en": "Checking {target}…", "pl": "Sprawdzam {target}…"},
    "check.progress": {"en": "Checking {target}… done: {areas}", "pl": "Sprawdzam {target}… gotowe: {areas}"},
    "check.unavailable": {
        "en": "Live checks are not available in this build.",
        "pl": "Testy na żywo nie są dostępne w tej wersji.",
    },
    "check.refused": {"en": "I can't check that: {reason}", "pl": "Nie mogę tego sprawdzić: {reason}"},
    "error.internal": {
        "en": "Sorry, something went wrong on my side (incident {incident}). Please try again.",
        "pl": "Przepraszam, coś poszło nie tak po mojej stronie (zdarzenie {incident}). Spróbuj ponownie.",
    },
    "working": {"en": "Working on it…", "pl": "Już się robi…"},
    "secret.warning": {
        "en": ":warning: Your message seems to contain a secret ({kinds}). Please delete it and rotate "
        "the credential — I did not repeat it.",
        "pl": ":warning: Twoja wiadomość chyba zawiera sekret ({kinds}). Usuń ją i zmień to hasło/klucz "
        "— nie powtórzyłem go.",
    },
    "feedback.thanks": {
        "en": "Thanks — noted. We use this to improve the answers.",
        "pl": "Dzięki — zapisane. Dzięki temu poprawiamy odpowiedzi.",
    },
    "button.run_checks": {"en": "Run checks for {domain}", "pl": "Sprawdź {domain}"},
    "button.other_lang": {"en": "Show fix in Polish", "pl": "Pokaż po angielsku"},
    "button.not_helpful": {"en": "Not helpful", "pl": "Nie pomogło"},
    "explain.header": {"en": "What this bounce means", "pl": "Co oznacza ta zwrotka"},
    "explain.question": {"en": "Answer", "pl": "Odpowiedź"},
    "explain.unsure": {
        "en": "I am not sure — closest topics:",
        "pl": "Nie jestem pewien — najbliższe tematy:",
    },
    "explain.fix": {"en": "How to fix", "pl": "Jak naprawić"},
    "explain.causes": {"en": "Likely causes", "pl": "Prawdopodobne przyczyny"},
    "explain.kb": {
        "en": "Knowledge base: `{id}` (`/smtp kb show {id}`)",
        "pl": "Baza wiedzy: `{id}` (`/smtp kb show {id}`)",
    },
    "explain.parsed": {"en": "From the bounce", "pl": "Ze zwrotki"},
    "explain.means": {"en": "What it means", "pl": "Co to znaczy"},
    "explain.checks": {"en": "Live checks", "pl": "Testy na żywo"},
    "explain.refs": {"en": "References", "pl": "Źródła"},
    "explain.alt": {"en": "Also possible", "pl": "Możliwe też"},
    "explain.kind.vacation": {
        "en": "This is an automatic reply, not a bounce.",
        "pl": "To automatyczna odpowiedź, nie zwrotka.",
    },
    "explain.kind.feedback": {
        "en": "This is a spam complaint (ARF feedback report), not a bounce.",
        "pl": "To zgłoszenie spamu (raport ARF), nie zwrotka.",
    },
    "explain.kind.delivered": {
        "en": "This is a delivery success notice, not a failure.",
        "pl": "To potwierdzenie doręczenia, nie błąd.",
    },
    "report.header": {"en": "Checks of {target}", "pl": "Testy {target}"},
    "report.summary": {
        "en": "{fail} failed, {warn} warnings, {ok} passed in {seconds:.1f} s",
        "pl": "{fail} błędów, {warn} ostrzeżeń, {ok} OK w {seconds:.1f} s",
    },
    "report.more": {
        "en": "…and {n} more findings (run `smtpbot check {target}` for all).",
        "pl": "…i jeszcze {n} wyników (pełna lista: `smtpbot check {target}`).",
    },
    "spf.header": {"en": "SPF for {domain} from {ip}", "pl": "SPF dla {domain} z {ip}"},
    "home.title": {"en": "smtpbot", "pl": "smtpbot"},
    "home.usage": {
        "en": "I explain email bounces and check mail domains. Paste a bounce in a channel I am in "
        "(I answer in the thread), mention me with a question, or use `/smtp`.",
        "pl": "Wyjaśniam zwrotki i sprawdzam domeny pocztowe. Wklej zwrotkę na kanale, na którym jestem "
        "(odpowiem w wątku), oznacz mnie z pytaniem albo użyj `/smtp`.",
    },
    "home.examples": {"en": "Examples", "pl": "Przykłady"},
    "home.topics": {"en": "Knowledge-base topics", "pl": "Tematy bazy wiedzy"},
    "home.shortcut": {
        "en": "On any message: ⋮ → *Explain this bounce*.",
        "pl": "Na dowolnej wiadomości: ⋮ → *Explain this bounce*.",
    },
    "console.banner": {
        "en": "smtpbot console — type `help`, a command (`/smtp check example.com`), a question, "
        "or paste a bounce and end it with an empty line. Ctrl-D quits.",
        "pl": "konsola smtpbot — wpisz `help`, komendę (`/smtp check example.com`), pytanie "
        "albo wklej zwrotkę zakończoną pustą linią. Ctrl-D kończy.",
    },
}


def msg(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang` (English when missing), with `values` filled in."""
    texts = MESSAGES[key]
    template = texts.get(lang) or texts["en"]
    return template.format(**values) if values else template
