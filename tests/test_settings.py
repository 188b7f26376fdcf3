"""Settings: flag > environment > newsbot.toml > default, validated with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from newsbot.config.settings import Settings, load_settings


@pytest.fixture
def toml(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "newsbot.toml"
    path.write_text('seeds_dir = "from-toml"\nbatch_size = 7\ntop_k = 3\n')
    monkeypatch.setenv("NEWSBOT_CONFIG", str(path))
    return path


def test_precedence_flag_over_env_over_toml_over_default(toml, monkeypatch):
    monkeypatch.setenv("NEWSBOT_BATCH_SIZE", "9")
    settings = load_settings(top_k=None, seeds_dir=Path("from-flag"))
    assert settings.seeds_dir == Path("from-flag")  # flag beats toml
    assert settings.batch_size == 9  # env beats toml
    assert settings.top_k == 3  # toml beats default
    assert settings.index_dir == Path("data/index")  # default


def test_id_lists_accept_comma_separated_environment(toml, monkeypatch):
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "12, 34")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    settings = load_settings()
    assert settings.admin_ids == [12, 34]
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(
    "bad",
    [
        {"search_mode": "fuzzy"},
        {"batch_size": 0},
        {"admin_ids": "12,x"},
        {"telegram_api_url": "ftp://x"},
        {"fusion_depth": 0},
    ],
)
def test_bad_values_name_the_field_and_value(toml, bad):
    with pytest.raises(ValidationError) as info:
        Settings(**bad)
    assert next(iter(bad)) in str(info.value)


def test_unknown_keys_are_refused(toml):
    toml.write_text('seed_dir = "typo"\n')
    with pytest.raises(ValidationError, match="seed_dir"):
        load_settings()


@pytest.mark.parametrize(
    "name, value",
    [("max_follows", "0"), ("max_alerts_per_hour", "0"), ("follow_threshold", "1.5"), ("feed_interval_minutes", "-1")],
)
def test_follow_limits_are_validated_from_the_environment(toml, monkeypatch, name, value):
    monkeypatch.setenv(f"NEWSBOT_{name.upper()}", value)
    with pytest.raises(ValidationError) as info:
        load_settings()
    assert name in str(info.value) and value in str(info.value)
    described = Settings.model_fields[name].description
    assert described  # every follow setting says what it does


def test_answer_processes_is_a_count_or_auto(toml, monkeypatch):
    monkeypatch.delenv("NEWSBOT_ANSWER_PROCESSES", raising=False)
    assert load_settings().answer_processes == "auto"  # the shipped default
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert Settings(answer_processes="auto").answer_workers() == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert Settings(answer_processes="auto").answer_workers() == 0  # one core: threads
    monkeypatch.setenv("NEWSBOT_ANSWER_PROCESSES", "3")
    assert load_settings().answer_workers() == 3
    for bad in ("-1", "many", "65"):
        monkeypatch.setenv("NEWSBOT_ANSWER_PROCESSES", bad)
        with pytest.raises(ValidationError, match="answer_processes"):
            load_settings()
