"""The install puts one name, `newsbot`, at top level, and a user's own `config.py` does not clash."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

USER_CODE = """
import config, bot                      # the user's own modules, not newsbot's
assert config.MINE and bot.MINE
import newsbot
from newsbot import AlsoIn, Answer, Article, Citation, Hit, Retriever, Settings, load_settings
assert sorted(newsbot.__all__) == ["AlsoIn", "Answer", "Article", "Citation", "Hit", "Retriever", "Settings", "load_settings"]
assert load_settings().top_k >= 1
import newsbot.command                  # the console script's module, every front end with it
print(Path(newsbot.__file__).parent)
"""


def _run_beside_own_config(folder: Path, env_path: str | None = None) -> str:
    (folder / "config.py").write_text("MINE = True\n")
    (folder / "bot.py").write_text("MINE = True\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "NEWSBOT_CONFIG": str(folder / "absent.toml")}
    if env_path:
        env["PYTHONPATH"] = env_path
    done = subprocess.run(
        [sys.executable, "-c", "from pathlib import Path\n" + USER_CODE],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_installed_package_works_from_a_folder_with_its_own_config_py(tmp_path: Path) -> None:
    # The test session runs on the editable install (pip install -e .).
    assert Path(_run_beside_own_config(tmp_path)) == ROOT / "newsbot"


@pytest.mark.slow
def test_a_built_wheel_holds_only_newsbot_and_works_beside_a_config_py(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("newsbot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "site")
    top = {name.split("/")[0] for name in names}
    assert top == {"newsbot", next(t for t in top if t.endswith(".dist-info"))}, top
    assert "newsbot/config/newsbot.toml" in names and "newsbot/bot/app.py" in names
    user = tmp_path / "project"
    user.mkdir()
    assert Path(_run_beside_own_config(user, env_path=str(tmp_path / "site"))) == tmp_path / "site" / "newsbot"
