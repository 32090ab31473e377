"""`smtpbot explain [FILE ...|-]`: explain bounces, log lines, exception texts and questions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.text_explain import render_explanation
from knowledge.bounce import BadInput
from knowledge.explain import MAX_INPUT_BYTES, explain
from knowledge.load import default_kb

EXAMPLE = Path(__file__).parent / "examples" / "gmail-5.7.26.eml"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="explain a bounce, an SMTP reply, a log line or a question",
        description="Explain bounces (raw emails, DSNs, NDR text, log lines, exception text) or answer a "
        "question. Each FILE is one input; '-' or no FILE reads stdin; a single argument that is not a "
        "file is taken as the text itself.",
    )
    p.add_argument("inputs", nargs="*", metavar="FILE", help="files to explain, '-' for stdin, or the text itself")
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    p.add_argument("--lang", choices=("en", "pl"), help="answer language (default: the input's)")
    p.add_argument("--top", type=int, default=3, metavar="N", help="how many ranked entries (default 3)")
    p.set_defaults(func=run)


def _read(arg: str, env) -> tuple[str, bytes]:
    if arg == "-":
        stream = getattr(env.stdin, "buffer", None)
        data = stream.read(MAX_INPUT_BYTES + 1) if stream else env.stdin.read(MAX_INPUT_BYTES + 1).encode()
        return "<stdin>", data
    kind = _path_kind(arg)
    if kind == "file":
        with Path(arg).open("rb") as fh:
            return arg, fh.read(MAX_INPUT_BYTES + 1)
    if kind == "other":
        raise BadInput("not a regular file")
    if _looks_like_path(arg):
        raise BadInput("no such file")
    return "<argument>", arg.encode("utf-8")


def _path_kind(arg: str) -> str | None:
    """"file", "other" (a directory, a device...) or None: pasted text is no path, even when the OS
    cannot say so without an error (a name too long, a NUL byte)."""
    try:
        path = Path(arg)
        if path.is_file():
            return "file"
        return "other" if path.exists() else None
    except (OSError, ValueError):
        return None


def _looks_like_path(arg: str) -> bool:
    """A mistyped file name must not be explained as if it were bounce text."""
    return "\n" not in arg and " " not in arg.strip() and (
        "/" in arg or arg.lower().endswith((".eml", ".txt", ".msg", ".log", ".mbox")))


def run(args: argparse.Namespace, env) -> int:
    if args.top < 1 or args.top > 20:
        env.error("--top must be between 1 and 20")
        return 2
    inputs = args.inputs or ["-"]
    if len(inputs) > 1 and not any(_path_kind(a) or a == "-" or _looks_like_path(a) for a in inputs):
        # several words and no file among them: one question or reply line typed on the command line
        inputs = [" ".join(inputs)]
    if inputs == ["-"] and env.stdin_isatty:
        print("Paste a bounce or type a question, then Ctrl-D.", file=env.stderr)
    kb = default_kb(env.environ.get("SMTPBOT_KB"))
    status = 0
    for arg in inputs:
        try:
            name, data = _read(arg, env)
            expl = explain(data, kb, lang=args.lang, top=args.top)
        except (BadInput, OSError) as exc:
            name = arg if arg != "-" else "<stdin>"
            env.error(f"{name}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
            if args.json and len(inputs) > 1:  # keep one line per input
                print(json.dumps({"file": name, "error": str(exc)}, ensure_ascii=False), file=env.stdout)
            status = 2
            continue
        if args.json:
            obj = expl.to_json()
            if len(inputs) > 1:
                obj = {"file": name, **obj}
            print(json.dumps(obj, ensure_ascii=False), file=env.stdout)
        else:
            if len(inputs) > 1:
                print(f"==> {name} <==", file=env.stdout)
            print(render_explanation(expl, args.lang), file=env.stdout)
            if len(inputs) > 1:
                print(file=env.stdout)
        if not expl.matches and status == 0:
            status = 1
    return status


def run_demo(args: argparse.Namespace, env) -> int:
    """No Slack tokens and no console yet: explain the shipped example bounce."""
    print(f"smtpbot demo: explaining {EXAMPLE.name} (try `smtpbot --help`)\n", file=env.stdout)
    expl = explain(EXAMPLE.read_bytes(), default_kb(env.environ.get("SMTPBOT_KB")))
    print(render_explanation(expl), file=env.stdout)
    return 0

