"""API keys: agent keys (see internal articles) and admin keys (change the KB), compared in constant time.

The dependencies are ``async``: FastAPI would run a plain ``def`` dependency in a worker thread, a
thread hop per request for a few microseconds of work.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException


def key_matches(key: str, known: list[str]) -> bool:
    """True when ``key`` is one of ``known``; every key is compared, each in constant time."""
    results = [hmac.compare_digest(key.encode(), k.encode()) for k in known]
    return any(results)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <admin key>` (KBSUGGEST_ADMIN_API_KEYS).")


async def require_admin(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """401 without a valid key, 403 for a valid key that is not an admin key (an agent key)."""
    settings = request.app.state.settings
    key = credentials.credentials.strip() if credentials else ""
    if key and key_matches(key, settings.admin_api_keys):
        return
    if key and key_matches(key, settings.agent_api_keys):
        raise HTTPException(403, "this agent key cannot use the admin API: send an admin key")
    if not settings.admin_api_keys:
        raise HTTPException(401, "the admin API is off: set KBSUGGEST_ADMIN_API_KEYS to enable it")
    raise HTTPException(401, "missing or invalid admin key: send 'Authorization: Bearer <admin key>'",
                        headers={"WWW-Authenticate": "Bearer"})


def _bearer_key(authorization: str | None) -> str | None:
    scheme, _, key = (authorization or "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


AuthorizationHeader = Annotated[
    str | None, Header(description="`Bearer <agent key>` (KBSUGGEST_AGENT_API_KEYS) to include internal articles.")]


async def caller_is_agent(request: Request, authorization: AuthorizationHeader = None) -> bool:
    """No header: a public caller. A valid agent key: an agent. Anything else is a 401, never a downgrade."""
    if authorization is None:
        return False
    key = _bearer_key(authorization)
    if key and key_matches(key, request.app.state.settings.agent_api_keys):
        return True
    raise HTTPException(401, "invalid API key: send 'Authorization: Bearer <agent key>' or no header")


async def require_agent(request: Request, authorization: AuthorizationHeader = None) -> None:
    """For endpoints that quote what visitors typed: agents only."""
    settings = request.app.state.settings
    if not settings.agent_api_keys:
        raise HTTPException(403, "this needs an agent key: set KBSUGGEST_AGENT_API_KEYS and send "
                                 "'Authorization: Bearer <key>'")
    key = _bearer_key(authorization)
    if not key or not key_matches(key, settings.agent_api_keys):
        raise HTTPException(401, "send 'Authorization: Bearer <agent key>'", headers={"WWW-Authenticate": "Bearer"})
