"""One Settings class. Every value can be set by an environment variable ``KBSUGGEST_<NAME>``.

Settings are built by the composition roots (CLI, ``create_app``), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KBSUGGEST_", extra="ignore")

    # Where things live
    index_dir: Path = Field(Path("var/index"), description="Directory of the built index (FAISS + manifest + metadata).")
    db_path: Path = Field(Path("var/kbsuggest.db"), description="SQLite file for events, tickets and evaluation runs.")
    articles_dir: Path = Field(Path("articles"), description="The KB folder the admin API writes articles to and reindexes from.")

    # Embedding
    embedder: str = Field("onnx", description="Embedding backend: onnx, sentence-transformers or hash.")
    model_path: Path | None = Field(None, description="Model directory/file; default: the one the backend ships with.")
    onnx_threads: int = Field(1, ge=0, description="onnxruntime intra-op threads for one query (0 = all cores; batches always use all).")
    query_cache_size: int = Field(1024, ge=0, description="Query embeddings kept in an LRU cache (0 turns the cache off).")
    embed_batch_size: int = Field(64, ge=1, description="Texts per batch when indexing.")

    # Chunking
    chunk_max_words: int = Field(120, ge=20, description="Longest chunk, in words, before a section is split.")
    chunk_overlap_words: int = Field(30, ge=0, description="Words repeated between consecutive pieces of a split section.")
    default_locale: str = Field("en", description="Locale of articles whose front matter has none.")
    article_base_url: str = Field("", description="URL prefix for articles whose front matter has no url (url = prefix/id).")

    # Suggest
    min_score: float = Field(0.47, ge=-1.0, le=1.0, description="Suggestions whose calibrated score (probability of answering) is below this are not returned.")
    default_k: int = Field(3, ge=1, le=10, description="Suggestions returned when the caller does not ask for k.")
    max_k: int = Field(10, ge=1, le=50, description="Largest k a caller may ask for.")
    min_query_chars: int = Field(3, ge=1, description="Shorter queries (after trimming) get an empty list.")
    max_query_chars: int = Field(256, ge=8, description="Longer GET queries are refused with 422.")
    max_message_chars: int = Field(2000, ge=8, description="Longer POST (chat) messages are refused with 422.")
    snippet_chars: int = Field(200, ge=40, description="Longest snippet returned with a suggestion.")

    # Gap mining (offline job; coverage score is for all-MiniLM-L6-v2, chosen on the StackFAQ hold-out; the number of gaps is chosen per run, gaps/granularity.py)
    gap_coverage_score: float = Field(0.57, ge=-1.0, le=1.0, description="A resolved ticket whose best public article scores at least this is covered.")
    gap_cluster_distance: float | None = Field(None, gt=0.0, le=2.0, description="Unset: the number of gaps is chosen per run from the tickets (a Ward tree cut at the best modularity of their neighbour graph). Set: cut the average-linkage tree at this cosine distance instead (one granularity for all data).")
    gap_min_tickets: int = Field(3, ge=2, description="Fewest tickets that make a gap; smaller groups are outliers.")
    gap_attach_score: float | None = Field(None, ge=-1.0, le=1.0, description="Cosine to a gap's centre for an outlier ticket to join it in the second pass; unset: within the gap's reach (the cosine of its least close ticket).")
    gap_half_life_days: float = Field(30.0, gt=0, description="Impact weight of a ticket halves every this many days before the newest one.")
    gap_description_chars: int = Field(200, ge=0, description="Characters of the description added to a ticket's title for mining.")

    # Access
    agent_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated keys that let a caller see internal articles."
    )
    admin_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated keys for the admin API (reindex, put/delete articles); none: admin API off."
    )

    # Limits (per process)
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies are refused with 413.")
    rate_limit_per_second: float = Field(20.0, ge=0, description="Requests per second each client IP may sustain (token bucket); 0: no limit.")
    rate_limit_burst: int = Field(40, ge=1, description="Requests a client IP may send at once before the rate limit applies.")
    request_timeout_seconds: float = Field(10.0, ge=0, description="Requests taking longer get 504 (admin API exempt); 0: no timeout.")

    # Server
    host: str = Field("127.0.0.1", description="Address `kbsuggest serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `kbsuggest serve` listens on.")
    access_log: bool = Field(False, description="Log every HTTP request (client, method, path with the query string, status). Off by default: GET query strings are what customers type, and each line costs time on the hot path.")

    # Widget, events and online deflection
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins (e.g. `https://shop.example`) whose pages may call the API; empty: same origin only."
    )
    events_max_batch: int = Field(50, ge=1, le=1000, description="Most events accepted in one `POST /v1/events` batch.")
    events_max_bytes: int = Field(65536, ge=1024, description="Largest `POST /v1/events` body, in bytes (413 above).")
    deflection_window_minutes: int = Field(60, ge=1, description="A ticket within this time of opening an article means it did not deflect.")

    @field_validator("agent_api_keys", "admin_api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value
