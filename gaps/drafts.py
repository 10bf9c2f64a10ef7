"""A Markdown draft per gap, in the KB's article format, for an author to finish.

A draft is never served by accident, twice over: its front matter says ``draft: true`` (the indexer
leaves drafts out: ``indexing/markdown.py``) and ``audience: internal`` (were ``draft`` removed before
review, it would still reach no public caller). Publishing is a deliberate two-line edit by the author:
delete ``draft: true`` and set ``audience: public``. Everything quoted was redacted before mining:
the customers' questions and the agents' most common resolution sentences (``describe.resolution_steps``).
"""

from __future__ import annotations

import re

from gaps.mine import Gap
from gaps.signals import LABELS

MARKER = "# drafted by kbsuggest gaps"  # a file carrying it may be rewritten by the next run; others never are


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "new-article"


def draft_id(gap: Gap, taken: set[str] = frozenset()) -> str:
    """The draft's article id: the title's slug (a failing gap's: ``<article>-rewrite``), never one the KB has."""
    base = f"{gap.article_id}-rewrite" if gap.kind == "failing" else slug(gap.title)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draft_markdown(gap: Gap, article_id: str | None = None) -> str:
    """The draft of ``gap``: front matter (draft, internal), the questions customers asked, the steps."""
    article_id = article_id or draft_id(gap)
    counts = ", ".join(f"{n} {LABELS[s]}" for s, n in gap.signals.items() if n)
    asked = "\n".join(f"- {e['text']}" for e in gap.examples)
    if gap.kind == "failing":
        linked = ", ".join(f"`{a}` ({n})" for a, n in gap.linked.items()) or "other articles"
        intro = (f"<!-- Rewrite of `{gap.article_id}`: it is found for these tickets, but agents resolved them "
                 f"with {linked}. -->\n\n")
    else:
        intro = ""
    steps = ("\n".join(f"{i}. {step}" for i, step in enumerate(gap.steps, 1)) if gap.steps
             else "1. TODO (no resolution text in the ticket export)")
    tags = ", ".join(_yaml(k) for k in gap.keywords[:4])
    return (f"---\n{MARKER} (gap {gap.rank}): review, then delete `draft: true` and set `audience: public`\n"
            f"id: {article_id}\ntitle: {_yaml(gap.title)}\naudience: internal\ndraft: true\ntags: [{tags}]\n---\n\n"
            f"{intro}## What customers ask\n\n{counts or 'no items'}; last seen {gap.last_seen}.\n\n{asked}\n\n"
            f"## Steps\n\n<!-- The sentences agents wrote most often when resolving these tickets. -->\n\n{steps}\n\n"
            f"## If it still does not work\n\nTODO\n")
