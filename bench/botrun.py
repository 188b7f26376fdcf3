"""The bot section in a process of its own: ``python -m newsbot.bench.botrun SPEC``.

A bot starts as a fresh process (`newsbot serve`). Measured inside the bench's own process, last,
after the sections that load and free a million synthetic vectors, the bot's p99 at 30 sends/s came
out 1.03 s where the same commit's bot section run alone gave 0.80 s. So the bench measures the bot
here: the parent writes a spec (the index, its question model, the questions), this process runs
the bot against the fake Bot API (itself a further process, bench/bot_driver.py) and prints its
rows as JSON for the parent's report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from newsbot.bench.records import BenchReport, Row

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class BotSpec:
    """What the bot section serves and asks."""

    index_dir: Path
    seeds: Path  # what index_dir was built from (the bot's settings name it)
    export: Path  # the question model
    questions: tuple[str, ...]
    chats: int
    rounds: int
    workers: int  # also measure the other way of answering with this many workers (0: don't)

    def __post_init__(self) -> None:
        if self.chats < 1 or self.rounds < 1 or self.workers < 0:
            raise ValueError(
                f"chats and rounds must be >= 1 and workers >= 0, got {self.chats}, {self.rounds}, {self.workers}"
            )
        if len(self.questions) < self.chats * self.rounds:
            raise ValueError(f"{len(self.questions)} questions for {self.chats} chats x {self.rounds} rounds")

    def save(self, path: Path) -> Path:
        data = asdict(self) | {k: str(getattr(self, k)) for k in ("index_dir", "seeds", "export")}
        path.write_text(json.dumps(data | {"questions": list(self.questions)}), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> BotSpec:
        data = json.loads(path.read_text(encoding="utf-8"))
        paths = {k: Path(data[k]) for k in ("index_dir", "seeds", "export")}
        return cls(**(data | paths | {"questions": tuple(data["questions"])}))


def bench_bot_apart(report: BenchReport, spec: BotSpec, workdir: Path) -> None:
    """Runs the bot section in a child process and adds its rows and notes to ``report``."""
    done = subprocess.run(
        [sys.executable, "-m", "newsbot.bench.botrun", str(spec.save(workdir / "bot-spec.json"))],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the bot section failed (exit {done.returncode}); its errors are above")
    result = json.loads(done.stdout)
    report.notes.extend(result["notes"])
    for row in result["rows"]:
        report.add(Row(**{k: v for k, v in row.items() if k != "ratio"}))


def run(spec: BotSpec) -> BenchReport:
    """The bot as shipped, then (with ``spec.workers``) the other way of answering beside it."""
    from newsbot.bench.throughput import bench_bot
    from newsbot.config.settings import Settings, load_settings
    from newsbot.index.onnx_embedder import OnnxEmbedder
    from newsbot.retrieval.retriever import Retriever

    report = BenchReport(quick=False)

    def factory(s: Settings) -> Retriever:
        return Retriever.open(spec.index_dir, embedder=OnnxEmbedder(spec.export), settings=s, question_cache=0)

    settings = load_settings(index_dir=spec.index_dir, seeds_dir=spec.seeds)
    shipped = settings.answer_workers()
    report.notes.append(
        f"bot: answer_processes {settings.answer_processes!r}, so the bot answers "
        + (f"in {shipped} worker processes" if shipped else "on threads in its own process")
        + "; measured in a process of its own, as `newsbot serve` runs"
    )
    questions = list(spec.questions)
    bench_bot(report, settings, factory, questions, chats=spec.chats, rounds=spec.rounds)
    if spec.workers:
        other = 0 if shipped else spec.workers
        variant = f"answers in {other} worker processes" if other else "answers on threads in the bot's process"
        print(f"bench: bot again, {variant} ...", file=sys.stderr, flush=True)
        changed = settings.model_copy(update={"answer_processes": other})
        bench_bot(report, changed, factory, questions, chats=spec.chats, rounds=spec.rounds, variant=variant)
    return report


def main(argv: list[str]) -> None:
    report = run(BotSpec.load(Path(argv[0])))
    print(json.dumps({"rows": report.to_json()["rows"], "notes": report.notes}))


if __name__ == "__main__":
    main(sys.argv[1:])
