"""Plain-text rendering of explanations and KB entries (terminal and console chat)."""

from __future__ import annotations

from bot.messages import msg
from knowledge.explain import Explanation
from knowledge.model import Entry


def check_command(entry: Entry, domain: str | None) -> str | None:
    """The exact `smtpbot check` command for an entry's live checks, when it has any."""
    if not entry.checks:
        return None
    return f"smtpbot check {domain or 'example.com'}"


def render_entry(entry: Entry, lang: str, domain: str | None = None) -> str:
    """An entry as text: title, meaning, causes, numbered fix steps, checks and references."""
    out = [f"{entry.title.get(lang)}  [{entry.id}]", "", f"{msg('explain.means', lang)}:",
           f"  {entry.summary.get(lang)}", "", f"{msg('explain.causes', lang)}:"]
    out += [f"  - {c}" for c in entry.causes.get(lang)]
    out += ["", f"{msg('explain.fix', lang)}:"]
    out += [f"  {i}. {step}" for i, step in enumerate(entry.fixes.get(lang), 1)]
    cmd = check_command(entry, domain)
    if cmd:
        out += ["", f"{msg('explain.checks', lang)}: {', '.join(entry.checks)}", f"  $ {cmd}"]
    if entry.references:
        out += ["", f"{msg('explain.refs', lang)}:"] + [f"  - {r}" for r in entry.references]
    return "\n".join(out)


def _parsed_lines(expl: Explanation, lang: str) -> list[str]:
    p = expl.parsed
    fields = [("reply", p.reply_code), ("status", p.status), ("recipient", p.recipient),
              ("remote MTA", p.remote_mta), ("sender domain", p.sender_domain), ("diagnostic", p.diagnostic)]
    shown = [f"  {k}: {v}" for k, v in fields if v]
    return [f"{msg('explain.parsed', lang)}:", *shown, ""] if shown else []


def render_explanation(expl: Explanation, lang: str | None = None) -> str:
    """Full text answer for one input."""
    lang = lang or expl.lang
    out = [f"note: {n}" for n in expl.notices]
    if expl.parsed.kind_hint:
        out.append(msg(f"explain.kind.{expl.parsed.kind_hint}", lang))
    if expl.input_kind != "question":
        out += _parsed_lines(expl, lang)
    if not expl.matches:
        return "\n".join([*out, msg("explain.none", lang)])
    if not expl.confident:
        out.append(msg("explain.unsure", lang))
        out += [f"  - {m.entry.title.get(lang)} [{m.entry.id}] ({m.score:.2f})" for m in expl.matches]
        out.append("")
    out.append(render_entry(expl.matches[0].entry, lang, expl.check_domain))
    if expl.confident and len(expl.matches) > 1:
        alts = ", ".join(f"{m.entry.id} ({m.score:.2f})" for m in expl.matches[1:])
        out += ["", f"{msg('explain.alt', lang)}: {alts}"]
    return "\n".join(out)
