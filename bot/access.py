"""Who may use the bot: the chat allow-list in front of every handler, and the admins."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from newsbot.bot.state import Context, state

log = logging.getLogger(__name__)

REFUSAL = "Sorry, this bot only answers in the chats it was set up for. Ask its owner if you would like access."


async def gate(update: Update, context: Context) -> None:
    """Stops updates from chats outside the allow-list, refusing each such chat once."""
    bot = state(context)
    allowed = bot.settings.allowed_chat_ids
    if not allowed:
        return
    chat, user = update.effective_chat, update.effective_user
    who = chat.id if chat is not None else (user.id if user is not None else None)
    if who in allowed:
        return
    # A message is told once per chat: marked and checked in one step, which replicas share.
    message = update.effective_message if update.inline_query is None and update.callback_query is None else None
    if who is None:
        first = True  # nothing to remember it by
    elif message is not None:
        first = await bot.shared.refuse(who)
    else:
        first = not await bot.shared.was_refused(who)
    # Who, never the text: the log must not hold strangers' messages. Loud once per chat only.
    log.log(
        logging.WARNING if first else logging.DEBUG,
        "refused update %s from chat %s (user %s): not in allowed_chat_ids",
        update.update_id,
        chat.id if chat is not None else "-",
        user.id if user is not None else "-",
    )
    if update.inline_query is not None:
        await update.inline_query.answer([], cache_time=60, is_personal=True)
    elif update.callback_query is not None:
        await update.callback_query.answer("Sorry, this bot is not open to this chat.")
    elif who is not None and first and message is not None:
        await message.reply_text(REFUSAL)
    raise ApplicationHandlerStop


def is_admin(update: Update, context: Context, what: str) -> bool:
    """Whether the sender may run admin command ``what``; a refusal is logged (who, not what they wrote)."""
    user = update.effective_user
    if user is not None and user.id in state(context).settings.admin_ids:
        return True
    log.warning(
        "refused %s from user %s in chat %s: not in admin_ids",
        what,
        user.id if user is not None else "-",
        update.effective_chat.id if update.effective_chat else "-",
    )
    return False


MANAGERS = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def is_group_admin(update: Update, context: Context, what: str) -> bool:
    """Whether the sender may run ``what`` here: anyone in a private chat; in a group its admins
    (asked of Telegram with getChatMember), an anonymous admin posting as the group, or the bot's
    admins. A refusal is logged (who, not what they wrote)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or chat.type == Chat.PRIVATE:
        return True
    if user is not None and user.id in state(context).settings.admin_ids:
        return True
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # Telegram hides an anonymous admin behind the group itself
    status = None
    if user is not None:
        try:
            status = (await context.bot.get_chat_member(chat.id, user.id)).status
        except TelegramError as exc:
            log.warning("could not check whether user %s is an admin of chat %s: %s", user.id, chat.id, exc)
    if status in MANAGERS:
        return True
    log.warning(
        "refused %s from user %s in chat %s: not an admin of the group", what, user.id if user else "-", chat.id
    )
    return False
