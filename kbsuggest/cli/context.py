"""What every command needs: the context object (settings from the global options and the environment,
the KBs, the store), the indexer, and ``echo`` for lines that hold data (ticket, event or article text)
rather than our own words. Offline packages are imported inside functions, never at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from kbsuggest.config import DEFAULT_KB, KB_NAME
from kbsuggest.text import terminal_safe


def echo(line: str, err: bool = False) -> None:
    """One line for the operator's terminal; escape sequences and other controls in it are made visible."""
    click.echo(terminal_safe(line), err=err)



def check_kb_name(name: str) -> str:
    """``--kb``'s value, refused unless it is a KB name (it names a directory and goes into URL paths)."""
    import re

    from kbsuggest.errors import ConfigError

    if not re.fullmatch(KB_NAME, name):
        raise ConfigError(f"--kb {name!r}: a KB name is 1-63 lowercase letters, digits, '-' or '_'")
    return name


kb_option = click.option("--kb", "kb", default=DEFAULT_KB, show_default=True, metavar="NAME",
                         help="The knowledge base (see the KBs file, KBSUGGEST_KBS_FILE).")


@dataclass
class CLIContext:
    overrides: dict = field(default_factory=dict)  # from the global options

    def settings(self, **overrides):
        from pydantic import ValidationError

        from kbsuggest.config import Settings
        from kbsuggest.errors import ConfigError

        values = {**self.overrides, **{k: v for k, v in overrides.items() if v is not None}}
        try:
            return Settings(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"setting {first['loc'][0]}: {first['msg']}") from None

    def kb(self, name: str, settings=None):
        """The KB's settings (a KB the KBs file does not declare gets the defaults)."""
        from kbsuggest.config import KBSettings, load_kbs

        check_kb_name(name)
        return load_kbs(settings or self.settings()).get(name) or KBSettings(name=name)

    def store(self, settings=None, must_exist: bool = False):
        from kbsuggest.errors import ConfigError
        from kbsuggest.store import open_store

        settings = settings or self.settings()
        if must_exist and not settings.database_url and not Path(settings.db_path).exists():
            raise ConfigError(f"no service database at {settings.db_path}: serve the widget first, or pass --db")
        return open_store(settings)


# The ticket export options of `tickets import` and `evaluate` (the names are tickets/presets.py's; the
# list is repeated here because the CLI loads no offline module before a command runs; a test compares).
TICKET_PRESETS = ("zendesk", "zendesk-csv", "freshdesk", "freshdesk-json", "intercom", "jira", "salesforce", "helpscout")


def ticket_options(command):
    """--preset, --format and --date-format, as both ticket-reading commands take them."""
    for option in reversed((
        click.option("--preset", type=click.Choice(TICKET_PRESETS), help="Column names of a help-desk export."),
        click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "json"]),
                     help="Input format (default: from the extension)."),
        click.option("--date-format", metavar="dmy|mdy|PATTERN",
                     help="How numeric dates are written, when the file does not show it (e.g. 03/04/2026): dmy, "
                          "mdy, or a strptime pattern such as '%d.%m.%Y %H:%M'."),
    )):
        command = option(command)
    return command


def settings_from(ctx: click.Context, **overrides):
    return ctx.find_object(CLIContext).settings(**overrides)


def indexer():
    """The offline parser and snapshot builder the admin operations run (the core never imports ``indexing``)."""
    from indexing.build import build_snapshot
    from indexing.markdown import parse_article
    from kbsuggest.kbs.admin import Indexer

    return Indexer(parse=parse_article, snapshot=build_snapshot)
