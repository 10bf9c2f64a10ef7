"""``kbsuggest admin``: the admin API's operations from the command line.

Without ``--url`` they change the local KB folder and index directly (no server needs to run; a
running one keeps its index until it reindexes). With ``--url`` they call a running server's admin
API, which swaps the new index in without downtime.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kbsuggest.cli.context import check_kb_name, kb_option


@click.group()
@click.option("--url", envvar="KBSUGGEST_ADMIN_URL", help="Base URL of a running server [env KBSUGGEST_ADMIN_URL].")
@click.option("--key", envvar="KBSUGGEST_ADMIN_KEY", help="Admin key for --url [env KBSUGGEST_ADMIN_KEY].")
@click.option("--articles-dir", type=click.Path(path_type=Path), help="KB folder [env KBSUGGEST_ARTICLES_DIR].")
@kb_option
@click.pass_context
def admin(ctx: click.Context, url: str | None, key: str | None, articles_dir: Path | None, kb: str) -> None:
    """Reindex, or put/delete one article of a KB, locally or on a running server (--url)."""
    check_kb_name(kb)  # before it goes into a --url path
    if articles_dir:
        ctx.obj.overrides["articles_dir"] = articles_dir
    ctx.meta["admin_url"], ctx.meta["admin_key"], ctx.meta["kb"] = url, key, kb


def _call(ctx: click.Context, method: str, path: str, body: bytes | None = None) -> dict:
    """One admin API request; an error answer becomes a one-line CLI error."""
    import urllib.error
    import urllib.request

    from kbsuggest.errors import KBSuggestError

    headers = {"Authorization": f"Bearer {ctx.meta['admin_key'] or ''}", "Content-Type": "text/markdown; charset=utf-8"}
    prefix = "/v1" if ctx.meta["kb"] == "default" else f"/v1/kbs/{ctx.meta['kb']}"
    request = urllib.request.Request(ctx.meta["admin_url"].rstrip("/") + prefix + path, body, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["message"]
        except (ValueError, KeyError):
            message = exc.reason
        raise KBSuggestError(f"{method} {path}: HTTP {exc.code}: {message}") from None
    except urllib.error.URLError as exc:
        raise KBSuggestError(f"cannot reach {ctx.meta['admin_url']!r}: {exc.reason}") from None


def _local(ctx: click.Context):
    from kbsuggest.cli.context import CLIContext, indexer
    from kbsuggest.kbs.admin import KBAdmin
    from kbsuggest.kbs.registry import Registry

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    obj.kb(ctx.meta["kb"], settings)  # a valid name
    return KBAdmin(Registry(settings, store=obj.store(settings)), indexer())


def _report(result: dict) -> None:
    from kbsuggest.cli.context import echo

    target = f" {result['article_id']}" if result.get("article_id") else ""
    echo(f"{result['action']}{target}: {result['articles']} articles, {result['chunks']} chunks "
         f"(embedded {result['embedded']}, reused {result['reused']}) in {result['seconds']:.2f} s")
    for skipped in result["skipped"]:
        path, reason = (skipped["path"], skipped["reason"]) if isinstance(skipped, dict) else skipped
        echo(f"  skipped {path}: {reason}")


@admin.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the index from the KB folder."""
    _report(_call(ctx, "POST", "/admin/reindex") if ctx.meta["admin_url"] else vars(_local(ctx).reindex(ctx.meta["kb"])))


@admin.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "article_id", help="The article's id; default: the id FILE declares (or its file name).")
@click.pass_context
def put(ctx: click.Context, file: Path, article_id: str | None) -> None:
    """Create or replace one article with the Markdown of FILE, and reindex."""
    from kbsuggest.cli.context import indexer

    text = file.read_text(encoding="utf-8")
    article_id = article_id or indexer().parse(text, file.name).id
    if ctx.meta["admin_url"]:
        _report(_call(ctx, "PUT", f"/admin/articles/{article_id}", text.encode("utf-8")))
    else:
        _report(vars(_local(ctx).put_article(ctx.meta["kb"], article_id, text)))


@admin.command()
@click.argument("article_id")
@click.pass_context
def delete(ctx: click.Context, article_id: str) -> None:
    """Delete the article ARTICLE_ID from the KB folder, and reindex."""
    if ctx.meta["admin_url"]:
        _report(_call(ctx, "DELETE", f"/admin/articles/{article_id}"))
    else:
        _report(vars(_local(ctx).delete_article(ctx.meta["kb"], article_id)))
