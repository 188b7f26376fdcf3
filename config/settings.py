"""The one settings model: loaded once, validated, then passed to whoever needs it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PACKAGED_CONFIG = Path(__file__).with_name("newsbot.toml")
DEFAULT_API_URL = "https://api.telegram.org/bot"
REDIS_SCHEMES = ("redis", "rediss", "unix")

IdList = Annotated[list[int], NoDecode]


def config_file() -> Path:
    """The TOML file to read: $NEWSBOT_CONFIG, else ./config/newsbot.toml, else the packaged one."""
    explicit = os.environ.get("NEWSBOT_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("config/newsbot.toml")
    return local if local.is_file() else PACKAGED_CONFIG


AUTO_ANSWER_PROCESSES = 2


class Settings(BaseSettings):
    """Every knob newsbot has. Precedence: CLI flag > NEWSBOT_* environment > newsbot.toml > default."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", extra="forbid", validate_default=True)

    # Where articles come from and where the index lives.
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("data/index")
    ignore: list[str] = Field(
        default_factory=lambda: ["README*", "LICENSE*", "NOTICE*", "CHANGELOG*", "feeds.toml"],
        description="Glob patterns of file names that document a folder rather than hold articles "
        "(feeds.toml is the feed list `newsbot feeds` keeps in the seeds folder).",
    )
    max_file_bytes: int = Field(20_000_000, gt=0)
    backend: Literal["faiss", "postgres"] = Field(
        "faiss",
        description="Where the index lives: faiss (files in index_dir) or postgres (a PostgreSQL database "
        "with pgvector at database_url; needs the `postgres` extra).",
    )
    database_url: SecretStr | None = Field(
        None,
        description="PostgreSQL connection URL for backend postgres, e.g. postgresql://newsbot:PASSWORD@db:5432/newsbot "
        "(a secret: never logged or shown).",
    )
    pg_lexical: Literal["bm25", "ts_rank_cd"] = Field(
        "bm25",
        description="Lexical scoring of backend postgres: bm25 (computed in SQL, as bm25s scores) or "
        "ts_rank_cd (PostgreSQL full-text ranking; measured weaker, see README).",
    )
    pg_ef_search: int = Field(
        # 100 found 0.966 of the exact top 50 on covidqa and cost dense R@10 0.07. Recall@10 vs exact
        # on the real chunks (10k, 18k), walking the index: 200 0.96-0.97, 400 0.98-0.99 (README).
        400,
        ge=1,
        le=1000,
        description="pgvector hnsw.ef_search: HNSW candidates a vector search visits (backend postgres).",
    )

    # Embedding and chunking.
    model_name: str = "all-MiniLM-L6-v2"
    batch_size: int = Field(64, ge=1, le=4096)
    chunk_tokens: int = Field(128, ge=16, le=512)
    chunk_overlap_sentences: int = Field(1, ge=0, le=5)

    # Retrieval and answering.
    top_k: int = Field(10, ge=1, le=50, description="Passages whose sentences compete for the excerpts.")
    search_mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    fusion: Literal["score", "rrf"] = Field(
        "score", description="How hybrid search joins dense and BM25: scaled scores, or reciprocal ranks."
    )
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.4, ge=0, description="Score fusion's weight of the min-max scaled dense scores.")
    bm25_weight: float = Field(0.6, ge=0, description="Score fusion's weight of the min-max scaled BM25 scores.")
    fusion_depth: int = Field(
        50, ge=1, le=1000, description="Candidates each of dense and BM25 search brings to hybrid fusion."
    )
    date_boost: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of the score spread added to passages of a date the question names but does not clearly ask for.",
    )
    min_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Below this confidence newsbot declines; default: the threshold calibrated with the ranker.",
    )
    bold_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A short answer needs this probability to be shown in bold; default: calibrated with the span model.",
    )
    flat_index_max: int = Field(50_000, ge=1, description="Up to this many chunks, vector search is exact.")
    # ivf-sq8 by default (was ivf-flat): on the real chunk vectors it keeps recall@10 0.982 at the
    # default nprobe (ivf-flat 0.988), searches faster (p50 0.23 vs 0.45 ms at 18k), and at 100k
    # chunks it is what brings serving within 1.3 x of raw vectors + model (1.24 x; ivf-flat 1.72 x).
    ann_index: Literal["ivf-flat", "ivf-sq8", "hnsw"] = Field(
        "ivf-sq8",
        description="Search index above flat_index_max: ivf-sq8 (one byte a dimension), ivf-flat (exact vectors), hnsw.",
    )

    # Feeds (`newsbot feeds`): polite, bounded fetching of only the feeds the operator added.
    feed_allow_private: bool = Field(
        False,
        description="Fetch from private, loopback and link-local addresses too (a feed on your own network); "
        "off by default so a feed or its redirects cannot reach services behind the firewall.",
    )
    feed_timeout_seconds: float = Field(
        20.0, gt=0, le=600, description="Longest one fetch (a feed or an item page, redirects included) may take."
    )
    feed_max_bytes: int = Field(
        5_000_000,
        ge=1024,
        description="Largest feed or page body read; a longer one is abandoned and counts as failed.",
    )
    feed_host_delay_seconds: float = Field(
        1.0, ge=0, le=600, description="Pause between two requests to the same host, so polling stays polite."
    )
    feed_max_redirects: int = Field(5, ge=0, le=30, description="Redirects followed per fetch before giving up.")
    feed_max_items: int = Field(
        50,
        ge=1,
        le=10_000,
        description="New items saved per feed per update; the rest wait for the next update "
        "(a first poll of a large feed stays short).",
    )
    reload_check_seconds: float = Field(
        10,
        ge=0,
        le=86_400,
        description="Seconds between checks, inside `newsbot serve`, for an index another process built "
        "(`newsbot index`, `--watch`, another replica); a newer one is swapped in without a restart. 0 = off.",
    )
    feed_interval_minutes: float = Field(
        0,
        ge=0,
        le=10_080,
        description="Minutes between feed polls inside `newsbot serve` (each poll that saves new items "
        "updates the index and alerts the chats following a matching topic); 0 = off.",
    )

    # Following topics (/follow): alerts about new articles that match a chat's topic.
    max_follows: int = Field(10, ge=1, le=1000, description="Topics one chat may follow at once.")
    max_alerts_per_hour: int = Field(
        10, ge=1, le=1000, description="Alerts one chat gets in any hour; matches beyond it are not sent."
    )
    follow_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Score a new article needs to be alerted for a topic; default: the threshold calibrated "
        "for high precision (newsbot/follow/threshold.json).",
    )
    follows_file: Path | None = Field(
        None,
        description="SQLite file of followed topics and sent alerts (backend faiss; with postgres they are "
        "tables in the database); default: follows.sqlite beside the index folder (in its parent), so it "
        "outlives index rebuilds and is never read as an article.",
    )

    # Telegram.
    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = DEFAULT_API_URL
    admin_ids: IdList = Field(default_factory=list)
    allowed_chat_ids: IdList = Field(default_factory=list)
    webhook_secret: SecretStr | None = None
    max_question_chars: int = Field(500, ge=1)
    history_turns: int = Field(6, ge=0)
    example_question: str = Field(
        "when does Scholz visit Kyiv?", min_length=1, description="The example question /start and /help show."
    )
    throttle_questions: int = Field(5, ge=1, description="Questions one user may ask per throttle window.")
    throttle_seconds: float = Field(30.0, gt=0, description="Length of the per-user throttle window.")
    send_rate: float = Field(
        30.0,
        gt=0,
        le=1000,
        description="Bot API calls per second across all chats: Telegram allows about 30 for free; "
        "raise it only for a bot with paid broadcasts (up to 1000).",
    )
    typing_after: float = Field(
        1.0,
        ge=0,
        description="Seconds an answer may take before the chat shows 'typing…' (within ~1 s a reply "
        "reads as immediate; each indicator spends a Bot API call).",
    )
    answer_processes: Annotated[int, Field(ge=0, le=64)] | Literal["auto"] = Field(
        "auto",
        description="Worker processes that answer the bot's questions (0: threads in the bot's own process; "
        "auto: 2 on a machine with two or more cores, else 0); each opens the index memory-mapped and loads "
        "the model once.",
    )

    # What the bot keeps between updates (follow-up memory, throttle, inline queries, refused chats).
    state_backend: Literal["memory", "redis"] = Field(
        "memory", description="Where bot state lives: this process's memory, or a Redis that replicas share."
    )
    redis_url: SecretStr | None = Field(
        None, description="redis://[:password@]host:port/db (or rediss://, unix://); needed for state_backend redis."
    )
    state_prefix: str = Field(
        "newsbot", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Key prefix in Redis, so bots can share one server."
    )
    chat_memory_hours: float = Field(
        24.0, gt=0, le=24 * 365, description="How long a chat's answers feed follow-ups and buttons after the last one."
    )
    state_max_entries: int = Field(
        2_000,
        ge=1,
        description="In-process state only: most chats (and users) each table keeps, the least recently used "
        "going first; a chat's memory is up to 32 answers of about 2 KB each.",
    )
    lease_seconds: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="With shared state: how long the lease on feed polls and alerts outlives its last renewal "
        "(renewed every third of it), so a killed replica's work passes to another within about this long.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return init_settings, env_settings, toml

    @field_validator("admin_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        # The environment carries "1,2,3"; TOML and Python carry real lists.
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            try:
                return [int(p) for p in parts if p]
            except ValueError:
                raise ValueError(f"expected comma-separated numeric Telegram ids, got {value!r}") from None
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The message shows the scheme only: the rest of the URL may hold a password.
        if value is not None and urlsplit(value.get_secret_value()).scheme not in REDIS_SCHEMES:
            scheme = urlsplit(value.get_secret_value()).scheme or "(none)"
            raise ValueError(f"must start with {', '.join(s + '://' for s in REDIS_SCHEMES)}; got scheme {scheme!r}")
        return value

    def answer_workers(self) -> int:
        """How many answer worker processes the bot runs (``answer_processes`` with "auto" resolved)."""
        if self.answer_processes != "auto":
            return self.answer_processes
        # Measured on 2 cores: 2 workers beat threads (README, Performance); one core has nothing to win.
        return AUTO_ANSWER_PROCESSES if (os.cpu_count() or 1) >= 2 else 0

    @model_validator(mode="after")
    def _check_chunking(self) -> Settings:
        if self.dense_weight == 0 and self.bm25_weight == 0:
            raise ValueError("dense_weight and bm25_weight cannot both be 0")
        if self.state_backend == "redis" and self.redis_url is None:
            raise ValueError("state_backend 'redis' needs redis_url (NEWSBOT_REDIS_URL), e.g. redis://localhost:6379/0")
        if self.backend == "postgres" and self.database_url is None:
            raise ValueError(
                "backend postgres needs database_url (or NEWSBOT_DATABASE_URL), e.g. postgresql://user:password@host/db"
            )
        return self


def explain(exc: ValidationError) -> str:
    """A validation error as one line: each bad setting, what is wrong with it, and where to fix it."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
    return f"invalid settings ({problems}); fix config/newsbot.toml, NEWSBOT_* variables or the flag"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once; overrides (CLI flags) win, None values are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
