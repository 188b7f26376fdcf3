"""The benchmark's typed results: one row per figure, and the whole run."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

# Issue 11's targets for the postgres backend (bench/pgbench.py), as its rows name them.
PG_BUILD_TARGET = ">= 0.8 x FAISS backend, full build (same embedder)"
PG_WRITE_TARGET = ">= 0.8 x FAISS backend, writes only (embedding excluded)"
PG_ANSWER_TARGET = "answer p50 <= 50 ms at 100k"
PG_RECALL_TARGET = ">= 0.95 at the default ef_search"


@dataclass(frozen=True, slots=True)
class Row:
    """One measured figure, its bare-tool baseline when there is one, and its target."""

    section: str
    metric: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str | None = None
    target: str | None = None
    met: bool | None = None
    note: str | None = None
    load: float | None = None  # the machine's 1-minute load average when the figure was taken

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    """Median and 99th percentile latency of one system at one index size (for the plot)."""

    system: str
    chunks: int
    p50_ms: float
    p99_ms: float


@dataclass
class BenchReport:
    """Everything one `newsbot bench` run measured, and on what."""

    quick: bool
    machine: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    latency: list[LatencyPoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    checkpoint: Path | None = None  # when set, the JSON is rewritten after every row (long runs)

    def add(self, row: Row) -> Row:
        """Keeps ``row``, stamped with the machine's load now (figures from a busy machine say so)."""
        row = replace(row, load=round(machine_load(), 2)) if row.load is None else row
        self.rows.append(row)
        if self.checkpoint is not None:
            self.checkpoint.write_text(json.dumps(self.to_json(), indent=1))
        return row

    def to_json(self) -> dict:
        return {
            "quick": self.quick,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "rows": [asdict(r) | {"ratio": r.ratio} for r in self.rows],
            "latency": [asdict(p) for p in self.latency],
            "notes": self.notes,
        }


def machine_load() -> float:
    """The 1-minute load average (what `uptime` prints first); 0 where the OS has none."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def describe_machine() -> dict[str, str]:
    import faiss
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
        memory = f"{mem_kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "faiss": faiss.__version__,
        "numpy": np.__version__,
    }
