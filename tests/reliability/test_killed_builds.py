"""Builds killed with SIGKILL at random moments never cost the live index, nor block the next build."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.index.folder import BUILD_PREFIX, CURRENT, LOCK, IndexReader
from tests.fakes.embedder import FakeEmbedder
from tests.reliability.helpers import (
    CHUNK_TOKENS,
    Child,
    check_index,
    expected_hashes,
    make_corpus,
    news_files,
)

KILLS = 20
PHASES = ("reading", "embedding", "writing", "swap")
# How long after a phase begins the kill may land (seconds); the child's delays keep each phase
# open at least this long, so kills spread across the whole phase, not just its first moment.
WINDOWS = {"reading": 0.25, "embedding": 0.5, "writing": 0.25, "swap": 0.9}
ANYTIME = 3.0


def _mutate(seeds: Path, pool: list[Path], rng: random.Random, round_no: int) -> None:
    """One round of edits, so an incremental build has something to add, update and remove."""
    news = sorted(p for p in seeds.glob("*.txt") if not p.name.startswith("000_"))
    changed = rng.choice(news)
    changed.write_text(changed.read_text() + f"\n\nUpdate {round_no}: the desk added a line.\n")
    rng.choice([p for p in news if p != changed]).unlink()
    fresh = pool.pop()
    (seeds / fresh.name).write_text(fresh.read_text())


def _child_args(full: bool, phase: str) -> list[str]:
    # Incremental builds embed few chunks, so each is slowed more to keep the window open.
    args = ["--read-delay", "0.01", "--pause", "0.15", "--embed-delay", "0.001" if full else "0.02"]
    return args + (["--full"] if full else [])


@pytest.mark.slow
def test_twenty_killed_builds_leave_a_working_index(tmp_path: Path) -> None:
    rng = random.Random(20260214)
    seeds = make_corpus(tmp_path / "seeds", news_files(every=40))
    pool = news_files(every=40, offset=20)
    index_dir = tmp_path / "index"
    IndexBuilder(FakeEmbedder(), chunk_tokens=CHUNK_TOKENS).build(seeds, index_dir)

    plan = [*PHASES * 4, *["anytime"] * 4]
    rng.shuffle(plan)
    landed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    live, _ = check_index(index_dir)
    for round_no, target in enumerate(plan):
        full = round_no % 2 == 0
        before = live
        _mutate(seeds, pool, rng, round_no)
        after = expected_hashes(seeds)
        assert after != before

        child = Child(seeds, index_dir, *_child_args(full, target))
        if target == "anytime":
            delay = rng.uniform(0, ANYTIME)
            child.wait_for("phase reading")
        else:
            delay = rng.uniform(0, WINDOWS[target])
            assert child.wait_for(f"phase {target}"), f"round {round_no}: child ended before {target}: {child.seen}"
        time.sleep(delay)
        killed = child.kill()
        assert not any(line.startswith("locked") for line in child.seen), (
            f"round {round_no}: a stale lock from the last killed build blocked this one"
        )
        landed[child.last_phase if killed else "finished"] += 1

        live, _ = check_index(index_dir)
        assert live in (before, after), f"round {round_no}: the live index is neither the old nor the new one"
        outcomes["new" if live == after else "old"] += 1
        assert (index_dir / LOCK).exists() or not killed

    print(
        f"\n{KILLS} builds ({KILLS // 2} full, {KILLS // 2} incremental) killed; kill landed in: "
        f"{dict(landed)}; live index afterwards: {dict(outcomes)}"
    )
    assert sum(landed.values()) == KILLS
    assert landed["finished"] <= 2, f"too few kills landed mid-build: {dict(landed)}"
    assert all(landed[p] >= 2 for p in PHASES), f"kills did not spread over the phases: {dict(landed)}"

    # One more build, left to finish: it clears what the killed ones left and holds exactly the seeds.
    child = Child(seeds, index_dir)
    assert child.finish() == 0, child.stderr
    assert check_index(index_dir)[0] == expected_hashes(seeds)
    left = sorted(p.name for p in index_dir.iterdir())
    assert not [n for n in left if n.startswith(BUILD_PREFIX) or n.endswith(".tmp")], left
    generations = [n for n in left if n.startswith("gen-")]
    assert set(left) == {CURRENT, LOCK, *generations} and 1 <= len(generations) <= 2, left
    assert IndexReader.open(index_dir, verify=True).folder.name == (index_dir / CURRENT).read_text().strip()
