"""An excerpt is a sentence, or two neighbouring ones when both answer nearly as well."""

from __future__ import annotations

from newsbot.index.records import ArticleInfo, Chunk
from newsbot.retrieval.answer import JOIN_MARGIN, AnswerComposer, Excerpt
from newsbot.retrieval.records import Hit
from tests.fakes.embedder import FakeEmbedder

TEXT = "Talks were held on Monday. They ended without a deal on Tuesday.\n\nA new round is planned in March."
ARTICLE = ArticleInfo(id="a1", title="Talks", path="talks.txt")
HIT = Hit(Chunk(7, "a1", 0, TEXT, 100, 100 + len(TEXT), 1, 2), ARTICLE, 1.0, 1)


def excerpt(sentence: str, score: float) -> Excerpt:
    start = TEXT.index(sentence)
    return Excerpt(HIT, sentence, 100 + start, 100 + start + len(sentence), score, score)


FIRST, SECOND, THIRD = (
    "Talks were held on Monday.",
    "They ended without a deal on Tuesday.",
    "A new round is planned in March.",
)


def test_a_close_neighbour_joins_the_excerpt_with_exact_offsets() -> None:
    best, near = excerpt(SECOND, 0.80), excerpt(FIRST, 0.80 - JOIN_MARGIN / 2)
    [cited] = AnswerComposer(FakeEmbedder())._select([best, near], limit=3)
    assert cited.text == f"{FIRST} {SECOND}"
    assert TEXT[cited.start - 100 : cited.end - 100] == cited.text
    assert cited.score == best.score  # joining never raises the score or the confidence


def test_a_weaker_neighbour_stays_a_separate_excerpt() -> None:
    best, weak = excerpt(SECOND, 0.80), excerpt(FIRST, 0.80 - 2 * JOIN_MARGIN)
    cited = AnswerComposer(FakeEmbedder())._select([best, weak], limit=3)
    assert [c.text for c in cited] == [SECOND, FIRST]


def test_a_neighbour_across_a_paragraph_break_joins_and_the_citation_names_the_first_paragraph() -> None:
    # News articles often run one sentence a paragraph: the answer after the sentence restating
    # the question is then in the next paragraph.
    best, near = excerpt(SECOND, 0.80), excerpt(THIRD, 0.80 - JOIN_MARGIN / 2)
    [cited] = AnswerComposer(FakeEmbedder())._select([best, near], limit=3)
    assert cited.text == f"{SECOND}\n\n{THIRD}"
    citation = AnswerComposer._cite(1, cited)
    assert citation.excerpt == cited.text and citation.paragraph == HIT.chunk.paragraph


def test_sentences_of_different_chunks_are_not_joined() -> None:
    start = 100 + TEXT.index(THIRD)
    next_chunk = Hit(Chunk(8, "a1", 1, THIRD, start, start + len(THIRD), 2, 2), ARTICLE, 0.9, 2)
    near = Excerpt(next_chunk, THIRD, start, start + len(THIRD), 0.79, 0.79)
    cited = AnswerComposer(FakeEmbedder())._select([excerpt(SECOND, 0.80), near], limit=3)
    assert [c.text for c in cited] == [SECOND, THIRD]
