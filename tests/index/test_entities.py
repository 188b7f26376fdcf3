"""Entities: tagged once at index time with spaCy, made consistent, stored per chunk, read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbot.index.builder import IndexBuilder
from newsbot.index.entities import Entity, SpacyTagger, from_bytes, harmonised, to_bytes, within
from newsbot.index.folder import IndexReader
from tests.conftest import write_article


def test_entities_survive_storage_and_are_cut_to_a_window() -> None:
    found = (Entity(0, 5, "PERSON"), Entity(10, 14, "GPE"), Entity(20, 27, "DATE"))
    assert from_bytes(to_bytes(found)) == found
    assert within(found, 8, 22) == (Entity(2, 6, "GPE"),)


def test_bad_entities_name_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown entity label 'PLACE'"):
        Entity(0, 3, "PLACE")
    with pytest.raises(ValueError, match="start < end"):
        Entity(4, 4, "GPE")


def test_labels_are_made_consistent_within_a_text() -> None:
    text = "Chancellor Olaf Scholz met them. Scholz went to Kyiv. Kyiv was cold. Kyiv is big."
    raw = [
        Entity(11, 22, "ORG"),  # after a title: a person
        Entity(33, 39, "GPE"),  # ends a person's name in the same text: that person
        Entity(48, 52, "PERSON"),  # outvoted by the other two mentions
        Entity(54, 58, "GPE"),
        Entity(69, 73, "GPE"),
    ]
    assert [e.label for e in harmonised(text, raw)] == ["PERSON", "PERSON", "GPE", "GPE", "GPE"]


def test_spacy_tags_people_organisations_and_dates() -> None:
    text = "White House national security adviser Jake Sullivan spoke to Reuters on February 14-15."
    [found] = SpacyTagger().tag_batch([text])
    labels = {text[e.start : e.end]: e.label for e in found}
    assert labels["Jake Sullivan"] == "PERSON"
    assert labels["Reuters"] == "ORG"
    assert labels["February 14-15"] == "DATE"


def test_a_build_stores_each_chunks_entities_and_names_the_tagger(tmp_path: Path, fake_embedder) -> None:
    seeds = tmp_path / "seeds"
    write_article(seeds, "a.txt", "Talks", "President Emmanuel Macron will meet Vladimir Putin in Moscow on Monday.")
    IndexBuilder(fake_embedder).build(seeds, tmp_path / "index")
    reader = IndexReader.open(tmp_path / "index")
    assert reader.manifest.chunking["entities"] == SpacyTagger().name
    [chunk] = reader.chunks.iter_chunks()
    entities = reader.chunks.sentences([chunk.id])[chunk.id].entities
    assert entities is not None
    named = {chunk.text[e.start : e.end]: e.label for e in entities}
    assert named.get("Emmanuel Macron") == "PERSON" and named.get("Moscow") == "GPE"
    assert any(label == "DATE" for label in named.values())
    reader.close()
