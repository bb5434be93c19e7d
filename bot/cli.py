"""The `loaban` command: serve, worker, migrate, create-admin, import-content, qa, bulletin, locales."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import logs
from bot.config import Settings, get_settings
from bot.media import store

if TYPE_CHECKING:
    from bot.bulletins.models import Bulletin
    from bot.bulletins.service import Audience as BulletinAudience
    from bot.db import Database
    from bot.qa.engine import Engine


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The database of one CLI command; the engine is disposed after."""
    import bot.models  # noqa: F401  (every mapped class, so relationships across domains resolve)
    from bot.db import Database

    db = Database(settings.database_url)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def _transaction(settings: Settings) -> Iterator[Session]:
    """One transaction for one CLI command, committed if it succeeds."""
    with _database(settings) as db, db.transaction() as session:
        yield session


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
                language_codes=args.language,
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


def _migrated(settings: Settings) -> bool:
    """Whether the database exists and `loaban migrate` made it; says what to do when not."""
    from bot.migrations import migrated

    if migrated(settings.database_url):
        return True
    print(
        "error: the database in LOABAN_DATABASE_URL is missing or was never set up (no file, or no "
        "schema). If it was lost, restore it from a backup; for a new installation run `loaban migrate`.",
        file=sys.stderr,
    )
    return False


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Apply migrations to the database `loaban migrate` made, then serve the web chat, admin and
    Telegram on one port."""
    import uvicorn

    from bot.migrations import upgrade
    from bot.server import create_app

    if not _migrated(settings):
        return 2
    upgrade(settings.database_url)
    try:
        app = create_app(settings, polling=args.polling)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Loa Bản on http://{host}:{port}  (web chat /chat, admin /admin, health /healthz)")
    # Forwarded headers are believed only from LOABAN_TRUSTED_PROXIES, by the app itself (bot.security);
    # uvicorn logs through the scrubbing root handler (logs.configure), not through its own.
    uvicorn.run(app, host=host, port=port, proxy_headers=False, log_level=settings.log_level, log_config=None)
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    """Send bulletins and run jobs (a bulletin's audio) in a process of its own (run `serve` with
    LOABAN_RUN_WORKER=false beside it; every process runs jobs, claiming each once)."""
    import asyncio
    import signal

    from bot.migrations import upgrade
    from bot.server import build_runtime, running

    if not _migrated(settings):
        return 2
    upgrade(settings.database_url)

    async def work() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        # A sender never receives updates, so needs no webhook secret: built as a poller that never polls.
        async with running(build_runtime(settings, polling=True), sender=True, receive=False):
            print("Loa Bản bulletin worker running (bulletins and jobs); Ctrl-C to stop.", flush=True)
            await stop.wait()

    asyncio.run(work())
    return 0


def _audience(args: argparse.Namespace) -> BulletinAudience:
    """--area codes (a province or a commune each), --village ids, --audience-lang, --role."""
    from bot.areas import service as areas
    from bot.bulletins.service import Audience

    provinces = [code for code in args.area if areas.get_province(code) is not None]
    communes = [code for code in args.area if code not in provinces and areas.get_commune(code) is not None]
    unknown = [code for code in args.area if code not in provinces and code not in communes]
    if unknown:
        raise SystemExit(f"error: unknown province or commune code(s): {', '.join(map(str, unknown))}")
    return Audience(
        tuple(provinces), tuple(communes), tuple(args.village), tuple(args.audience_lang), tuple(args.role)
    )


def cmd_bulletin_create(settings: Settings, args: argparse.Namespace) -> int:
    """Create a draft bulletin in one language; its audio is the given recording or text-to-speech."""
    from bot.audio import service as audio
    from bot.audio.ffmpeg import AudioError
    from bot.audio.tts import SpeechError
    from bot.bulletins import service as bulletins
    from bot.media import service as media

    text = Path(args.text_file).read_text(encoding="utf-8")
    upload = (Path(args.audio).read_bytes(), Path(args.audio).name) if args.audio else None
    images = [Path(p).read_bytes() for p in args.image]
    if any(media.image_type(data) is None for data in images):
        print("error: pictures must be JPEG or PNG", file=sys.stderr)
        return 2
    try:
        clip = audio.clip_for(settings, text, args.lang, upload)
    except AudioError as exc:
        print(f"error: the recording cannot be used: {exc}", file=sys.stderr)
        return 2
    except SpeechError as exc:
        print(f"warning: no audio for '{args.lang}' ({exc}); the bulletin is text only", file=sys.stderr)
        clip = None
    audience = _audience(args)
    files = store.of(settings)
    try:
        with _database(settings) as db:
            uploaded = audio.upload(db, files, clip) if clip else None  # written before the transaction
            pictures = [
                media.upload(db, files, data, kind="image", mime=media.image_type(data) or "")
                for data in images
            ]
            with db.transaction() as session:
                stored = audio.record(session, files, uploaded) if uploaded else None
                image_ids = [media.record(session, files, picture).id for picture in pictures]
                bulletin = bulletins.create(
                    session,
                    title=args.title,
                    versions=[(args.lang, text, stored)],
                    audience=audience,
                    image_ids=image_ids,
                    urgent=args.urgent,
                )
                bulletin_id = bulletin.id
    except bulletins.BulletinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(bulletin_id)
    return 0


def _on_bulletin(settings: Settings, bulletin_id: int, act: Callable[[Session, Bulletin], str]) -> int:
    """Run one action on a bulletin in one transaction and print its outcome, or why it was refused."""
    from bot.bulletins import service as bulletins

    try:
        with _transaction(settings) as session:
            bulletin = bulletins.get(session, bulletin_id=bulletin_id)
            if bulletin is None:
                raise bulletins.BulletinError("no bulletin {id}", id=bulletin_id)
            outcome = act(session, bulletin)
    except bulletins.BulletinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Bulletin {bulletin_id}: {outcome}.")
    return 0


def cmd_bulletin_send(settings: Settings, args: argparse.Namespace) -> int:
    """Queue a bulletin for everyone in its audience, now or at --at, and build its outbox."""
    from datetime import UTC, datetime, timedelta

    from bot.bulletins import outbox
    from bot.bulletins import service as bulletins
    from bot.db import Database
    from bot.people.windows import reply_windows

    at = None
    if args.at:
        at = datetime.fromisoformat(args.at)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    lead, windows = timedelta(minutes=settings.relay_lead_minutes), reply_windows(settings)

    def queue(session: Session, bulletin: Bulletin) -> str:
        queued = bulletins.send(session, bulletin, lead=lead, at=at, urgent=args.urgent, windows=windows)
        return f"{queued} recipients, outbox being prepared ({bulletin.status.value})"

    sent = _on_bulletin(settings, args.id, queue)
    if sent == 0:  # build it here too, so the command also works with no worker running yet
        db = Database(settings.database_url)
        try:
            outbox.build(db, windows, args.id)
            with db.transaction() as session:
                queued = bulletins.progress(session, args.id).total
        finally:
            db.dispose()
        print(f"Bulletin {args.id}: {queued} recipients queued.")
    return sent


def cmd_bulletin_status(settings: Settings, args: argparse.Namespace) -> int:
    """How a send stands, as a line or as JSON."""
    import json

    from bot.bulletins import service as bulletins

    with _transaction(settings) as session:
        bulletin = bulletins.get(session, bulletin_id=args.id)
        if bulletin is None:
            print(f"error: no bulletin {args.id}", file=sys.stderr)
            return 2
        counts = bulletins.progress(session, args.id).to_json()
        status = bulletin.status.value
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"Bulletin {args.id} ({status}): " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def cmd_bulletin_control(settings: Settings, args: argparse.Namespace) -> int:
    """pause, resume or cancel a send."""
    from bot.bulletins import service as bulletins

    action = {"pause": bulletins.pause, "resume": bulletins.resume, "cancel": bulletins.cancel}[args.action]

    def steer(session: Session, bulletin: Bulletin) -> str:
        action(session, bulletin)
        return bulletin.status.value

    return _on_bulletin(settings, args.id, steer)


def cmd_locales_status(settings: Settings, _args: argparse.Namespace) -> int:
    """How complete each language is for people: shipped catalog plus the strings reviewed in the
    workbench, and what still waits for a reviewer."""
    from bot.i18n import KNOWN_LANGUAGES, Catalogs
    from bot.translations import service as translations

    catalogs = Catalogs(settings.locales_dir, settings.languages)
    with _transaction(settings) as session:
        translations.refresh(session, catalogs)
        rows = [translations.progress(session, catalogs, code) for code in catalogs.available]
    print(f"{'language':<24} {'readable':>8} {'reviewed':>9} {'drafts':>7} {'missing':>8}")
    for p in rows:
        name = KNOWN_LANGUAGES[p.language].endonym if p.language in KNOWN_LANGUAGES else p.language
        state = "complete" if catalogs.is_complete(p.language) else "partial"
        label = f"{p.language} {name}"
        print(f"{label:<24} {p.readable:>7.0%} {p.reviewed:>9} {p.drafts:>7} {p.untranslated:>8}  {state}")
    return 0


def cmd_locales_pull(settings: Settings, _args: argparse.Namespace) -> int:
    """Write the strings reviewed in the workbench into locales/, for developers to commit."""
    from bot.translations import service as translations

    with _transaction(settings) as session:
        written = translations.write_back(session, settings.locales_dir, settings.languages)
    print("Written: " + (", ".join(f"{k}={v}" for k, v in written.items()) or "nothing"))
    return 0


def _engine(settings: Settings, kb: str | None, lexical_only: bool) -> Engine:
    """A Q&A engine over a YAML file (a throw-away index, the database untouched), else over the
    configured database's entries answerable on the deployment's local day."""
    from bot.db import local_today
    from bot.qa import service as qa
    from bot.qa.engine import Engine, load_embedder
    from bot.qa.evaluate import load_kb

    if kb is not None:
        entries = load_kb(Path(kb))
    else:
        with _transaction(settings) as session:
            entries = qa.as_engine_entries(qa.published_today(session, local_today(settings.timezone)))
    if not entries:
        raise SystemExit("error: no Q&A entries to answer from (import some, or give --kb PATH)")
    return Engine(entries, embedder=None if lexical_only else load_embedder())


def cmd_qa_ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer one question, or every {"q": …} line of a JSONL file, as JSON."""
    import json

    from bot.qa.evaluate import load_queries

    engine = _engine(settings, args.kb, args.lexical_only)

    def answer(question: str) -> dict[str, object]:
        verdict = engine.ask(question)
        best, hits = verdict.best, verdict.hits
        top = best or (hits[0] if hits else None)
        return {
            "id": best.id if best else None,
            "score": round(top.confidence, 4) if top else 0.0,
            "answered": best is not None,
            "covered": verdict.covered,  # False: "Loa Bản has no information on this", nothing offered
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
        unanswered = "(không trả lời)" if result["covered"] else "(chưa có thông tin)"
        print(f"{result['id'] or unanswered}  {result['score']}")
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

    sub.add_parser("worker", help="send bulletins in a process of its own").set_defaults(func=cmd_worker)

    bulletin = sub.add_parser("bulletin", help="write, send and follow bulletins")
    bsub = bulletin.add_subparsers(dest="bulletin_command", required=True)
    create = bsub.add_parser("create", help="create a draft bulletin; prints its id")
    create.add_argument("--title", required=True)
    create.add_argument("--text-file", required=True)
    create.add_argument("--lang", default="vi", help="language of the text and audio (vi, hmn, km…)")
    create.add_argument("--audio", help="a recording (mp3, m4a, ogg, wav…) instead of text-to-speech")
    create.add_argument("--image", action="append", default=[], help="a JPEG or PNG picture (repeatable)")
    create.add_argument("--area", type=int, action="append", default=[], help="province or commune code")
    create.add_argument("--village", type=int, action="append", default=[], help="village id (repeatable)")
    create.add_argument("--audience-lang", action="append", default=[], help="only people of this language")
    create.add_argument("--role", action="append", default=[], choices=["villager", "prestigious"])
    create.add_argument("--urgent", action="store_true")
    create.set_defaults(func=cmd_bulletin_create)
    send = bsub.add_parser("send", help="queue a bulletin for its audience")
    send.add_argument("id", type=int)
    send.add_argument("--at", help="ISO 8601 time to send at (UTC unless it has an offset)")
    send.add_argument("--urgent", action="store_true", help="everyone at once, even in quiet hours")
    send.set_defaults(func=cmd_bulletin_send)
    status = bsub.add_parser("status", help="delivery counts")
    status.add_argument("id", type=int)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_bulletin_status)
    for action in ("pause", "resume", "cancel"):
        control = bsub.add_parser(action, help=f"{action} a send")
        control.add_argument("id", type=int)
        control.set_defaults(func=cmd_bulletin_control, action=action)

    content = sub.add_parser("import-content", help="load content (villages…) from a folder")
    content.add_argument("path", nargs="?", help="folder (default: the shipped content/)")
    content.set_defaults(func=cmd_import_content)

    admin = sub.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--username", default="admin")
    admin.add_argument(
        "--role",
        default="province_admin",
        choices=["province_admin", "editor", "commune_officer", "viewer", "translator"],
    )
    admin.add_argument("--password", help="default: LOABAN_ADMIN_PASSWORD, else a printed one-time password")
    admin.add_argument("--commune", type=int, action="append", default=[], help="commune code (repeatable)")
    admin.add_argument("--language", action="append", default=[], help="a translator's language (repeatable)")
    admin.add_argument("--first", action="store_true", help="only if no admin exists yet")
    admin.set_defaults(func=cmd_create_admin)

    locales = sub.add_parser("locales", help="the catalogs and the workbench's reviewed strings")
    lsub = locales.add_subparsers(dest="locales_command", required=True)
    lsub.add_parser("status", help="completeness per language").set_defaults(func=cmd_locales_status)
    lsub.add_parser("pull", help="write reviewed strings into locales/").set_defaults(func=cmd_locales_pull)

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
    logs.configure(settings)
    code: int = args.func(settings, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
