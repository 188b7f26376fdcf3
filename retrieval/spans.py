"""The short answer inside an excerpt: the date, number, name or place the question asks for.

No extractive reader model installs offline (they all download weights). Candidates are the named
entities spaCy found at index time whose label fits the question ("who" -> PERSON, "where" ->
GPE/LOC/FAC, "when" -> DATE/TIME, "how many" -> CARDINAL/QUANTITY/MONEY/PERCENT); entities the
question itself names are never the answer; of the rest, the one nearest the question's own words
in the sentence wins (answers sit beside what the question restates). Chunks indexed without
entities fall back to patterns. When no candidate fits, the excerpt alone is the answer.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass

from newsbot.index.entities import Entity
from newsbot.retrieval.text import STOPWORDS, stem, words

DATE, NUMBER, PERSON, PLACE, ORGANISATION = "date", "number", "person", "place", "organisation"

# Which entity labels answer which kind of question.
LABELS_FOR = {
    DATE: frozenset({"DATE", "TIME"}),
    NUMBER: frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    PERSON: frozenset({"PERSON", "ORG", "NORP"}),
    PLACE: frozenset({"GPE", "LOC", "FAC"}),
    ORGANISATION: frozenset({"ORG"}),
}
# "how long", "how old": durations and ages are DATE entities in OntoNotes.
_DURATION = re.compile(r"\bhow\s+(long|old)\b", re.I)
# "who is Scholz?" asks for a description, not another name: no entity answers it.
_DESCRIPTION = re.compile(
    r"^\s*(?:who|what)\s+(?:is|was|are|were)\s+(?:the\s+)?[A-Za-z][\w.\-]*(?:\s+[A-Za-z][\w.\-]*)?\s*\??\s*$", re.I
)

_TYPE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        ORGANISATION,
        re.compile(
            r"\b(which|what)\s+(newspaper|paper|agency|company|firm|organi[sz]ation|party|broadcaster|channel|"
            r"network|group|bank|union|alliance|bloc|ministry|court|team|club|university)\b",
            re.I,
        ),
    ),
    (
        DATE,
        re.compile(
            r"^\s*when\b|\b(what|which|in what)\s+(year|date|day|month|decade|century|time)\b|"
            r"\bhow long ago\b|\bsince when\b",
            re.I,
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\bhow\s+(many|much|long|old|far|big|large|tall|high|often|fast)\b|"
            r"\b(what|which)\s+(number|percentage|percent|amount|proportion|share|rate|price|cost)\b",
            re.I,
        ),
    ),
    (
        PERSON,
        re.compile(
            r"^\s*(who|whom|whose)\b|\bwho\s+(is|was|were|are|did|does|will)\b|"
            r"\b(which|what)\s+(person|president|minister|leader|official|man|woman|player|"
            r"scientist|author|politician|diplomat|journalist|spokesman|spokeswoman|spokesperson)\b",
            re.I,
        ),
    ),
    (
        PLACE,
        re.compile(
            r"^\s*where\b|\bwhere\s+(is|was|were|are|did|does|will)\b|"
            r"\b(which|what)\s+(country|city|town|place|region|state|location|capital|continent)\b",
            re.I,
        ),
    ),
]

_MONTH_NAMES = [m for m in calendar.month_name if m] + [m for m in calendar.month_abbr if m]
_MONTH = r"(?:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# A day, or a range of days ("14-15", "14 to 15", "14 and 15"): a range is one answer, not two.
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?:\s*(?:[-–]|to|and|until)\s*\d{1,2}(?:st|nd|rd|th)?)?"
_DATE_RE = re.compile(
    rf"\b(?:(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|(?:the\s+)?(?:1[0-9]|20)\d0s"
    rf"|(?:1[0-9]|20)\d\d(?:\s*[-–]\s*(?:1[0-9]|20)?\d\d)?"
    rf"|{_WEEKDAY}|{_MONTH}"
    rf"|(?:yesterday|today|tomorrow|tonight)"
    rf"|(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)|\w+teenth|first|second|third)\s+century)\b"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|dozen|dozens|hundreds|thousands|millions|half"
)
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion|bn|m))?"
_UNIT = (
    r"(?:\s*(?:%|percent|per\s+cent|per\s+cent\.|years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
    r"km|kilometres|kilometers|miles|metres|meters|feet|kg|tonnes|tons|people|points|times))?"
)
_NUMBER_RE = re.compile(
    rf"(?:[$€£¥]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|(?:{_NUMBER_WORDS})(?:[-\s](?:{_NUMBER_WORDS}))*){_SCALE}{_UNIT}\b"
    r"(?:\s*%)?",
    re.I,
)
# A name: capitalised words, allowing particles (de, van, bin) and initials inside.
_NAME_RE = re.compile(
    r"\b[A-Z][\w’'\-]*\.?(?:\s+(?:(?:de|da|del|der|van|von|bin|al|la|le|of|the)\s+)?[A-Z][\w’'\-]*\.?)*"
)
_NOT_NAMES = (
    frozenset(w.lower() for w in _MONTH_NAMES)
    | {
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }
    | STOPWORDS
)


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets of the short answer inside the text it was found in."""

    start: int
    end: int
    kind: str


