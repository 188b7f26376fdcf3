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
import itertools
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
# What an amount's own words say it is: a share, a sum of money, a span of time, a measure. The
# label that says the same is the likelier answer ("what percentage …?" -> 56.2 %, not 711,988).
_ASKED_LABELS: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = (
    (frozenset({"PERCENT"}), re.compile(r"\bpercent(age)?s?\b|\bper\s?cent\b|%|\bproportion\b", re.I)),
    (
        frozenset({"MONEY"}),
        re.compile(
            r"\b(cost|costs|price|prices|paid|pay|spend|spent|worth|money|dollars?|euros?|pounds?|budget|"
            r"salary|revenue|fined?|raised?|earn(ed|s)?)\b|[$€£]",
            re.I,
        ),
    ),
    (
        frozenset({"DATE", "TIME"}),
        re.compile(
            r"\bhow\s+(long|old)\b|\bhow\s+many\s+(seconds|minutes|hours|days|weeks|months|years|decades)\b", re.I
        ),
    ),
    (
        frozenset({"QUANTITY"}),
        re.compile(
            r"\bhow\s+(far|tall|high|heavy|deep|wide)\b|\bhow\s+many\s+(miles|kilometres|kilometers|km|metres|"
            r"meters|feet|tons|tonnes|kilograms|kg|square)\b",
            re.I,
        ),
    ),
)
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


def asked_labels(question: str, kind: str | None) -> frozenset[str]:
    """The labels an amount's question calls for by its own words (empty: it names none)."""
    if kind != NUMBER:
        return frozenset()
    for labels, rule in _ASKED_LABELS:
        if rule.search(question):
            return labels
    return frozenset()


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
    # Its label is the one the question's words call for (1), another when they call for one (-1), or 0.
    label_asked: int = 0
    listed: bool = False  # one item of a list ("A, B and C"): the answer may be the whole list
    beside: float = 0.0  # share of the question's words among the few words either side of it
    # The unit a "how many X" question asks in is beside it (1), is not (-1), or none is asked (0).
    unit_beside: int = 0


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
    if kind == NUMBER:
        # "how old/how long" lets DATE entities in for ages and durations; a day on the calendar is neither.
        fresh = [(s, e) for s, e in fresh if not _CALENDAR.search(text[s:e])]
    if kind == PLACE and entities is None:
        # Places mostly follow a preposition; prefer those, but keep any name when none does.
        fresh = [s for s in fresh if _after_preposition(text, s[0])] or fresh
    labels = {(e.start, e.end): e.label for e in entities or ()}
    wanted = asked_labels(question, kind)
    unit = asked_unit(question)
    listed = _listed(text, fresh)
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
        is_listed = (start, end) in listed
        around = _around(text, start, end)
        if kind == NUMBER:
            start, end = _whole_number(text, start), _with_unit(text, end, unit)
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
                label_asked=0 if not wanted else (1 if label in wanted else -1),
                listed=is_listed,
                beside=len(asked & around) / len(asked) if asked else 0.0,
                unit_beside=0 if unit is None or kind != NUMBER else (1 if unit in around else -1),
            )
        )
    return out


# The word right after an amount: its unit, when the question asks about it.
_NEXT_WORD = re.compile(r"[ \t]+([\w\-]+)")
# What joins the items of a list.
_LIST_JOIN = re.compile(r"\s*(,|;|,?\s+and|,?\s+or|&)\s*", re.I)


# "how many people", "how much more money": the unit an amount is asked in.
_UNIT_ASKED = re.compile(r"\bhow\s+(?:many|much)\s+(?:more\s+|fewer\s+|less\s+|other\s+)?([a-z][\w\-]*)", re.I)


def asked_unit(question: str) -> str | None:
    """The stem of the unit a "how many/much" question asks in ("how many people died?" -> people)."""
    m = _UNIT_ASKED.search(question)
    if m is None or m.group(1).lower() in STOPWORDS:
        return None
    return stem(m.group(1).lower())


# A day on the calendar: a month or weekday name, or a year.
_CALENDAR = re.compile(rf"\b(?:{_MONTH}|{_WEEKDAY}|(?:1[0-9]|20)\d\d)\b", re.I)
# Thousands set off by a thin or no-break space ("35\u202f000"), which the tagger splits in two.
_THOUSANDS_BEFORE = re.compile(r"\d{1,3}(?:[\u202f\u2009\u00a0]\d{3})*[\u202f\u2009\u00a0]$")


def _whole_number(text: str, start: int) -> int:
    """The start of an amount with the thousands the tagger cut off ("000" -> "35\u202f000")."""
    if not re.match(r"\d{3}\b", text[start : start + 4]):
        return start
    m = _THOUSANDS_BEFORE.search(text[max(0, start - 24) : start])
    return start - len(m.group(0)) if m else start


def _with_unit(text: str, end: int, unit: str | None) -> int:
    """The end of an amount with the unit the question asks in ("how many people" -> "40,000 people")."""
    m = _NEXT_WORD.match(text, end)
    return m.end() if unit is not None and m is not None and stem(m.group(1).lower()) == unit else end


# How many words either side of a candidate count as beside it.
BESIDE_WORDS = 4


def _around(text: str, start: int, end: int) -> frozenset[str]:
    """The stems of the few content words either side of ``text[start:end]``, in its sentence."""
    before = re.split(r"[.!?;]\s", text[max(0, start - 100) : start])[-1]
    after = re.split(r"[.!?;]\s", text[end : end + 100])[0]

    def content(part: str) -> list[str]:
        return [w for w in re.findall(r"\w+", part.lower()) if w not in STOPWORDS]

    return frozenset(stem(w) for w in content(before)[-BESIDE_WORDS:] + content(after)[:BESIDE_WORDS])


def _listed(text: str, spans: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """The candidates that sit in a list with another one ("Mann, Bradley and Hughes")."""
    ordered = sorted(spans)
    out: set[tuple[int, int]] = set()
    for a, b in itertools.pairwise(ordered):
        if _LIST_JOIN.fullmatch(text[a[1] : b[0]]):
            out.update((a, b))
    return out


def find_span(question: str, text: str, kind: str | None, entities: Sequence[Entity] | None = None) -> Span | None:
    """The candidate nearest the question's words, or None when there is none the question lacks."""
    found = span_candidates(question, text, kind, entities)
    if not found or kind is None:
        return None
    return Span(found[0].start, found[0].end, kind)
