"""The domains of the leave-one-domain-out benchmark: each a KB (Markdown written on demand) and its tickets.

A ``Domain`` is one KB with its answerable queries and its unanswerable ones, by source:
- ``own``: the domain's own unanswerable questions (Integreat's generated ones, the sample KB's);
- ``project``: benchmarks/unanswerable.txt (project-written titles about other web apps);
- ``banking77``: out of domain, the first BANKING77 *test* query of each intent.
``fit_negatives`` are BANKING77 *train* queries (the first two per intent), the unanswerable side of
fitting, as benchmarks/fit_calibration.py has always used them; evaluation never sees them. A fold
fits on the other domains' answerable queries and these, never on unanswerable queries that are
evaluated (the project's, BANKING77 test) nor on the ``own`` ones: Integreat's are on-topic
questions another page may answer (its README: "a rough abstention probe"), fine to measure
false suggestions with, too noisy to set a threshold by.
``group`` is what a fold holds out together: an Integreat city in every language (its questions are
translations of each other). Everything reads /work/shared/data by path; nothing is copied into the repo.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kbsuggest.domain import Ticket
from tickets.reader import read_tickets

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
UNANSWERABLE = Path(__file__).with_name("unanswerable.txt")
INTEGREAT_CITIES = ("lkaugsburg", "muenchen", "rems-murr-kreis")
INTEGREAT_LANGUAGES = ("en", "de")


@dataclass
class Domain:
    name: str
    group: str
    language: str
    write_kb: Callable[[Path], None]  # writes the KB's Markdown articles into an empty folder
    answerable: list[Ticket]
    unanswerable: dict[str, list[Ticket]]  # source -> tickets no article answers
    fit_negatives: list[Ticket] = field(default_factory=list)
    note: str = ""

    @property
    def tickets(self) -> list[Ticket]:
        """Everything evaluated: answerable, then every unanswerable source."""
        return self.answerable + [t for source in self.unanswerable.values() for t in source]

    @property
    def fit_tickets(self) -> list[Ticket]:
        """What a fold fits on when this domain is not held out."""
        return self.answerable + self.fit_negatives


def spread(items: Sequence, limit: int | None) -> list:
    """An evenly spread, deterministic subset of ``limit`` items (all of them when limit is None or larger)."""
    if not limit or limit >= len(items):
        return list(items)
    return [items[i * len(items) // limit] for i in range(limit)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_article(path: Path, article_id: str, title: str, body: str, locale: str = "en") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    title = " ".join(title.split())
    path.write_text(f"---\nid: {article_id}\ntitle: {json.dumps(title, ensure_ascii=False)}\nlocale: {locale}\n---\n"
                    f"{body}\n", encoding="utf-8")


def write_stackfaq(folder: Path) -> int:
    """The StackFAQ threads as Markdown articles (id ``stackfaq-<doc_id>``) in ``folder``."""
    docs = read_csv(DATA / "stackfaq" / "stackfaq_docs.csv")
    for doc in docs:
        write_article(folder / f"{doc['doc_id']}.md", f"stackfaq-{doc['doc_id']}", doc["question"], doc["answers"])
    return len(docs)


def write_stackfaq_kb(kb: Path) -> int:
    """StackFAQ threads as Markdown articles, and the Plausible docs beside them (distractors)."""
    threads = write_stackfaq(kb / "stackfaq")
    shutil.copytree(DATA / "plausible_docs" / "docs", kb / "plausible")
    return threads


def lines_of(path: Path) -> list[str]:
    """Non-empty lines that are not # comments."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def tickets_of(prefix: str, texts: Sequence[str], golds: Sequence[str | None] | None = None) -> list[Ticket]:
    golds = golds if golds is not None else [None] * len(texts)
    return [Ticket(f"{prefix}{i}", text, linked_articles=(gold,) if gold else ())
            for i, (text, gold) in enumerate(zip(texts, golds))]


def banking77_sample(split: str, per_intent: int) -> list[str]:
    """The first ``per_intent`` queries of each BANKING77 intent, intents in file order."""
    per: dict[str, list[str]] = {}
    for row in read_csv(DATA / "banking77" / f"{split}.csv"):
        per.setdefault(row["category"], []).append(row["text"])
    return [text for texts in per.values() for text in texts[:per_intent]]


