"""Plain-text rendering of explanations and KB entries (terminal and console chat)."""

from __future__ import annotations

from knowledge.explain import Explanation
from knowledge.model import Entry

_LABELS = {
    "en": {"means": "What it means", "causes": "Likely causes", "fix": "How to fix it", "checks": "Live checks",
           "refs": "References", "parsed": "From the bounce", "unsure": "Not sure. Closest topics:",
           "none": "No matching topic. Paste the full bounce (with the Diagnostic-Code line) or rephrase the question.",
           "alt": "Also possible", "kind": {"vacation": "This is an automatic reply, not a bounce.",
                                            "feedback": "This is a spam complaint (ARF feedback report), not a bounce.",
                                            "delivered": "This is a delivery success notice, not a failure."}},
    "pl": {"means": "Co to znaczy", "causes": "Możliwe przyczyny", "fix": "Jak to naprawić", "checks": "Testy na żywo",
           "refs": "Źródła", "parsed": "Z komunikatu", "unsure": "Nie mam pewności. Najbliższe tematy:",
           "none": "Brak pasującego tematu. Wklej całą zwrotkę (z linią Diagnostic-Code) albo zadaj pytanie inaczej.",
           "alt": "Możliwe też", "kind": {"vacation": "To automatyczna odpowiedź, nie zwrotka.",
                                          "feedback": "To zgłoszenie spamu (raport ARF), nie zwrotka.",
                                          "delivered": "To potwierdzenie doręczenia, nie błąd."}},
}


def labels(lang: str) -> dict:
    return _LABELS["pl" if lang == "pl" else "en"]


def check_command(entry: Entry, domain: str | None) -> str | None:
    """The exact `smtpbot check` command for an entry's live checks, when it has any."""
    if not entry.checks:
        return None
    return f"smtpbot check {domain or 'example.com'}"


def render_entry(entry: Entry, lang: str, domain: str | None = None) -> str:
    """An entry as text: title, meaning, causes, numbered fix steps, checks and references."""
    lab = labels(lang)
    out = [f"{entry.title.get(lang)}  [{entry.id}]", "", f"{lab['means']}:", f"  {entry.summary.get(lang)}", ""]
    out.append(f"{lab['causes']}:")
    out += [f"  - {c}" for c in entry.causes.get(lang)]
    out += ["", f"{lab['fix']}:"]
    out += [f"  {i}. {step}" for i, step in enumerate(entry.fixes.get(lang), 1)]
    cmd = check_command(entry, domain)
    if cmd:
        out += ["", f"{lab['checks']}: {', '.join(entry.checks)}", f"  $ {cmd}"]
    if entry.references:
        out += ["", f"{lab['refs']}:"] + [f"  - {r}" for r in entry.references]
    return "\n".join(out)


def _parsed_lines(expl: Explanation, lang: str) -> list[str]:
    p = expl.parsed
    fields = [("reply", p.reply_code), ("status", p.status), ("recipient", p.recipient),
              ("remote MTA", p.remote_mta), ("sender domain", p.sender_domain), ("diagnostic", p.diagnostic)]
    shown = [f"  {k}: {v}" for k, v in fields if v]
    return [f"{labels(lang)['parsed']}:", *shown, ""] if shown else []


def render_explanation(expl: Explanation, lang: str | None = None) -> str:
    """Full text answer for one input."""
    lang = lang or expl.lang
    lab = labels(lang)
    out = [f"note: {n}" for n in expl.notices]
    if expl.parsed.kind_hint in lab["kind"]:
        out.append(lab["kind"][expl.parsed.kind_hint])
    if expl.input_kind != "question":
        out += _parsed_lines(expl, lang)
    if not expl.matches:
        return "\n".join([*out, lab["none"]])
    if not expl.confident:
        out.append(lab["unsure"])
        out += [f"  - {m.entry.title.get(lang)} [{m.entry.id}] ({m.score:.2f})" for m in expl.matches]
        out.append("")
    out.append(render_entry(expl.matches[0].entry, lang, expl.parsed.sender_domain))
    if expl.confident and len(expl.matches) > 1:
        alts = ", ".join(f"{m.entry.id} ({m.score:.2f})" for m in expl.matches[1:])
        out += ["", f"{lab['alt']}: {alts}"]
    return "\n".join(out)
