"""What every command needs: settings from the global options and the environment, the indexer, and
``echo`` for lines that hold data (ticket, event or article text) rather than our own words.

Offline packages are imported inside these functions, never at module level.
"""

from __future__ import annotations

import click

from kbsuggest.text import terminal_safe


def echo(line: str, err: bool = False) -> None:
    """One line for the operator's terminal; escape sequences and other controls in it are made visible."""
    click.echo(terminal_safe(line), err=err)


def indexer():
    """The offline parser and builder the admin operations run (the core never imports ``indexing``)."""
    from indexing.build import build_index
    from indexing.markdown import parse_article
    from kbsuggest.kbs.admin import Indexer

    return Indexer(parse=parse_article, build=build_index)


def settings_from(ctx: click.Context, **overrides):
    from pydantic import ValidationError

    from kbsuggest.config import Settings

    values = {**ctx.obj, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise click.ClickException(f"setting {first['loc'][0]}: {first['msg']}") from None