def _with_common(domain: Domain, limit: int | None) -> Domain:
    """Add the project's and BANKING77's unanswerable tickets (ids prefixed by the domain's name)."""
    name = domain.name
    domain.unanswerable["project"] = tickets_of(f"{name}:p", spread(lines_of(UNANSWERABLE), limit))
    if (DATA / "banking77").is_dir():
        domain.unanswerable["banking77"] = tickets_of(f"{name}:b", spread(banking77_sample("test", 1), limit))
        domain.fit_negatives = tickets_of(f"{name}:n", spread(banking77_sample("train", 2), limit and 2 * limit))
    return domain


def stackfaq(limit: int | None = None) -> Domain:
    queries = spread(read_csv(DATA / "stackfaq" / "stackfaq_queries.csv"), limit)
    return Domain("stackfaq", "stackfaq", "en", write_stackfaq_kb,
                  tickets_of("stackfaq:q", [q["query"] for q in queries], [f"stackfaq-{q['doc_id']}" for q in queries]),
                  {}, note="125 StackFAQ threads + 132 Plausible docs as distractors")


def _city(doc_id: str) -> str:
    return doc_id.rsplit("-", 1)[0]


def layout_domain(name: str, group: str, language: str, folder: Path, limit: int | None,
                  city: str | None = None, note: str = "") -> Domain:
    """A KB in the Integreat layout: docs.csv (doc_id,title,body), queries.csv (query,doc_id), and
    optionally unanswerable_generated.csv (query[,city]); ``city``: keep only its pages and questions."""
    docs = [d for d in read_csv(folder / "docs.csv") if city is None or _city(d["doc_id"]) == city]
    ids = {d["doc_id"] for d in docs}
    queries = spread([q for q in read_csv(folder / "queries.csv") if q["doc_id"] in ids], limit)
    unanswerable_file = folder / "unanswerable_generated.csv"
    unanswerable = [u["query"] for u in (read_csv(unanswerable_file) if unanswerable_file.is_file() else [])
                    if city is None or u.get("city") == city]

    def write(kb: Path) -> None:
        for doc in docs:
            write_article(kb / f"{doc['doc_id']}.md", doc["doc_id"], doc["title"], doc["body"], language)

    own = {"own": tickets_of(f"{name}:u", spread(unanswerable, limit))} if unanswerable else {}
    return Domain(name, group, language, write, tickets_of(f"{name}:q", [q["query"] for q in queries],
                                                           [q["doc_id"] for q in queries]), own,
                  note=note or f"{len(docs)} pages")


def integreat(city: str, language: str, limit: int | None = None) -> Domain:
    return layout_domain(f"integreat-{city}-{language}", f"integreat-{city}", language, DATA / "integreat" / language,
                         limit, city)


def sample(limit: int | None = None) -> Domain:
    """The project's own KB (articles/) and evaluation/sample_tickets.csv; its unanswerable tickets are ``own``."""
    tickets = [replace(t, id=f"sample:{t.id}")
               for t in read_tickets(REPO / "evaluation" / "sample_tickets.csv", required=("id", "title")).tickets]
    own = [t for t in tickets if not t.answerable]
    return Domain("sample", "sample", "en", lambda kb: shutil.copytree(REPO / "articles", kb, dirs_exist_ok=True),
                  spread([t for t in tickets if t.answerable], limit), {"own": spread(own, limit)},
                  note="the project's articles/ (public ones)")


def extra(folder: Path, limit: int | None = None, language: str = "en") -> Domain:
    folder = Path(folder)
    name = f"extra-{folder.name}"
    return layout_domain(name, name, language, folder, limit, note=str(folder))


def available_domains(limit: int | None = None, extras: Sequence[tuple[Path, str]] = ()) -> list[Domain]:
    """Every domain whose data is present, with the common unanswerable tickets added; ``extras``:
    (folder in the Integreat layout, its language)."""
    found: list[Domain] = []
    if (DATA / "stackfaq").is_dir() and (DATA / "plausible_docs").is_dir():
        found.append(stackfaq(limit))
    for language in INTEGREAT_LANGUAGES:
        if (DATA / "integreat" / language / "docs.csv").is_file():
            found += [integreat(city, language, limit) for city in INTEGREAT_CITIES]
    found.append(sample(limit))
    found += [extra(folder, limit, language) for folder, language in extras]
    return [_with_common(d, limit) for d in found]
