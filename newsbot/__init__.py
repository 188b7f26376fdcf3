"""newsbot: question answering over news articles, every answer cited to its article.

The public API is what ``__all__`` lists::

    from newsbot import Retriever, load_settings

    retriever = Retriever.from_settings(load_settings())
    answer = retriever.answer("when does Scholz visit Kyiv?")

Names are imported on first use, so ``import newsbot`` stays cheap (no FAISS, no model).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["AlsoIn", "Answer", "Article", "Citation", "Hit", "Retriever", "Settings", "load_settings"]

_HOMES = {
    "AlsoIn": "newsbot.retrieval.records",
    "Answer": "newsbot.retrieval.records",
    "Citation": "newsbot.retrieval.records",
    "Hit": "newsbot.retrieval.records",
    "Retriever": "newsbot.retrieval.retriever",
    "Article": "newsbot.index.records",
    "Settings": "newsbot.config.settings",
    "load_settings": "newsbot.config.settings",
}

if TYPE_CHECKING:
    from newsbot.config.settings import Settings, load_settings
    from newsbot.index.records import Article
    from newsbot.retrieval.records import AlsoIn, Answer, Citation, Hit
    from newsbot.retrieval.retriever import Retriever


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'newsbot' has no attribute {name!r}; it exports {', '.join(__all__)}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