def answer_type(question: str) -> str | None:
    """date, number, person, place or organisation when the question asks for one, else None."""
    if _DESCRIPTION.match(question):
        return None
    for kind, rule in _TYPE_RULES:
        if rule.search(question):
            return kind
    return None


def labels_for(question: str, kind: str | None) -> frozenset[str]:
    """The entity labels that can answer ``question`` of this kind."""
    if kind is None:
        return frozenset()
    if kind == NUMBER and _DURATION.search(question):
        return LABELS_FOR[NUMBER] | {"DATE"}
    return LABELS_FOR[kind]


def _candidates(text: str, kind: str) -> list[tuple[int, int]]:
    if kind == DATE:
        return [m.span() for m in _DATE_RE.finditer(text)]
    if kind == NUMBER:
        return [m.span() for m in _NUMBER_RE.finditer(text) if any(ch.isalnum() for ch in m.group(0))]
    spans = []
    for m in _NAME_RE.finditer(text):
        start, end = m.span()
        name = m.group(0).rstrip(".")
        end = start + len(name)
        tokens = [t.lower() for t in words(name)]
        while tokens and tokens[0] in _NOT_NAMES:  # "The", "In" at the start of a sentence
            first = re.match(r"\S+\s*", text[start:end])
            start += first.end() if first else len(name)
            tokens = tokens[1:]
        if tokens and start < end:
            spans.append((start, end))
    return spans


def _after_preposition(text: str, start: int) -> bool:
    return (
        re.search(r"\b(in|at|from|to|near|into|across|outside|inside|of)\s+$", text[max(0, start - 12) : start], re.I)
        is not None
    )


def question_stems(question: str) -> frozenset[str]:
    """The stems of the question's content words: what a candidate must not merely repeat."""
    return frozenset(stem(w) for w in words(question) if w not in STOPWORDS)


def candidates(
    question: str,
    text: str,
    kind: str | None,
    entities: Sequence[Entity] | None = None,
    asked: frozenset[str] | None = None,
) -> list[tuple[int, int]]:
    """Spans of ``text`` that could answer: entities of a fitting label the question does not name.

    ``entities`` are the text's stored entities (offsets into ``text``); None means the text was
    indexed without them, and patterns stand in. ``asked``: the question's stems, when the caller
    has them already (they are the same for every sentence of an answer).
    """
    if kind is None:
        return []
    if entities is None:
        found = _candidates(text, kind)
    else:
        wanted = labels_for(question, kind)
        found = [(e.start, e.end) for e in entities if e.label in wanted]
    if asked is None:
        asked = question_stems(question)
    fresh = []
    for start, end in found:
        tokens = [stem(t) for t in words(text[start:end]) if t not in STOPWORDS]
        # A name sharing a word with the question is what it asks about, not the answer ("who met
        # Biden?" is not answered by "Joe Biden"); an amount may repeat its unit ("308 points").
        named = all(t in asked for t in tokens) if kind in (DATE, NUMBER) else any(t in asked for t in tokens)
        if tokens and not named:
            fresh.append((start, end))
    return fresh


