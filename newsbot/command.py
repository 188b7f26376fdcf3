"""The `newsbot` command: the terminal commands of `cli/` plus `serve`, the Telegram front end.

Both front ends sit on `retrieval/` and neither imports the other; this module is where they meet.
"""

from __future__ import annotations

from newsbot.bot.serve import serve
from newsbot.cli import app

app.command()(serve)


def main() -> None:
    """Console entry point."""
    app()
