"""Test doubles that ship with newsbot: a stand-in Telegram Bot API server (``bot_api``) and a
checker of Telegram's HTML parse mode (``telegram_html``).

They are here, not under tests/, because `newsbot bench` drives the real bot against the fake
server, and shipped code never imports from tests/. Nothing in serving imports this package.
"""
