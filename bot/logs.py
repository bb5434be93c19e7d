"""Logs that say what happened, never what was said: no message text, phone number, token or secret, at any
level. Libraries that print whole requests or updates at debug level lose those arguments; every line is
then scrubbed of the deployment's secrets, phone numbers and the bearer parts of links."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

from bot.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SECRET_SETTINGS = (
    "telegram_token",
    "telegram_webhook_secret",
    "zalo_app_secret",
    "zalo_oa_secret_key",
    "zalo_refresh_token",
    "secret_key",
    "admin_password",
    "s3_secret_access_key",
)
# python-telegram-bot logs each Bot API call with its parameters and each update whole at debug level.
PAYLOAD_LOGGERS = ("telegram",)
PLAIN_ARGUMENT = re.compile(r"^[\w.:/-]{0,64}$")  # a method name, a path, a number: not a payload
HIDDEN = "[…]"
SCRUBBED = (
    # Vietnamese phone numbers: 0 or +84, then 9 or 10 digits, spaced or not.
    (re.compile(r"(?<![\w+])(?:\+84|84|0)(?:[ .-]?\d){8,10}(?![\w])"), "[số điện thoại]"),
    # Bearer parts of links and addresses: a web chat's session, a data export's token, the token or
    # signature that opens a person's file.
    (re.compile(r"((?:session|token|sig)=)[\w-]+"), r"\1" + HIDDEN),
    (re.compile(r"(/privacy/export/)[\w-]+"), r"\1" + HIDDEN),
    (re.compile(r"(web:)[\w-]{16,64}"), r"\1" + HIDDEN),
)
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

_secrets: set[str] = set()


def hide(*values: str | None) -> None:
    """Secrets learnt while running (Zalo's rotating tokens) are scrubbed like the configured ones."""
    for value in values:
        if value and len(value) >= 6:
            _secrets.add(value)
            if ":" in value:  # a Telegram bot token: its secret half alone too
                _secrets.add(value.split(":", 1)[1])


def scrub(text: str) -> str:
    """A log line without secrets, phone numbers or bearer tokens."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    for pattern, replacement in SCRUBBED:
        text = pattern.sub(replacement, text)
    return text


class DropPayloads(logging.Filter):
    """Arguments of library log calls that are whole requests, answers or updates are replaced, so message
    texts, names and files never reach a log even at debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, without its payloads."""
        if record.name.startswith(PAYLOAD_LOGGERS) and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_plain(arg) for arg in args)
        return True


def _plain(arg: Any) -> Any:
    """A scalar argument as it is; anything that may carry content, hidden."""
    if arg is None or isinstance(arg, int | float | bool):
        return arg
    return arg if isinstance(arg, str) and PLAIN_ARGUMENT.match(arg) else HIDDEN


class ScrubbingFormatter(logging.Formatter):
    """Formats as usual, then scrubs the whole line, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        """The scrubbed line."""
        return scrub(super().format(record))


def configure(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log of the process (uvicorn's too) through one scrubbing handler at the configured level;
    below debug, httpx's one line per request stays at warning. Returns the handler, so it can be taken
    away again."""
    hide(*(getattr(settings, name) for name in SECRET_SETTINGS))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(ScrubbingFormatter(FORMAT))
    handler.addFilter(DropPayloads())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    _route_through_root(UVICORN_LOGGERS)
    if settings.log_level != "debug":
        for name in ("httpx", "bm25s"):  # one line per call drowns the useful ones
            logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def _route_through_root(names: Iterable[str]) -> None:
    """Loggers that would print through their own handlers go through the root's scrubbing one instead."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
