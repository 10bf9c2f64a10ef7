"""``kbsuggest sync zendesk|freshdesk``: pull a KB from a help desk's API and publish it (``indexing/sync``).

Credentials are read from environment variables named on the command line, never from an option's value
(which would sit in the shell history and the process list)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from kbsuggest.cli.context import CLIContext, kb_option


def _secret(var: str, option: str) -> str:
    from kbsuggest.errors import ConfigError

    value = os.environ.get(var, "").strip()
    if not value:
        raise ConfigError(f"{option} {var}: the environment variable {var!r} is not set (or is empty)")
    return value


def _common(command):
    for option in reversed((
        click.option("--base-url", metavar="URL", help="The API's address (a self-hosted proxy, a test server); "
                                                       "default: the product's own for the account."),
        click.option("--out", type=click.Path(path_type=Path),
                     help="Folder kept with the pulled export [default: KBSUGGEST_SYNC_DIR/<kb>/<product>]."),
        kb_option,
    )):
        command = option(command)
    return click.pass_obj(command)


@click.group()
def sync() -> None:
    """Pull a KB's articles from a help desk's API, then index and publish them as `kbsuggest index` does with
    that product's export (a failed sync publishes nothing)."""


def _run(obj: CLIContext, fmt: str, pages, stamps, api, out: Path | None, kb: str) -> None:
    from indexing.sync import sync as pull_and_index
    from kbsuggest.cli import publish_report
    from kbsuggest.kbs.load import kb_embedder

    settings = obj.settings()
    config = obj.kb(kb, settings)
    out = out or settings.sync_dir / config.name / fmt
    summary = pull_and_index(fmt, pages, stamps, settings, kb_embedder(settings, config.name), config, out)
    click.echo(f"pulled {summary.records} records in {summary.pages} pages ({api.requests} requests): "
               f"{summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged, {summary.removed} "
               f"removed since the last sync; kept in {summary.out}")
    publish_report(obj, settings, summary.index)


@sync.command()
@click.option("--subdomain", metavar="NAME", help="The account: NAME.zendesk.com (not needed with --base-url).")
@click.option("--token-env", metavar="VAR", required=True, help="Environment variable holding the API token "
                                                                "(with --email-env) or an OAuth access token.")
@click.option("--email-env", metavar="VAR", help="Environment variable holding the email of the token's user "
                                                 "(API tokens authenticate as {email}/token).")
@click.option("--locale", "locales", multiple=True, metavar="LOCALE",
              help="A Help Center locale to pull (repeatable); default: every locale the Help Center has.")
@_common
def zendesk(obj: CLIContext, subdomain: str | None, token_env: str, email_env: str | None, locales: tuple[str, ...],
            base_url: str | None, out: Path | None, kb: str) -> None:
    """Zendesk Guide: every article of the Help Center API (drafts left out, restricted articles internal)."""
    from indexing.sync import zendesk as api

    client = api.client(subdomain or "", _secret(token_env, "--token-env"),
                        _secret(email_env, "--email-env") if email_env else None, base_url)
    _run(obj, "zendesk", api.pages(client, list(locales)), api.stamps, client, out, kb)


@sync.command()
@click.option("--domain", metavar="NAME", help="The account: NAME.freshdesk.com (not needed with --base-url).")
@click.option("--api-key-env", metavar="VAR", required=True, help="Environment variable holding the API key.")
@_common
def freshdesk(obj: CLIContext, domain: str | None, api_key_env: str, base_url: str | None, out: Path | None,
              kb: str) -> None:
    """Freshdesk Solutions: categories, their folders and articles (drafts left out, public only for
    folders visible to all users)."""
    from indexing.sync import freshdesk as api

    client = api.client(domain or "", _secret(api_key_env, "--api-key-env"), base_url)
    _run(obj, "freshdesk", api.pages(client), api.stamps, client, out, kb)
