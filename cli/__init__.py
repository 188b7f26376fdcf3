"""The terminal front end: one module per `newsbot` command, all registered on one Typer app."""

from newsbot.cli import ask, bench, chat, eval, feeds, index  # noqa: F401 - importing registers each command
from newsbot.cli.common import app

__all__ = ["app"]
