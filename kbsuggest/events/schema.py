"""Widget events: what a visitor was shown, opened, rated and whether they still filed a ticket.

The widget sends them in batches (``POST /v1/events``, or ``/v1/kbs/{kb}/events``). They are stored in
the service store (``kbsuggest/store``, table ``events``), one row per event, with their KB. Nothing identifies a person: the session id is random and
client-made, and the only free text kept is what was typed as a query or ticket title.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from kbsuggest.jsontypes import JSONBool, json_int, json_number
from kbsuggest.store import Store
from kbsuggest.timestamps import utc_iso

# Client clocks are not trusted; an event is dated by its age at send time, within this bound.
MAX_EVENT_AGE = timedelta(days=1)
# Epoch milliseconds up to 2100-01-01: anything larger is no clock reading (1e20 and 2**63 were a 500).
Millis = json_int(ge=0, le=4_102_444_800_000, description="Epoch milliseconds.")

Text = Annotated[str, Field(max_length=2000)]
ArticleId = Annotated[str, Field(min_length=1, max_length=200)]
Locale = Annotated[str | None, Field(max_length=35)]  # the bounds of /suggest's locale and product
Product = Annotated[str | None, Field(max_length=64)]
Position = json_int(ge=1, le=50, description="1-based rank of the article in the list shown.")


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: Millis = Field(description="Client time of the event, epoch milliseconds.")


class Shown(BaseModel):
    model_config = ConfigDict(extra="forbid")
    article_id: ArticleId
    position: Position
    score: json_number(ge=-1.0, le=1.0)


class SuggestionsShown(_Event):
    type: Literal["suggestions_shown"]
    mode: Literal["form", "chat"] = "form"
    query: Text
    suggestions: list[Shown] = Field(max_length=50, description="Empty when nothing matched.")
    locale: Locale = Field(None, description="The locale the page asked suggestions in (the dashboard's by-locale table).")
    product: Product = Field(None, description="The product the page asked suggestions for (by-product table).")


class ArticleOpened(_Event):
    type: Literal["article_opened"]
    query: Text = ""
    article_id: ArticleId
    position: Position


class Feedback(_Event):
    type: Literal["feedback"]
    query: Text = ""
    article_id: ArticleId
    position: Position
    helpful: JSONBool = Field(description="`true`: \"This solved it\"; `false`: \"I still need help\".")


class TicketSubmitted(_Event):
    type: Literal["ticket_submitted"]
    title: Text = Field(description="The final ticket title (the description is never sent).")
    suggestion_opened: JSONBool


Event = Annotated[SuggestionsShown | ArticleOpened | Feedback | TicketSubmitted, Field(discriminator="type")]


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="Random id made by the widget per browser tab.")
    sent_at: Millis = Field(description="Client time when the batch was sent, epoch milliseconds.")
    events: list[Event] = Field(min_length=1)


def event_time(at_ms: int, sent_ms: int, received: datetime) -> datetime:
    """Server time of an event: receipt time minus its age on the client's clock (0 to MAX_EVENT_AGE)."""
    age = timedelta(milliseconds=max(0, sent_ms - at_ms))
    return received - min(age, MAX_EVENT_AGE)


def rows(batch: EventBatch, received: datetime) -> list[dict]:
    out = []
    for event in batch.events:
        row = {"session_id": batch.session_id, "type": event.type, "received_at": utc_iso(received),
               "at": utc_iso(event_time(event.at, batch.sent_at, received))}
        data = event.model_dump(exclude={"type", "at"})
        if isinstance(event, SuggestionsShown):
            data["suggestions"] = json.dumps(data["suggestions"])
        elif isinstance(event, TicketSubmitted):
            data["query"] = data.pop("title")
        out.append(row | data)
    return out


def record(store: Store, kb: str, batch: EventBatch, received: datetime | None = None) -> int:
    """Store a validated batch of KB ``kb`` in one transaction; returns how many events were stored."""
    return store.record_events(kb, rows(batch, received or datetime.now(timezone.utc)))
