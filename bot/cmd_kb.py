"""`smtpbot kb validate|list|show|search`: look into the knowledge base."""

from __future__ import annotations

import argparse

from bot.text_explain import render_entry
from knowledge.load import default_kb, load_kb


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kb", help="validate, list, show or search the knowledge base")
    kb_sub = p.add_subparsers(dest="kb_command", metavar="ACTION", required=True, parser_class=type(p))
    v = kb_sub.add_parser("validate", help="check every entry; list all errors with file:line (exit 2)")
    v.add_argument("path", nargs="?", help="knowledge base directory (default: the one in use)")
    v.set_defaults(func=validate)
    ls = kb_sub.add_parser("list", help="every entry: id, reason, title")
    ls.add_argument("--lang", choices=("en", "pl"), default="en")
    ls.set_defaults(func=list_entries)
    show = kb_sub.add_parser("show", help="one entry in full")
    show.add_argument("id")
    show.add_argument("--lang", choices=("en", "pl"), default="en")
    show.set_defaults(func=show_entry)
    search = kb_sub.add_parser("search", help="entries for a few words or an id fragment")
    search.add_argument("words", nargs="+")
    search.add_argument("--lang", choices=("en", "pl"), default="en")
    search.set_defaults(func=search_entries)


def validate(args: argparse.Namespace, env) -> int:
    path = args.path or env.environ.get("SMTPBOT_KB") or None
    kb = load_kb(path)  # KBError -> exit 2 with every problem listed (bot.cli)
    reasons = {e.reason for e in kb.entries.values() if e.reason}
    print(f"ok: {len(kb.entries)} entries, {len(reasons)} reasons, {len(kb.status_codes)} status codes "
          f"({kb.path})", file=env.stdout)
    return 0


def _kb(env):
    return default_kb(env.environ.get("SMTPBOT_KB"))


def list_entries(args: argparse.Namespace, env) -> int:
    kb = _kb(env)
    width = max(len(e) for e in kb.entries)
    for e in kb.entries.values():
        print(f"{e.id:<{width}}  {e.reason or '-':<16}  {e.title.get(args.lang)}", file=env.stdout)
    return 0


def show_entry(args: argparse.Namespace, env) -> int:
    entry = _kb(env).get(args.id)
    if entry is None:
        env.error(f"no entry {args.id!r} (see `smtpbot kb list`)")
        return 2
    print(render_entry(entry, args.lang), file=env.stdout)
    return 0


def search_entries(args: argparse.Namespace, env) -> int:
    matches = _kb(env).search(" ".join(args.words), limit=10)
    for m in matches:
        print(f"{m.entry.id:<32} {m.score:.2f}  {m.entry.title.get(args.lang)}", file=env.stdout)
    return 0 if matches else 1
