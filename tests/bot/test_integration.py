"""The seed question, answered over the wire by the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbot.config.settings import Settings, load_settings
from newsbot.retrieval.retriever import Retriever
from newsbot.testing.telegram_html import visible_text
from tests.bot.conftest import run, running_bot
from tests.conftest import SEED_QUESTION


@pytest.mark.integration
def test_seed_question_is_answered_with_the_dates(seeds_copy: Path, tmp_path: Path, real_embedder) -> None:
    settings = load_settings(seeds_dir=seeds_copy, index_dir=tmp_path / "index")

    def factory(settings: Settings) -> Retriever:
        return Retriever.from_settings(settings, embedder=real_embedder)

    async def scenario() -> None:
        async with running_bot(settings, factory) as bot:
            asked = await bot.api.message(SEED_QUESTION)
            [sent] = await bot.api.wait_for("sendMessage", timeout=60)
            assert "February 14-15" in visible_text(sent.params["text"])  # what the reader sees
            assert sent.params["reply_parameters"]["message_id"] == asked["message_id"]
            follow = await bot.api.message("and when does he go to Moscow?")
            answers = await bot.api.wait_for("sendMessage", count=2, timeout=60)
            assert answers[1].params["reply_parameters"]["message_id"] == follow["message_id"]
            assert "Moscow" in visible_text(answers[1].params["text"])

    run(scenario())
