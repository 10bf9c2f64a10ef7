"""The HTTP client of ``kbsuggest sync``: GET JSON from a help desk's API with its credentials, and turn
everything that can go wrong into one ``SyncError`` line (the CLI prints it and exits 1).

Stdlib only (urllib): a sync makes a few hundred sequential GETs, so a client library buys nothing.
- Credentials go to the base URL's host only: redirects are refused rather than followed (urllib would
  forward the Authorization header to any host), and a next-page link the API gives for another host (a
  self-hosted proxy in front of the real API) is rebased onto the base URL.
- 429 and 503 are retried after ``Retry-After`` (seconds or an HTTP date) at most ``RETRIES`` times, each
  wait at most ``MAX_WAIT`` seconds; a longer wait is an error that says when to try again.
- A response is read up to ``MAX_RESPONSE_BYTES``; messages quote the URL, never a credential.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from collections.abc import Callable, Iterator

from kbsuggest.errors import KBSuggestError

RETRIES = 3
MAX_WAIT = 60.0
TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 64 * 2**20
MAX_PAGES = 10_000  # of one listing: a million records at 100 a page; beyond it the API is looping
sleep = time.sleep  # tests replace it (no wall-clock waits in tests)

HINTS = {401: "the credentials were refused: check the token (and the email) the environment variable holds",
         403: "the token's user may not read this: use an admin's or a Help Center manager's token",
         404: "not found: check the subdomain, the locale and --base-url"}


class SyncError(KBSuggestError):
    """A sync that cannot complete; nothing was published."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise SyncError(f"GET {req.full_url} was redirected ({code}) to {newurl}; pass that address as --base-url")


_OPENER = urllib.request.build_opener(_NoRedirect)


def account_url(base_url: str | None, name: str, domain: str, option: str) -> str:
    """``base_url``, else ``https://NAME.DOMAIN`` (the account name is checked: it becomes a host name)."""
    if base_url:
        return base_url
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name or ""):
        raise SyncError(f"{option} {name!r}: the name before .{domain} (letters, digits, '-')")
    return f"https://{name}.{domain}"


def retry_after(value: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (1 s when it is absent or unreadable)."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:  # "-0000": the date is in UTC
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


class Client:
    def __init__(self, base_url: str, headers: dict[str, str], product: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SyncError(f"--base-url {base_url!r} is not an http(s) address")
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            # the token travels in every request's Authorization header: never in clear text off this machine
            raise SyncError(f"--base-url {base_url!r}: plain http is only allowed to localhost; use https")
        self.base = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", "User-Agent": "kbsuggest-sync", **headers}
        self.product = product
        self.requests = 0

    def url(self, link: str) -> str:
        """``link`` (a path, or an absolute link the API gave) as an address on the base URL's host."""
        parts = urllib.parse.urlsplit(link)
        if not parts.netloc:
            return self.base + "/" + link.lstrip("/")
        if urllib.parse.urlsplit(self.base).netloc == parts.netloc:
            return link
        return self.base + parts.path + (f"?{parts.query}" if parts.query else "")

    def get(self, link: str) -> tuple[object, dict[str, str]]:
        """The JSON body and the headers of ``GET link``."""
        url = self.url(link)
        for attempt in range(RETRIES + 1):
            try:
                with _OPENER.open(urllib.request.Request(url, headers=self.headers), timeout=TIMEOUT) as response:
                    self.requests += 1
                    body = response.read(MAX_RESPONSE_BYTES + 1)
                    headers = dict(response.headers.items())
                break
            except urllib.error.HTTPError as exc:
                self.requests += 1
                wait = retry_after((exc.headers or {}).get("Retry-After"))
                if exc.code not in (429, 503) or attempt == RETRIES or wait > MAX_WAIT:
                    raise self._refused(url, exc.code, exc.reason, wait, attempt) from None
                sleep(wait)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # refused, reset, DNS, timeout
                reason = getattr(exc, "reason", None) or exc
                raise SyncError(f"cannot reach {self.product} at {url}: {reason}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise SyncError(f"GET {url}: the response is over {MAX_RESPONSE_BYTES // 2**20} MiB")
        try:
            return json.loads(body.decode("utf-8-sig")), headers
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise SyncError(f"GET {url}: {self.product} answered with something that is not JSON "
                            f"({str(exc)[:80]})") from None

    def _refused(self, url: str, code: int, reason: str, wait: float, attempt: int) -> SyncError:
        if code in (429, 503):
            why = (f"asked to wait {wait:.0f} s (over {MAX_WAIT:.0f} s)" if wait > MAX_WAIT
                   else f"still refused after {attempt} retries")
            return SyncError(f"GET {url}: {self.product} is rate limiting ({code} {reason}); {why}: try again later")
        hint = HINTS.get(code, "")
        return SyncError(f"GET {url}: {self.product} answered {code} {reason}" + (f"; {hint}" if hint else ""))


def next_link(headers: dict[str, str]) -> str | None:
    """The ``rel="next"`` address of a ``Link`` header (Freshdesk's pagination), if any."""
    for part in (headers.get("Link") or headers.get("link") or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") and url.strip().startswith("<"):
            return url.strip()[1:-1]
    return None


def follow(api: Client, link: str, next_of: Callable[[object, dict[str, str], str], str | None],
           what: str) -> Iterator[tuple[object, str]]:
    """(body, address) of every page of a listing, from ``link`` to the last page ``next_of(body, headers,
    address)`` names; a listing that names a page again, or never ends, is an error."""
    seen: set[str] = set()
    next_page: str | None = link
    while next_page:
        url = api.url(next_page)
        if url in seen or len(seen) >= MAX_PAGES:
            raise SyncError(f"the pages of {what} never end (next page {url} again): not syncing")
        seen.add(url)
        body, headers = api.get(url)
        where = f"GET {url}"
        yield body, where
        next_page = next_of(body, headers, where)
