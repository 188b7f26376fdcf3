"""Date words in a question ("on 12 February", "in March 2022", "last week") as a date window.

Relative words are read against the newest article, not the clock: a news archive answers
"last week" about its own last week. A day or month without a year means its latest occurrence
on or before that reference date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from newsbot.retrieval.text import STOPWORDS

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")),
    ("day", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?\b", re.I)),
    ("day", re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.I)),
    ("month", re.compile(rf"\b{_MONTH}\s+{_YEAR}\b", re.I)),
    ("month", re.compile(rf"\b(?:in|during|since|throughout|early|late|mid)\s+{_MONTH}\b", re.I)),
    ("year", re.compile(rf"\b(?:in|during|throughout)\s+{_YEAR}\b", re.I)),
    (
        "relative",
        re.compile(
            r"\b(?P<rel>yesterday|today|(?:this|last|past|previous)\s+(?:week|month|year)"
            r"|(?:the\s+)?(?:past|last)\s+(?P<n>\d{1,3})\s+(?P<unit>days|weeks|months))\b",
            re.I,
        ),
    ),
]


@dataclass(frozen=True, slots=True)
class DateWindow:
    """Articles dated ``start`` to ``end`` (inclusive); ``text`` is the words that asked for it.

    ``explicit``: the question asks for articles of those dates (search only them); otherwise the
    date may be the event's rather than the article's, and in-window articles are only preferred.
    """

    start: date
    end: date
    text: str
    match_start: int
    match_end: int
    explicit: bool

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"date window ends ({self.end}) before it starts ({self.start})")

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def describe(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _latest_year(month: int, day: int, reference: date) -> int:
    year = reference.year
    try:
        return year if date(year, month, day) <= reference else year - 1
    except ValueError:  # 29 February in a common year
        return year - 1


def _window(kind: str, m: re.Match[str], reference: date) -> tuple[date, date] | None:
    groups = m.groupdict()
    if kind == "relative":
        return _relative(groups, reference)
    year = int(groups["year"]) if groups.get("year") else None
    if kind == "year":
        return (date(year, 1, 1), date(year, 12, 31)) if year is not None else None
    month_word = groups["month"].lower().rstrip(".")
    month = int(month_word) if month_word.isdigit() else _MONTHS.get(month_word)
    if month is None or not 1 <= month <= 12:
        return None
    if kind == "month":
        if year is None:
            year = reference.year if month <= reference.month else reference.year - 1
        return date(year, month, 1), _month_end(year, month)
    day = int(groups["day"])
    if year is None:
        year = _latest_year(month, day, reference)
    try:
        exact = date(year, month, day)
    except ValueError:
        return None
    return exact, exact


def _relative(groups: dict[str, str | None], reference: date) -> tuple[date, date]:
    rel = " ".join((groups["rel"] or "").lower().split())
    if rel == "today":
        return reference, reference
    if rel == "yesterday":
        return reference - timedelta(days=1), reference - timedelta(days=1)
    count, unit_word = groups.get("n"), groups.get("unit")
    if count and unit_word:
        n, unit = int(count), unit_word.lower()
        days = {"days": n, "weeks": 7 * n, "months": 30 * n}[unit]
        return reference - timedelta(days=days), reference
    scope, unit = rel.split()[-2:]
    if unit == "week":
        monday = reference - timedelta(days=reference.weekday())
        if scope == "this":
            return monday, reference
        if scope == "past":
            return reference - timedelta(days=7), reference
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if unit == "month":
        if scope == "this":
            return reference.replace(day=1), reference
        if scope == "past":
            return reference - timedelta(days=30), reference
        last = reference.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if scope == "this":
        return date(reference.year, 1, 1), reference
    if scope == "past":
        return reference - timedelta(days=365), reference
    return date(reference.year - 1, 1, 1), date(reference.year - 1, 12, 31)


# Words that may follow a date ("on 24 February about Ukraine"); any other word after a day and
# month says the words were not a date: "march 10 miles", "may 3 nations", "sept 11 attacks".
_AFTER_DATE = STOPWORDS | {
    "about",
    "against",
    "between",
    "during",
    "following",
    "over",
    "regarding",
    "until",
    "till",
    "through",
    "toward",
    "towards",
    "via",
    "with",
    "without",
}
_DATE_PREPOSITION = re.compile(r"\b(?:on|since|until|till|by|before|after|from|of|dated)\s+$", re.I)


def _reads_as_date(question: str, kind: str, m: re.Match[str]) -> bool:
    """Whether a day-and-month match reads as a date rather than as "march 10 miles"."""
    if kind != "day" or not m.groupdict().get("month") or m.group("month").isdigit():
        return True
    if m.groupdict().get("year") or _DATE_PREPOSITION.search(question[: m.start()]):
        return True
    following = re.match(r"\s*([^\W\d_]+)", question[m.end() :])
    return following is None or following.group(1).lower() in _AFTER_DATE


# "on 12 February", "on the 12th of February": a day given as the day something was published or said.
_ON_DAY = re.compile(r"\b(?:on|dated)\s+(?:the\s+)?$", re.I)
# Words that make the date itself the subject: the question asks for the news of those dates
# ("articles from last week", "what happened yesterday", "news on 2022-02-06").
_NEWS_OF_THE_DATE = re.compile(
    r"\b(?:articles?|news|stor(?:y|ies)|headlines?|published|posted|happen(?:s|ed|ing)?)\b", re.I
)


def _asks_for_date(question: str, kind: str, m: re.Match[str]) -> bool:
    """Whether the question clearly asks for articles of this date, not just mentions a time.

    An ISO date, a full day-month-year and "on <day>" name one day exactly, the way a reader names
    an article's date; any date beside a word about the news itself asks for that day's news.
    A month, year or relative word alone ("trade grew last year", "elected in March 2022") often
    dates the event, which a later article reports: those only prefer in-window articles.
    """
    if kind == "iso" or _NEWS_OF_THE_DATE.search(question):
        return True
    return kind == "day" and bool(m.groupdict().get("year") or _ON_DAY.search(question[: m.start()]))


def find_date_window(question: str, reference: date) -> DateWindow | None:
    """The first date expression in ``question`` as a window of article dates, or None."""
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for order, (kind, pattern) in enumerate(_PATTERNS):
        for m in pattern.finditer(question):
            found.append((m.start(), order, kind, m))
    found.sort(key=lambda f: (f[0], f[1]))
    if found:
        # Of the expressions overlapping the first one, the longest says the most ("March 2022").
        first = found[0][3]
        overlapping = [f for f in found if f[3].start() < first.end()]
        best = max(overlapping, key=lambda f: (f[3].end() - f[3].start(), -f[1]))
        found = [best] + [f for f in found if f is not best]
    for _, _, kind, m in found:
        if not _reads_as_date(question, kind, m):
            continue
        span = _window(kind, m, reference)
        if span is not None:
            explicit = _asks_for_date(question, kind, m)
            return DateWindow(span[0], span[1], m.group(0), m.start(), m.end(), explicit)
    return None
