"""`newsbot serve`: run the Telegram bot, by long polling or behind a webhook."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from urllib.parse import urlsplit

import typer
from pydantic import ValidationError
from rich.console import Console

from newsbot.config.settings import Settings, explain, load_settings

if TYPE_CHECKING:
    from telegram.ext import Application

    from newsbot.index.embedder import SentenceTransformerEmbedder
    from newsbot.retrieval.retriever import Retriever

err = Console(stderr=True, highlight=False, soft_wrap=True)
SeedsOpt = Annotated[
    Path | None,
    typer.Option(
        "--seeds", help="Folder of articles to index (default: settings seeds_dir, 'seeds').", show_default=False
    ),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder (default: settings index_dir, 'data/index').", show_default=False),
]

TOKEN_SHAPE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token


class RedactingFormatter(logging.Formatter):
    """Formats records (tracebacks included) with every secret replaced by a placeholder.

    Unless verbose, python-telegram-bot's own records lose their tracebacks (its network errors
    are expected events) but keep the exception's one-line reason: "Exception happened while
    polling for updates" alone does not say what to fix.
    """

    def __init__(self, fmt: str, secrets: list[str], *, verbose: bool = False) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if not self.verbose and record.exc_info and record.name.startswith("telegram"):
            exc = record.exc_info[1]
            reason = f" ({type(exc).__name__}: {' '.join(str(exc).split())})" if exc is not None else ""
            plain = {"msg": record.getMessage() + reason, "args": None, "exc_info": None, "exc_text": None}
            record = logging.makeLogRecord(record.__dict__ | plain)
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


def configure_logging(secrets: list[str], verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets, verbose=verbose)
    )
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    # httpx logs every request URL, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    from newsbot.index.embedder import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder(settings.model_name, settings.batch_size)
    except ValueError as exc:
        fail(str(exc))


def open_retriever(settings: Settings) -> Retriever:
    """The configured index (built from the seeds on first use), or one clear line and an exit."""
    from newsbot.index.manifest import IndexProblem
    from newsbot.index.onnx_embedder import query_embedder
    from newsbot.retrieval.retriever import Retriever

    embedder = query_embedder(settings.index_dir, settings.model_name) or make_embedder(settings)
    try:
        return Retriever.from_settings(settings, embedder=embedder, show_progress_bar=True)
    except ValueError as exc:
        fail(str(exc))
    except IndexProblem as exc:
        fail(str(exc), 1)


def serve(
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            metavar="URL",
            help="Public HTTPS URL Telegram should post updates to; without it the bot uses long polling.",
            show_default=False,
        ),
    ] = None,
    listen: Annotated[str, typer.Option("--listen", help="Address the webhook server binds to.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port the webhook server listens on.")] = 8443,
    seeds: SeedsOpt = None,
    index_dir: IndexOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log debug details.")] = False,
) -> None:
    """Run the Telegram bot (token from TELEGRAM_BOT_TOKEN; see README "Run the bot")."""
    from newsbot.bot.app import build_application

    settings, token, secret = checked_settings(seeds, index_dir, webhook)
    configure_logging([token, secret or "", *state_secrets(settings)], verbose)
    check_state(settings)

    # Load (or build) the index now, so problems surface as one clear line before polling starts.
    retriever = open_retriever(settings)
    count = retriever.article_count
    application = build_application(settings, hand_over(retriever), webhook=webhook is not None)
    del retriever  # the bot holds it now, and lets it go when a /reindex replaces it
    err.print(
        f"serving {count} article{'s' if count != 1 else ''} by "
        + (f"webhook at {webhook}" if webhook else "long polling")
        + (f"; polling feeds every {settings.feed_interval_minutes:g} min" if settings.feed_interval_minutes else "")
        + "; Ctrl+C stops"
    )
    run_application(application, settings, token, Webhook(webhook, listen, port, secret) if webhook else None)


def hand_over(retriever: Retriever) -> Callable[[Settings], Retriever]:
    """A retriever factory that gives ``retriever`` once and keeps no reference to it: a factory
    that closed over it would keep a replaced index's memory and files for the process's life."""
    handed = [retriever]

    def factory(_settings: Settings) -> Retriever:
        if not handed:
            raise RuntimeError("the opened index was handed over already")
        return handed.pop()

    return factory


def state_secrets(settings: Settings) -> list[str]:
    """What the logs must never show of the state server's and the database's URLs: their
    passwords (and the URLs whole)."""
    secrets: list[str] = []
    for secret in (settings.redis_url, settings.database_url):
        if secret is None:
            continue
        url = secret.get_secret_value()
        try:
            password = urlsplit(url).password
        except ValueError:  # a URL the client will refuse anyway; hide all of it
            password = None
        secrets += [url, *([password] if password else [])]
    return secrets


def check_state(settings: Settings) -> None:
    """With shared state, reaches the server once now: a wrong address or password is one clear
    line and exit code 2 before the index loads, not an apology on every question later."""
    if settings.state_backend != "redis" or settings.redis_url is None:
        return
    from newsbot.bot.shared.redis_state import StateUnavailable, check_reachable

    try:
        check_reachable(settings.redis_url.get_secret_value())
    except StateUnavailable as exc:
        fail(str(exc))


def checked_settings(
    seeds: Path | None, index_dir: Path | None, webhook: str | None
) -> tuple[Settings, str, str | None]:
    """The settings, the token and the webhook secret, or one clear line and exit code 2."""
    try:
        settings = load_settings(seeds_dir=seeds, index_dir=index_dir)
    except ValidationError as exc:
        fail(explain(exc))
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        fail("TELEGRAM_BOT_TOKEN is not set; create a bot with @BotFather and export the token it gives you")
    if not TOKEN_SHAPE.match(token):
        fail(
            "TELEGRAM_BOT_TOKEN is malformed; it should look like 123456789:AAE... "
            "(digits, a colon, then letters, digits, _ or -), as @BotFather gives it"
        )
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if webhook is not None:
        if urlsplit(webhook).scheme not in ("http", "https") or not urlsplit(webhook).netloc:
            fail(f"--webhook must be a full URL such as https://bot.example.org/telegram, got {webhook!r}")
        if not secret or not SECRET_SHAPE.match(secret):
            fail("webhook mode needs NEWSBOT_WEBHOOK_SECRET: 1-256 characters from A-Z, a-z, 0-9, _ and -")
    return settings, token, secret


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates, and where the bot listens for them."""

    url: str
    listen: str
    port: int
    secret: str | None


def run_application(application: Application, settings: Settings, token: str, webhook: Webhook | None) -> None:
    """Runs the bot until Ctrl+C; a failure to start is one clear line and exit code 1."""
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    try:
        if webhook is None:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
        else:
            application.run_webhook(
                listen=webhook.listen,
                port=webhook.port,
                url_path=urlsplit(webhook.url).path.lstrip("/"),
                webhook_url=webhook.url,
                secret_token=webhook.secret,
                allowed_updates=Update.ALL_TYPES,
            )
    except InvalidToken:
        fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather (/token)", 1)
    except NetworkError as exc:
        fail(f"cannot reach the Bot API at {settings.telegram_api_url}: {_redact(str(exc), token)}", 1)
    except TelegramError as exc:  # e.g. bot/replies.py's UnreadableReply: another server answered
        fail(f"cannot use the Bot API at {settings.telegram_api_url}: {_redact(str(exc), token)}", 1)


def _redact(text: str, token: str) -> str:
    return text.replace(token, "<redacted>")
