"""The help-desk exports the ticket reader knows by name: which columns hold each field, what their
statuses mean, which fields are HTML.

A field may have several candidate columns (the first with a value wins): exports of one product differ
by version and by report (Salesforce's Data Loader writes ``CaseNumber``, a report ``Case Number``). A
column may be a path into nested JSON. None of these exports has a native "article that resolved it"
field, so every preset reads ``linked_articles`` (or the older ``resolved_article_id``) when the file has
that column; map another with ``--map linked_articles=COLUMN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    export: str  # which export it reads, for the help and the README
    columns: dict[str, tuple[str, ...]]
    statuses: dict[str, str] = field(default_factory=dict)  # the export's status (lower case) -> ours
    html: tuple[str, ...] = ()  # fields whose text is HTML


PRESETS: dict[str, Preset] = {
    "zendesk": Preset(
        "Zendesk API: a tickets page or incremental export page ({\"tickets\": [...], \"next_page\": ...}), or "
        "the JSON export, one ticket per line. A solved ticket's last update is its resolution time.",
        {"title": ("subject", "raw_subject"), "resolved_at": ("updated_at",)}),
    "zendesk-csv": Preset(
        "Zendesk Admin Center > Reports > Export > CSV",
        {"id": ("Id", "ID"), "title": ("Subject",), "description": ("Description",), "status": ("Status",),
         "created_at": ("Created at",), "resolved_at": ("Solved at",), "tags": ("Tags",)}),
    "freshdesk": Preset(
        "Freshdesk Tickets > Export (CSV)",
        {"id": ("Ticket ID",), "title": ("Subject",), "description": ("Description",), "status": ("Status",),
         "created_at": ("Created time",), "resolved_at": ("Resolved time", "Closed time"), "tags": ("Tags",)}),
    "freshdesk-json": Preset(
        "Freshdesk API: GET /api/v2/tickets?include=description,stats (a JSON list)",
        {"title": ("subject",), "description": ("description_text", "description"),
         "resolved_at": ("stats.resolved_at", "stats.closed_at", "updated_at")},
        {"2": "open", "3": "pending", "4": "resolved", "5": "closed"}),
    "intercom": Preset(
        "Intercom API: GET /conversations pages ({\"conversations\": [...]}); a chat without a title is "
        "titled by its first message",
        {"title": ("title", "source.subject", "source.body"), "description": ("source.body",),
         "status": ("state",), "resolved_at": ("statistics.last_close_at", "updated_at"), "tags": ("tags.tags",)},
        html=("title", "description")),
    "jira": Preset(
        "Jira Service Management: issue search > Export > CSV (all fields)",
        {"id": ("Issue key",), "title": ("Summary",), "description": ("Description",), "status": ("Status",),
         "created_at": ("Created",), "resolved_at": ("Resolved",), "tags": ("Labels",)}),
    "salesforce": Preset(
        "Salesforce Cases: Data Loader export, or a Cases report exported as CSV",
        {"id": ("CaseNumber", "Case Number", "Id"), "title": ("Subject",), "description": ("Description",),
         "status": ("Status",), "created_at": ("CreatedDate", "Date/Time Opened", "Opened Date"),
         "resolved_at": ("ClosedDate", "Date/Time Closed", "Closed Date")}),
    "helpscout": Preset(
        "Help Scout Mailbox API: GET /v2/conversations pages ({\"_embedded\": {\"conversations\": [...]}})",
        {"id": ("number", "id"), "title": ("subject",), "description": ("preview",), "status": ("status",),
         "created_at": ("createdAt",), "resolved_at": ("closedAt",), "tags": ("tags",)},
        {"active": "open", "spam": "spam"}),
}
