"""A small dated news corpus, indexed with the fake embedder, for retrieval unit tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.retrieval.retriever import Retriever
from tests.conftest import write_article

ARTICLES = [
    (
        "macron-feb06.txt",
        "2022-02-06",
        "Al Jazeera",
        "Macron to meet Putin in Moscow",
        [
            "French President Emmanuel Macron is set to travel to Moscow on Monday to meet Vladimir Putin.",
            "After the visit to Moscow, Macron will travel to Kyiv on Tuesday for talks with Volodymyr Zelenskyy.",
        ],
    ),
    (
        "scholz-feb12.txt",
        "2022-02-12",
        "Reuters",
        "Scholz to visit Kyiv and Moscow",
        [
            "German Chancellor Olaf Scholz will visit Kyiv on 14 February and Moscow on 15 February.",
            "Scholz said Germany was ready for a serious dialogue with Russia about European security.",
        ],
    ),
    (
        "troops-feb10.txt",
        "2022-02-10",
        "Reuters",
        "Troops near the border",
        [
            "Russia has mustered some 100,000 troops near its borders with Ukraine, officials said.",
            "The exercises in Belarus are expected to last ten days.",
        ],
    ),
    (
        "troops-mar01.txt",
        "2022-03-01",
        "BBC",
        "Troop numbers grow",
        [
            "Russia has mustered some 150,000 troops near its borders with Ukraine, officials said.",
            "Talks between the delegations are planned in Belarus.",
        ],
    ),
    (
        "gas-jan20.txt",
        "2022-01-20",
        "AP",
        "Gas prices in Europe",
        [
            "Gas prices in Europe rose by 30 percent in January as supplies from Russia fell.",
            "Analysts expect prices to stay high until the spring.",
        ],
    ),
    (
        "wire-copy.txt",
        "2022-02-07",
        "Wire",
        "Macron to meet Putin in Moscow",
        [
            "French President Emmanuel Macron is set to travel to Moscow on Monday to meet Vladimir Putin.",
            "After the visit to Moscow, Macron will travel to Kyiv on Tuesday for talks with Zelenskyy.",
        ],
    ),
    (
        "quote-copy.txt",
        "2022-02-13",
        "DW",
        "Berlin on security talks",
        [
            "Scholz said Germany was ready for a serious dialogue with Russia about European security.",
            "Opposition leaders in Berlin asked for a debate in the Bundestag first.",
        ],
    ),
]


def write_news(folder: Path) -> Path:
    sidecar = []
    for name, day, source, title, paragraphs in ARTICLES:
        write_article(folder, name, title, *paragraphs)
        sidecar.append({"file": name, "date": day, "source": source})
    (folder / "articles.jsonl").write_text("\n".join(json.dumps(r) for r in sidecar) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def news_index(tmp_path: Path, fake_embedder) -> Path:
    seeds = write_news(tmp_path / "seeds")
    index = tmp_path / "index"
    IndexBuilder(fake_embedder, chunk_tokens=64).build(seeds, index)
    return index


@pytest.fixture
def retriever(news_index: Path, fake_embedder) -> Retriever:
    # Unit tests check the answer logic, not the shipped calibration: every bold span is shown.
    r = Retriever.open(news_index, embedder=fake_embedder, mode="hybrid", min_confidence=0.4, bold_confidence=0.0)
    yield r
    r.close()
