"""End to end over the wire: the real PTB Application against the fake Bot API."""

from __future__ import annotations

from newsbot.bot.app import COMMANDS
from newsbot.config.settings import Settings
from newsbot.testing.bot_api import BOT_USERNAME
from newsbot.testing.telegram_html import ALLOWED, tags_used
from tests.bot.conftest import run, running_bot

QUESTION = "when does Scholz visit Kyiv?"


def reply_to(call) -> int | None:
    params = call.params.get("reply_parameters") or {}
    return params.get("message_id")


def test_private_question_is_answered_in_html_quoting_the_question(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            commands = [c for c in bot.api.calls if c.method == "setMyCommands"]
            assert [c["command"] for c in commands[0].params["commands"]] == [c.command for c in COMMANDS]
            asked = await bot.api.message(QUESTION, chat_id=5, user_id=5)
            [sent] = await bot.api.wait_for("sendMessage")
            assert sent.params["parse_mode"] == "HTML"
            assert reply_to(sent) == asked["message_id"]
            assert "February 14" in sent.params["text"] and "<blockquote>" in sent.params["text"]
            assert tags_used(sent.params["text"]) <= set(ALLOWED)
            buttons = sent.params["reply_markup"]["inline_keyboard"][0]
            assert [b["text"] for b in buttons] == ["Sources", "More"]
            assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)

    run(scenario())


def test_a_quick_answer_spends_no_call_on_the_typing_indicator(bot_settings: Settings) -> None:
    """A slow answer shows it: see test_a_slow_question_does_not_hold_up_other_chats."""

    async def scenario() -> list:
        async with running_bot(bot_settings.model_copy(update={"typing_after": 60.0})) as bot:
            await bot.api.message(QUESTION, chat_id=5, user_id=5)
            await bot.api.wait_for("sendMessage")
            return bot.api.sent("sendChatAction", chat_id=5)

    assert run(scenario()) == []


def test_group_answers_only_what_is_addressed_to_the_bot(bot_settings: Settings) -> None:
    async def scenario() -> None:
        async with running_bot(bot_settings) as bot:
            group = {"chat_id": -100, "chat_type": "supergroup", "user_id": 5}
            await bot.api.message(QUESTION, **group)  # plain chatter: silence
            await bot.api.message(f"/ask@other_bot {QUESTION}", **group)
            await bot.api.message("/start@other_bot", **group)
            await bot.api.message("/nonsense", **group)
            await bot.api.settle()
            assert bot.api.sent(chat_id=-100) == []

            asked = await bot.api.message(f"/ask {QUESTION}", **group)
            [first] = await bot.api.wait_for("sendMessage")
            assert reply_to(first) == asked["message_id"]
            addressed = await bot.api.message(f"/ask@{BOT_USERNAME} {QUESTION}", **group)
            mention = await bot.api.message(f"@{BOT_USERNAME} {QUESTION}", **group)
            reply = await bot.api.message("and on which day Moscow?", reply_to=first.result, **group)
            answers = await bot.api.wait_for("sendMessage", count=4)
            await bot.api.settle()
            assert len(bot.api.sent(chat_id=-100)) == 4
            assert sorted(reply_to(a) for a in answers) == sorted(
                m["message_id"] for m in (asked, addressed, mention, reply)
            )
            by_question = {reply_to(a): a.params["text"] for a in answers}
            assert all("February 14" in by_question[m["message_id"]] for m in (addressed, mention))

    run(scenario())
