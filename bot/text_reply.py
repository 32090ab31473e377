"""A router Reply as terminal text (the console chat); the Block Kit twin is slack_render.py.

Explanations, entries and check reports use the CLI's own text renderers (bot/text_explain.py,
bot/text_report.py) so the console prints exactly what `smtpbot explain`/`check` print.
"""

from __future__ import annotations

from typing import Any

from bot.messages import msg
from bot.model import COMMANDS, Reply

STATUS_MARK = {"pass": "✓", "info": "i", "warn": "!", "fail": "✗", "error": "?"}


def render_help(lang: str, note: str = "") -> str:
    """The command list, generated from the router's table."""
    lines = [note] if note else []
    lines += [msg("help.title", lang), msg("help.intro", lang)]
    width = max(len(usage) for _, usage, _, _ in COMMANDS)
    lines += [f"  /smtp {usage.ljust(width)}  {msg(key, lang)}" for _, usage, key, _ in COMMANDS]
    lines.append(msg("help.private", lang))
    return "\n".join(lines)


def _explanation(expl: Any, lang: str) -> str:
    try:
        from bot.text_explain import render_explanation
    except ImportError:  # the CLI renderer is not in this build yet: a plain fallback
        return "\n".join(
            f"{m.entry.id}: {m.entry.title.get(lang)} — {m.entry.summary.get(lang)}" for m in expl.matches
        )
    return render_explanation(expl, lang)


def _entry(entry: Any, lang: str) -> str:
    try:
        from bot.text_explain import render_entry
    except ImportError:
        fixes = "\n".join(f"  - {f}" for f in entry.fixes.get(lang))
        return f"{entry.title.get(lang)} [{entry.id}]\n{entry.summary.get(lang)}\n{fixes}"
    return render_entry(entry, lang)


def _report(report: Any, lang: str) -> str:
    try:
        from bot.text_report import render_report
    except ImportError:
        return "\n".join(
            f"{STATUS_MARK.get(str(f.status), '?')} {f.check} {f.subject}: {f.summary}"
            + (f"  [kb {f.kb}]" if f.kb else "")
            for f in report.findings
        )
    return render_report(report, lang)


def _spf(reply: Reply) -> str:
    data = reply.spf.to_json() if hasattr(reply.spf, "to_json") else dict(reply.spf)
    head = msg("spf.header", reply.lang, domain=reply.extra.get("domain"), ip=reply.extra.get("ip"))
    lines = [head, f"  result: {data.get('result')}"]
    for key in ("mechanism", "explanation", "lookups"):
        if data.get(key) not in (None, ""):
            lines.append(f"  {key}: {data[key]}")
    return "\n".join(lines)


def _entries(reply: Reply) -> str:
    lines = [reply.message] if reply.message else []
    lines += [f"  {m.entry.id:<36} {m.entry.title.get(reply.lang)}" for m in reply.matches]
    return "\n".join(lines)


def render(reply: Reply) -> str:
    """Text for any Reply kind."""
    if reply.kind == "help":
        return render_help(reply.lang, reply.message)
    if reply.kind == "explanation":
        return _explanation(reply.explanation, reply.lang)
    if reply.kind == "entry":
        return _entry(reply.entry, reply.lang)
    if reply.kind == "entries":
        return _entries(reply)
    if reply.kind == "report":
        return _report(reply.report, reply.lang)
    if reply.kind == "spf":
        return _spf(reply)
    return reply.message
