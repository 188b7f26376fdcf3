"""What the bot remembers per chat: recent answers for follow-ups and for the buttons under them."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from newsbot.retrieval.records import Answer

TURNS_KEPT = 32  # answers whose buttons still work, per chat


@dataclass
class Turn:
    """One answer a chat got, with how many extra passages "More" has shown so far."""

    answer: Answer
    more_shown: int = 0


@dataclass
class ChatMemory:
    """A chat's recent answers: the last few feed follow-ups, a longer tail keeps buttons working."""

    history: deque[Answer]
    turns: OrderedDict[int, Turn] = field(default_factory=OrderedDict)
    next_id: int = 1

    def remember(self, answer: Answer) -> int:
        self.history.append(answer)
        turn_id, self.next_id = self.next_id, self.next_id + 1
        self.turns[turn_id] = Turn(answer)
        while len(self.turns) > TURNS_KEPT:
            self.turns.popitem(last=False)
        return turn_id

    @property
    def last(self) -> Answer | None:
        return next(reversed(self.turns.values())).answer if self.turns else None
