"""After a rebuild: the new articles, matched against every followed topic, as alerts to send.

"New" means not yet looked at, by the store's record: articles indexed while the bot was down
(by `newsbot feeds update` from cron, say) are looked at on its next start. A store that has
never looked (a first start) takes the whole index as seen, or every topic would be alerted to
the whole archive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from newsbot.follow.matching import match_topics
from newsbot.follow.store import Claim, FollowStore, Topic

if TYPE_CHECKING:
    from newsbot.retrieval.records import Citation
    from newsbot.retrieval.retriever import Retriever

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Alert:
    """One message to send: a new article matching one chat's topic, with its best excerpt."""

    topic: Topic
    article_id: str
    score: float
    citation: Citation


@dataclass(frozen=True, slots=True)
class AlertRound:
    """What one look at the new articles found: alerts to send, and what the limits held back."""

    new_articles: int
    alerts: tuple[Alert, ...]
    over_limit: int = 0
    sent_before: int = 0


@dataclass(frozen=True, slots=True)
class AlertLimits:
    threshold: float
    per_hour: int


def new_alerts(store: FollowStore, retriever: Retriever, limits: AlertLimits, now: datetime) -> AlertRound:
    """Matches the articles not looked at yet against every topic and claims each alert in the
    store (so it is sent once); blocking: run it off the event loop."""
    current = retriever.article_ids()
    known = store.known_articles()
    if known is None:
        store.add_known(current)
        return AlertRound(0, ())
    new = current - known
    if not new:
        return AlertRound(0, ())
    topics = store.all_topics()
    matches = match_topics(retriever, [t.key for t in topics], new, limits.threshold) if topics else {}
    alerts, over, before = [], 0, 0
    for topic in topics:
        for match in matches.get(topic.key, []):
            claim = store.claim_alert(topic, match.article_id, limits.per_hour, now)
            if claim is Claim.CLAIMED:
                alerts.append(Alert(topic, match.article_id, match.score, match.citation))
            elif claim is Claim.OVER_LIMIT:
                over += 1
            else:
                before += 1
    # Marked only after the claims: a crash in between looks again, and the claims stop repeats.
    store.add_known(new)
    if over:
        log.info("%d alerts held back by max_alerts_per_hour", over)
    return AlertRound(len(new), tuple(alerts), over, before)
