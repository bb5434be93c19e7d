"""The `loaban` command: serve, migrate, create-admin, import-content."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import Settings, get_settings


@contextmanager
def _transaction(settings: Settings) -> Iterator[Session]:
    """One transaction for one CLI command, committed if it succeeds; the engine is disposed after."""
    from bot.db import Database

    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            yield session
    finally:
        db.dispose()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    """Bring the schema up to date."""
    from bot.migrations import upgrade

    upgrade(settings.database_url)
    print("Database schema is up to date.")
    return 0


def cmd_import_content(settings: Settings, args: argparse.Namespace) -> int:
    """Load sample or operator content; safe to run again."""
    from bot.content import ContentError, import_all

    try:
        with _transaction(settings) as session:
            results = import_all(session, Path(args.path or settings.content_dir))
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("Imported: " + (", ".join(f"{k}={v}" for k, v in results.items()) or "nothing"))
    return 0


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Create an admin; with --first, only when none exists (what `make run` does)."""
    from bot.accounts import service as accounts
    from bot.accounts.models import Role

    with _transaction(settings) as session:
        if args.first and accounts.count(session) > 0:
            print("An admin account already exists; nothing to do.")
            return 0
        password = args.password or settings.admin_password
        one_time = password is None
        password = password or accounts.generate_password()
        try:
            accounts.create(
                session,
                username=args.username,
                password=password,
                role=Role(args.role),
                commune_codes=args.commune,
                must_change_password=one_time,
            )
        except accounts.AccountError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        accounts.audit(session, None, "admin_created_cli", args.username, username="cli")
    print(f"Admin '{args.username}' created with role {args.role}.")
    if one_time:
        print(f"One-time password (change it at first login): {password}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Apply migrations, then serve the web chat, admin and Telegram on one port."""
    import uvicorn

    from bot.migrations import upgrade
    from bot.server import create_app

    upgrade(settings.database_url)
    try:
        app = create_app(settings, polling=args.polling)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Loa Bản on http://{host}:{port}  (web chat /chat, admin /admin, health /healthz)")
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level=settings.log_level)
    return 0


def _engine(settings: Settings, kb: str | None, lexical_only: bool):  # type: ignore[no-untyped-def]
    """A Q&A engine over a YAML file (a throw-away index, the database untouched), else over the
    configured database's published entries."""
    from bot.qa import service as qa
    from bot.qa.engine import Engine, load_embedder
    from bot.qa.evaluate import load_kb

    if kb is not None:
        entries = load_kb(Path(kb))
    else:
        with _transaction(settings) as session:
            entries = qa.as_engine_entries(qa.published_today(session))
    if not entries:
        raise SystemExit("error: no Q&A entries to answer from (import some, or give --kb PATH)")
    return Engine(entries, embedder=None if lexical_only else load_embedder())


def cmd_qa_ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer one question, or every {"q": …} line of a JSONL file, as JSON."""
    import json

    from bot.qa.evaluate import load_queries

    engine = _engine(settings, args.kb, args.lexical_only)

    def answer(question: str) -> dict[str, object]:
        best, hits = engine.ask(question)
        top = best or (hits[0] if hits else None)
        return {
            "id": best.id if best else None,
            "score": round(top.confidence, 4) if top else 0.0,
            "answered": best is not None,
        }

    if args.batch:
        for row in load_queries(Path(args.batch)):
            print(json.dumps({"q": row["q"], **answer(str(row["q"]))}, ensure_ascii=False))
        return 0
    if not args.question:
        print("error: give a question, or --batch FILE", file=sys.stderr)
        return 2
    result = answer(args.question)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{result['id'] or '(không trả lời)'}  {result['score']}")
    return 0


def cmd_qa_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import Q&A entries from YAML or Excel; a bad row refuses the file unless --skip-bad."""
    from bot.content import ContentError, import_knowledge

    try:
        with _transaction(settings) as session:
            count = import_knowledge(session, Path(args.path), skip_bad=args.skip_bad)
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Imported {count} Q&A entries.")
    return 0


def cmd_qa_export(settings: Settings, args: argparse.Namespace) -> int:
    """Export every Q&A entry as YAML, or as Excel when the file name ends in .xlsx."""
    import yaml

    from bot.qa import service as qa
    from bot.qa.spreadsheet import xlsx_from_rows

    with _transaction(settings) as session:
        rows = qa.export_rows(session)
    if args.path.lower().endswith(".xlsx"):
        Path(args.path).write_bytes(xlsx_from_rows(rows))
    else:
        Path(args.path).write_text(
            yaml.safe_dump(rows, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    print(f"Exported {len(rows)} Q&A entries to {args.path}.")
    return 0


def cmd_qa_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Top-1, top-3, MRR and false-answer rate, overall and per style."""
    import json

    from bot.qa.evaluate import evaluate, load_queries, table

    result = evaluate(_engine(settings, args.kb, args.lexical_only), load_queries(Path(args.queries)))
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else table(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Sub-commands and their options."""
    parser = argparse.ArgumentParser(
        prog="loaban", description="Loa Bản: the village loudspeaker that also listens"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve web chat, admin and Telegram")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--polling", action="store_true", help="take Telegram updates by long polling")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    content = sub.add_parser("import-content", help="load content (villages…) from a folder")
    content.add_argument("path", nargs="?", help="folder (default: the shipped content/)")
    content.set_defaults(func=cmd_import_content)

    admin = sub.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--username", default="admin")
    admin.add_argument(
        "--role", default="province_admin", choices=["province_admin", "editor", "commune_officer", "viewer"]
    )
    admin.add_argument("--password", help="default: LOABAN_ADMIN_PASSWORD, else a printed one-time password")
    admin.add_argument("--commune", type=int, action="append", default=[], help="commune code (repeatable)")
    admin.add_argument("--first", action="store_true", help="only if no admin exists yet")
    admin.set_defaults(func=cmd_create_admin)

    qa = sub.add_parser("qa", help="policy Q&A engine").add_subparsers(dest="qa_command", required=True)
    ask = qa.add_parser("ask", help="answer a question (or a JSONL batch) as JSON")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--kb", help="YAML knowledge base: a throw-away index (default: the database's entries)")
    ask.add_argument("--batch", help="JSONL file with a 'q' field per line")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--lexical-only", action="store_true", help="skip the semantic stage even if installed")
    ask.set_defaults(func=cmd_qa_ask)
    ev = qa.add_parser("eval", help="measure the engine on labelled queries")
    ev.add_argument("--kb", help="YAML knowledge base (default: the database's entries)")
    ev.add_argument("--queries", required=True)
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--lexical-only", action="store_true")
    ev.set_defaults(func=cmd_qa_eval)
    imp = qa.add_parser("import", help="import Q&A entries from YAML or Excel (.xlsx)")
    imp.add_argument("path")
    imp.add_argument("--skip-bad", action="store_true", help="import the good rows even if some are bad")
    imp.set_defaults(func=cmd_qa_import)
    exp = qa.add_parser("export", help="export Q&A entries to YAML or Excel (.xlsx)")
    exp.add_argument("path")
    exp.set_defaults(func=cmd_qa_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `loaban` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Bot API call drowns the useful ones
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    code: int = args.func(settings, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
