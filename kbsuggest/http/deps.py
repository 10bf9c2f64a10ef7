"""Request dependencies: which KB, its Suggester, and who is calling (public, agent, admin) — per KB.

Keys are compared in constant time against every configured key of **that** KB: a key of KB A is a
stranger to KB B (401), so it never reads B's internal articles or stats. The dependencies are
``async``: FastAPI would run a plain ``def`` dependency in a worker thread, a hop per request.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated

import anyio
from fastapi import Depends, Header, Path, Request
from starlette.exceptions import HTTPException

from kbsuggest.config import DEFAULT_KB, KB_NAME, KBSettings
from kbsuggest.errors import InvalidInputError
from kbsuggest.kbs.registry import Registry
from kbsuggest.rank.suggester import Suggester


def key_matches(key: str, known: list[str]) -> bool:
    """True when ``key`` is one of ``known``; every key is compared, each in constant time."""
    results = [hmac.compare_digest(key.encode(), k.encode()) for k in known]
    return any(results)


def registry(request: Request) -> Registry:
    return request.app.state.registry


async def kb_path(kb: Annotated[str, Path(pattern=KB_NAME, max_length=63, description="The knowledge base's name.")]) -> None:
    """Documents and validates ``{kb}`` on the routes under ``/v1/kbs/{kb}``."""


async def kb_name(request: Request) -> str:
    kb = request.path_params.get("kb", DEFAULT_KB)
    if not re.fullmatch(KB_NAME, kb):  # checked here too: the path's own check runs after the KB lookup
        raise InvalidInputError("kb", f"kb: {kb[:70]!r} is not a KB name (1-63 lowercase letters, digits, '-', '_')")
    return kb


KBName = Annotated[str, Depends(kb_name)]


async def kb_config(request: Request, kb: KBName) -> KBSettings:
    """The KB's settings; an unknown KB is a 404 naming it."""
    return registry(request).config(kb)


async def current_suggester(request: Request, kb: KBName) -> Suggester:
    found = registry(request).peek(kb)
    if found is None:  # first query of this KB (or after eviction): load it off the event loop
        found = await anyio.to_thread.run_sync(registry(request).get, kb)
    return found


def suggest_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's one limiter of suggestions computed at once (``Settings.suggest_concurrency``), shared by every
    route prefix; created in the event loop on first use (no await between the check and the set)."""
    state = request.app.state
    limiter = getattr(state, "suggest_limiter", None)
    if limiter is None:
        limiter = state.suggest_limiter = anyio.CapacityLimiter(state.settings.suggest_concurrency)
    return limiter


def _bearer_key(authorization: str | None) -> str | None:
    scheme, _, key = (authorization or "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


AuthorizationHeader = Annotated[
    str | None, Header(description="`Bearer <agent key>` of this KB to include internal articles.")]


async def caller_is_agent(config: Annotated[KBSettings, Depends(kb_config)], authorization: AuthorizationHeader = None) -> bool:
    """No header: a public caller. A valid agent key of this KB: an agent. Anything else is a 401, never a downgrade."""
    if authorization is None:
        return False
    key = _bearer_key(authorization)
    if key and key_matches(key, config.agent_api_keys):
        return True
    raise HTTPException(401, "invalid API key: send 'Authorization: Bearer <agent key>' or no header")


async def require_agent(config: Annotated[KBSettings, Depends(kb_config)], authorization: AuthorizationHeader = None) -> None:
    """For endpoints that quote what visitors typed: agents of this KB only."""
    if not config.agent_api_keys:
        raise HTTPException(403, f"this needs an agent key of KB {config.name!r}: configure its agent keys and send "
                                 "'Authorization: Bearer <key>'")
    key = _bearer_key(authorization)
    if not key or not key_matches(key, config.agent_api_keys):
        raise HTTPException(401, "send 'Authorization: Bearer <agent key>'", headers={"WWW-Authenticate": "Bearer"})


AdminAuthorization = Annotated[str | None, Header(alias="authorization", description="`Bearer <admin key>` of this KB.")]


async def require_admin(config: Annotated[KBSettings, Depends(kb_config)], authorization: AdminAuthorization = None) -> None:
    """401 without a valid admin key of this KB, 403 for one of its agent keys."""
    key = _bearer_key(authorization) or ""
    if key and key_matches(key, config.admin_api_keys):
        return
    if key and key_matches(key, config.agent_api_keys):
        raise HTTPException(403, "this agent key cannot use the admin API: send an admin key")
    if not config.admin_api_keys:
        raise HTTPException(401, f"the admin API of KB {config.name!r} is off: configure its admin keys "
                                 "(KBSUGGEST_ADMIN_API_KEYS for the default KB)")
    raise HTTPException(401, "missing or invalid admin key: send 'Authorization: Bearer <admin key>'",
                        headers={"WWW-Authenticate": "Bearer"})
