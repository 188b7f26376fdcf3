"""Lays out the newsbot package as a wheel installs it, for tools that read files instead of importing.

    python scripts/package_tree.py mypy [ARGS]          # type check (what [tool.mypy] names)
    python scripts/package_tree.py lint-imports [ARGS]  # import contracts ([tool.importlinter])

pyproject.toml maps the top-level rooms (index/, retrieval/, ...) into `newsbot.…` with
[tool.setuptools.package-dir], and the editable install resolves that mapping with an import hook.
mypy and import-linter find modules by walking folders, so neither can see `newsbot.index` in the
checkout. This script lays out build/package-tree/newsbot/…: a real folder for each package that
[tool.setuptools] lists, holding a symlink to each of its source files (so reported paths open
the real file), then runs the named tool against that tree and exits with the tool's status.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "package-tree"


def lay_out() -> None:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    shutil.rmtree(TREE / "newsbot", ignore_errors=True)
    for package in setup["packages"]:
        source = ROOT / setup["package-dir"][package]
        target = TREE.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for file in sorted(source.glob("*.py")):
            (target / file.name).symlink_to(file)


# Each tool runs in this interpreter, so it sees the packages installed beside newsbot.
COMMANDS = {
    "mypy": ("mypy", ["-m", "mypy"]),
    "lint-imports": (
        "importlinter",
        ["-c", "from importlinter.cli import lint_imports_command; lint_imports_command(prog_name='lint-imports')"],
    ),
}


def _command(tool: str) -> list[str]:
    module, args = COMMANDS[tool]
    if importlib.util.find_spec(module) is None:
        raise SystemExit(f"error: {tool} is not installed; run: pip install -e '.[test]'")
    return [sys.executable, *args]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python scripts/package_tree.py {{{'|'.join(COMMANDS)}}} [ARGS]", file=sys.stderr)
        return 2
    tool, args = argv[0], argv[1:]
    lay_out()
    if tool == "mypy":
        # [tool.mypy] mypy_path names the tree, so `newsbot.…` resolves there.
        return subprocess.call([*_command(tool), *args], cwd=ROOT)
    # lint-imports puts its working folder first on sys.path, where the checkout's own newsbot/
    # (without the mapped rooms) would shadow the tree; so it runs from inside the tree.
    return subprocess.call([*_command(tool), str(ROOT / "pyproject.toml"), *args], cwd=TREE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