_YEAR_QUESTION = re.compile(r"\b(what|which|in what)\s+year\b", re.I)
_YEAR = re.compile(r"\b(1[0-9]|20)\d\d\b")


def _fits(question: str, text: str, kind: str, start: int, end: int, asked: frozenset[str]) -> int:
    """1 when a candidate has what the question's own words ask for, else 0 (a strong preference).

    "how many seconds were left?" is answered by the number followed by "seconds"; "what year"
    by a candidate holding a year.
    """
    if kind == NUMBER:
        following = words(text[end : end + 40])[:3]
        return int(any(stem(w) in asked for w in following) or any(stem(w) in asked for w in words(text[start:end])))
    if kind == DATE and _YEAR_QUESTION.search(question):
        return int(_YEAR.search(text[start:end]) is not None)
    return 0


@dataclass(frozen=True, slots=True)
class SpanCandidate:
    """A candidate short answer in a text, with what the span model reads of its place there."""

    start: int
    end: int
    label: str | None  # the entity's label; None for a pattern match in a text without entities
    closeness: float  # minus the summed distance to the question's words, over the text's length
    nearest: float  # distance to the closest of the question's words, over the text's length
    fits: bool  # has what the question's own words ask for (a unit, a year)
    rank: int  # 0 for the candidate nearest the question's words, then 1, 2, ...


def span_candidates(
    question: str, text: str, kind: str | None, entities: Sequence[Entity] | None = None
) -> list[SpanCandidate]:
    """Every candidate of ``kind`` in ``text``, nearest the question's words (and fitting) first."""
    if kind is None:
        return []
    asked = question_stems(question)
    # Where each of the question's words stands in the text: the answer sits amid all of them.
    anchors: dict[str, list[int]] = {}
    for m in re.finditer(r"\w+", text):
        word = stem(m.group(0).lower())
        if word in asked:
            anchors.setdefault(word, []).append(m.start())
    fresh = candidates(question, text, kind, entities, asked)
    if kind == PLACE and entities is None:
        # Places mostly follow a preposition; prefer those, but keep any name when none does.
        fresh = [s for s in fresh if _after_preposition(text, s[0])] or fresh
    labels = {(e.start, e.end): e.label for e in entities or ()}
    length = max(len(text), 1)
    scored = []
    for start, end in fresh:
        distances = [min(abs(a - start) for a in places) for places in anchors.values()]
        fits = _fits(question, text, kind, start, end, asked)
        scored.append((-sum(distances) + fits * len(text), start, end, distances, fits))
    # Stable: among equals the earlier candidate stays first.
    scored.sort(key=lambda item: -item[0])
    out = []
    for rank, (_, start, end, distances, fits) in enumerate(scored):
        label = labels.get((start, end))
        while end > start and text[end - 1] in " ,;:.":
            end -= 1
        out.append(
            SpanCandidate(
                start,
                end,
                label,
                closeness=-sum(distances) / length / max(len(distances), 1),
                nearest=min(distances, default=length) / length,
                fits=bool(fits),
                rank=rank,
            )
        )
    return out


def find_span(question: str, text: str, kind: str | None, entities: Sequence[Entity] | None = None) -> Span | None:
    """The candidate nearest the question's words, or None when there is none the question lacks."""
    found = span_candidates(question, text, kind, entities)
    if not found or kind is None:
        return None
    return Span(found[0].start, found[0].end, kind)
