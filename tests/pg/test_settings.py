"""The backend settings, and that the FAISS default never imports the postgres client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from newsbot.config.settings import Settings
from tests.conftest import ROOT


def test_database_url_comes_from_the_environment_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NEWSBOT_BACKEND", "postgres")
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql://bot:hunter2@db/news")
    settings = Settings()
    assert settings.backend == "postgres" and settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://bot:hunter2@db/news"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_a_backend_outside_the_two_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ValidationError, match="'faiss' or 'postgres'"):
        Settings(backend="sqlite")


def test_the_faiss_backend_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from newsbot import command\n"
        "from newsbot.config.settings import Settings\n"
        "from newsbot.index import backends\n"
        "from newsbot.retrieval.retriever import Retriever\n"
        f"assert not backends.index_exists(Settings(index_dir={str(tmp_path)!r}))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool', 'pgvector'))\n"
        "assert not loaded, loaded\n"
    )
    env_free = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert env_free.returncode == 0, env_free.stderr
