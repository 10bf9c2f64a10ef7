"""Service settings (``Settings``, every value an environment variable ``KBSUGGEST_<NAME>``) and per-KB
settings (``KBSettings``: one per knowledge base, from the KBs file ``kbs.toml``; the default KB from the
environment).

Settings are built by the composition roots (CLI, ``create_app``), never at import time.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Literal

from typing_extensions import Annotated

from kbsuggest.errors import ConfigError
from kbsuggest.sources import FORMATS

# The signals gap mining fuses (gaps/signals.py documents each and its default weight).
GAP_SIGNALS = ("ticket", "still_need_help", "no_result")
GAP_SIGNAL_WEIGHTS = {"ticket": 1.0, "still_need_help": 0.5, "no_result": 0.25}  # impact of one item, in tickets


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KBSUGGEST_", extra="ignore")

    # Where things live
    index_dir: Path = Field(Path("var/index"), description="Directory of the built indexes: one subdirectory per KB, each with its versions.")
    kbs_file: Path | None = Field(None, description="TOML file declaring the KBs one process serves (see \"Many knowledge bases\"); unset: only the default KB, configured by these variables.")
    db_path: Path = Field(Path("var/kbsuggest.db"), description="SQLite file for events, tickets and evaluation runs (when `KBSUGGEST_DATABASE_URL` is unset).")
    database_url: str | None = Field(None, description="`postgresql://user:password@host:5432/db`: keep events, tickets, runs and thresholds in PostgreSQL (`pip install 'kbsuggest[fleet]'`), shared by every replica; unset: the SQLite file `KBSUGGEST_DB_PATH`.")
    database_pool_size: int = Field(10, ge=1, le=200, description="Most PostgreSQL connections one process keeps open.")
    index_poll_seconds: float = Field(2.0, ge=0, description="How often each replica checks the KBs' published index versions (`CURRENT`) and loads a new one; with PostgreSQL a notification makes it sooner. 0: never (the process serves what it loaded).")
    index_url: str | None = Field(None, description="`s3://bucket/prefix`: publish index versions to an S3-compatible bucket and fetch them from it (`kbsuggest[s3]`; see \"Running a fleet\"); `KBSUGGEST_INDEX_DIR` is then each process's working copy. Unset: the index directory is the shared location.")
    s3_endpoint_url: str | None = Field(None, description="Endpoint of an S3-compatible store other than AWS (MinIO, Ceph: `http://minio:9000`); unset: AWS. Credentials come from the usual AWS variables, profile or role.")
    redis_url: str | None = Field(None, description="`redis://host:6379/0`: the rate limit's buckets are shared by every replica through Redis (`kbsuggest[fleet]`); unset: per process. If Redis fails, each process falls back to its own buckets.")
    articles_dir: Path = Field(Path("articles"), description="The KB folder the admin API writes articles to and reindexes from.")
    source_format: str | None = Field(None, description="Format of the default KB's source (markdown, html, zendesk, freshdesk, intercom, confluence) for `kbsuggest index` and the admin reindex; unset: detected from the source.")
    sync_dir: Path = Field(Path("var/sync"), description="Where `kbsuggest sync` keeps what it last pulled from a help desk's API: `<dir>/<kb>/<zendesk|freshdesk>/`, an export `kbsuggest index --format NAME` reads.")

    # Embedding
    embedder: str = Field("onnx", description="Embedding backend: onnx, sentence-transformers or hash.")
    model_path: Path | None = Field(None, description="Model directory/file; default: the one the backend ships with.")
    onnx_threads: int = Field(1, ge=0, description="onnxruntime intra-op threads for one query (0 = all cores; batches always use all).")
    query_cache_size: int = Field(1024, ge=0, description="Query embeddings kept in an LRU cache (0 turns the cache off).")
    suggest_concurrency: int = Field(2, ge=1, le=64, description="Suggestions a process computes at once; later requests wait their turn in arrival order (one per core: more only share the cores and the GIL, and every request in flight takes longer).")
    embed_batch_size: int = Field(64, ge=1, description="Texts per batch when indexing.")

    # Chunking
    chunk_max_words: int = Field(120, ge=20, description="Longest chunk, in words, before a section is split.")
    chunk_overlap_words: int = Field(30, ge=0, description="Words repeated between consecutive pieces of a split section.")
    max_chunks_per_article: int = Field(200, ge=1, description="An article with more chunks is indexed with its first this many, and a warning (a 1 MiB file of headings would be 100,001 chunks to embed).")
    default_locale: str = Field("en", description="Locale of articles whose front matter has none.")
    article_base_url: str = Field("", description="URL prefix for articles whose front matter has no url (url = prefix/id).")
    require_audience: bool = Field(False, description="Articles whose front matter has no `audience` are indexed as internal, with a warning, instead of public.")

    # Suggest
    min_score: float | None = Field(None, ge=-1.0, le=1.0, description="Threshold on the calibrated score (probability of answering), in both modes: the form shows the top k when the best reaches it, the chat only the suggestions that do; unset: the threshold tuned for the KB, else its calibration's (one for the form, one for the chat).")
    calibration: Literal["cold", "packaged"] = Field("cold", description="How a new snapshot's calibration is made: `cold` fits it on the KB's pseudo-queries at index time (a warm calibration from `kbsuggest calibrate` wins); `packaged` copies the packaged default.")
    default_k: int = Field(3, ge=1, le=10, description="Suggestions returned when the caller does not ask for k.")
    max_k: int = Field(10, ge=1, le=50, description="Largest k a caller may ask for.")
    min_query_chars: int = Field(3, ge=1, description="Shorter queries (after trimming) get an empty list.")
    max_query_chars: int = Field(256, ge=8, description="Longer GET queries are refused with 422.")
    max_message_chars: int = Field(2000, ge=8, description="Longer POST (chat) messages are refused with 422.")
    snippet_chars: int = Field(200, ge=40, description="Longest snippet returned with a suggestion.")

    # Gap mining (offline job; coverage score is for all-MiniLM-L6-v2, chosen on the StackFAQ hold-out: on German KBs it
    # leaves 0.44-0.60 of answered questions uncovered, benchmarks/coverage_lodo.py; the number of gaps is chosen per run,
    # gaps/granularity.py)
    gap_coverage_score: float = Field(0.57, ge=-1.0, le=1.0, description="A resolved ticket whose best public article scores at least this is covered.")
    gap_cluster_distance: float | None = Field(None, gt=0.0, le=2.0, description="Unset: the number of gaps is chosen per run from the tickets (a Ward tree cut at the best modularity of their neighbour graph). Set: cut the average-linkage tree at this cosine distance instead (one granularity for all data).")
    gap_min_tickets: int = Field(3, ge=2, description="Fewest tickets that make a gap; smaller groups are outliers.")
    gap_attach_score: float | None = Field(None, ge=-1.0, le=1.0, description="Cosine to a gap's centre for an outlier ticket to join it in the second pass; unset: within the gap's reach (the cosine of its least close ticket).")
    gap_half_life_days: float = Field(30.0, gt=0, description="Impact weight of a ticket halves every this many days before the newest one.")
    gap_signal_weights: dict[str, float] = Field(GAP_SIGNAL_WEIGHTS, description="Impact of one item of each gap signal, in tickets, as JSON: a resolved ticket (`ticket`), an \"I still need help\" on an article (`still_need_help`), a widget query that got no suggestion (`no_result`). A signal left out keeps its default.")
    ticket_url_template: str | None = Field(None, description="Link of a ticket id in the gap report, with `{id}`, e.g. `https://acme.zendesk.com/agent/tickets/{id}`; unset: ids are not links.")
    gap_description_chars: int = Field(200, ge=0, description="Characters of the description added to a ticket's title for mining.")

    # Access
    agent_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated keys that let a caller see internal articles."
    )
    admin_api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated keys for the admin API (reindex, put/delete articles); none: admin API off."
    )

    memory_budget_mb: int = Field(0, ge=0, description="Memory the loaded KBs may take together; beyond it the least recently used KB is unloaded (and reloaded on its next query). 0: no limit.")

    # Limits (per process, or fleet-wide with KBSUGGEST_REDIS_URL)
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies are refused with 413.")
    rate_limit_per_second: float = Field(20.0, ge=0, description="Requests per second each client IP may sustain (token bucket); 0: no limit.")
    rate_limit_burst: int = Field(40, ge=1, description="Requests a client IP may send at once before the rate limit applies.")
    request_timeout_seconds: float = Field(10.0, ge=0, description="Requests taking longer get 504 (admin API exempt); 0: no timeout.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies whose `X-Forwarded-For` names the client; empty: the TCP peer is the client.")
    max_header_bytes: int = Field(16384, ge=1024, le=1_048_576, description="Largest request line plus headers, in bytes (431 above).")
    header_timeout_seconds: float = Field(10.0, gt=0, description="A connection that has not sent a request's complete headers within this time is closed.")
    keep_alive_seconds: float = Field(5.0, gt=0, description="An idle keep-alive connection is closed after this time.")

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

    @field_validator("agent_api_keys", "admin_api_keys", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("source_format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        return _known_format(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("gap_signal_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(GAP_SIGNALS))
        if unknown:
            raise ValueError(f"unknown signal {unknown[0]!r}; valid: {', '.join(GAP_SIGNALS)}")
        if any(w < 0 for w in value.values()):
            raise ValueError("a signal's weight must be 0 or more")
        return {**GAP_SIGNAL_WEIGHTS, **value}

    @field_validator("ticket_url_template")
    @classmethod
    def _ticket_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "{id}" not in value or not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} must be an http(s) URL with {{id}} where the ticket id goes")
        return value

    @field_validator("database_url", "redis_url")
    @classmethod
    def _url(cls, value: str | None, info) -> str | None:
        schemes = ("postgresql://", "postgres://") if info.field_name == "database_url" else ("redis://", "rediss://", "unix://")
        if not value:
            return None
        if not value.startswith(schemes):  # the value is never echoed: it may hold a password
            raise ValueError(f"must start with {' or '.join(schemes)}")
        return value

    @field_validator("index_url")
    @classmethod
    def _index_url(cls, value: str | None) -> str | None:
        from kbsuggest.index.s3 import parse_url

        if not value:
            return None
        parse_url(value)  # ValueError: the message says what is wrong, not the value
        return value.rstrip("/")

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. http://minio:9000")
        return value or None

    def default_kb(self) -> "KBSettings":
        """The default KB as the environment configures it (the KBs file may override it)."""
        return KBSettings(
            name=DEFAULT_KB, articles_dir=self.articles_dir, agent_api_keys=self.agent_api_keys,
            admin_api_keys=self.admin_api_keys, cors_origins=self.cors_origins, min_score=self.min_score,
            default_locale=self.default_locale, article_base_url=self.article_base_url,
            require_audience=self.require_audience, source_format=self.source_format)


def _known_format(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in FORMATS:
        raise ValueError(f"unknown source format {value!r}; valid: {', '.join(FORMATS)}")
    return value


DEFAULT_KB = "default"
KB_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # names a directory and a URL path segment


class KBSettings(BaseModel):
    """One knowledge base: where its articles are, who may see its internal articles or change it, how it answers."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=KB_NAME)
    articles_dir: Path | None = Field(None, description="The KB folder the admin API writes to and reindexes from.")
    agent_api_keys: list[str] = Field(default_factory=list, description="Keys that see this KB's internal articles and stats.")
    admin_api_keys: list[str] = Field(default_factory=list, description="Keys that may change this KB.")
    agent_api_keys_env: str | None = Field(None, description="Environment variable holding more agent keys (comma-separated).")
    admin_api_keys_env: str | None = Field(None, description="Environment variable holding more admin keys (comma-separated).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins whose pages may call this KB's API.")
    min_score: float | None = Field(None, ge=-1.0, le=1.0, description="Threshold on the calibrated score; unset: tuned, else calibrated.")
    default_locale: str = Field("en", max_length=35)
    article_base_url: str = Field("", max_length=500)
    require_audience: bool = Field(True, description="Articles must declare `audience`; one without it is internal.")
    source_format: str | None = Field(None, description="The format of articles_dir (kbsuggest.sources.FORMATS); unset: detected.")

    @field_validator("source_format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        return _known_format(value)

    @model_validator(mode="after")
    def _keys_from_env(self) -> "KBSettings":
        for field, env in (("agent_api_keys", self.agent_api_keys_env), ("admin_api_keys", self.admin_api_keys_env)):
            if env:
                extra = [k.strip() for k in os.environ.get(env, "").split(",") if k.strip()]
                setattr(self, field, [*getattr(self, field), *extra])
        return self


def load_kbs(settings: Settings) -> dict[str, KBSettings]:
    """Every configured KB by name: the default one from the environment, then the KBs file's ``[kbs.NAME]``
    tables (a ``[kbs.default]`` table replaces the environment's default KB)."""
    kbs = {DEFAULT_KB: settings.default_kb()}
    if settings.kbs_file is None:
        return kbs
    path = Path(settings.kbs_file)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the KBs file {str(path)!r} does not exist (KBSUGGEST_KBS_FILE)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the KBs file {str(path)!r} cannot be read: {exc}") from None
    unknown = sorted(set(data) - {"kbs"})
    if unknown or not isinstance(data.get("kbs", {}), dict):
        raise ConfigError(f"{str(path)!r}: expected only [kbs.NAME] tables, found {', '.join(unknown) or 'kbs = ...'}")
    for name, table in data.get("kbs", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{str(path)!r}: kbs.{name} must be a table")
        base = path.parent
        if "articles_dir" in table:
            if not isinstance(table["articles_dir"], str):
                raise ConfigError(f"{str(path)!r}: kbs.{name}.articles_dir must be a path (a string), "
                                  f"got {table['articles_dir']!r}")
            table = {**table, "articles_dir": base / Path(table["articles_dir"])}
        try:
            kbs[name] = KBSettings(name=name, **table)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "name"
            raise ConfigError(f"{str(path)!r}: kbs.{name}.{where}: {first['msg']}") from None
    return kbs
