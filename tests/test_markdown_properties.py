"""Properties of the Markdown parser, checked on generated input (hypothesis, derandomized)."""

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexing.markdown import article_id_from_path, parse_article
from kbsuggest.domain import ARTICLE_ID
from kbsuggest.errors import ArticleError

deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=300,
                         suppress_health_check=[HealthCheck.too_slow])

MARKDOWNISH = st.lists(st.sampled_from(list("ab #-*_`|:{}<>[]()!\n\t=~/\\1é") + ["---\n", "```\n", "\r\n"])).map("".join)
WORDS = st.lists(st.text(alphabet="abcxyz019", min_size=1, max_size=6), min_size=1, max_size=4).map(" ".join)
BODY = st.lists(st.text(alphabet="abcxyz019", min_size=1, max_size=6), max_size=8).map(" ".join)
HEADINGS = st.lists(st.tuples(st.integers(1, 6), WORDS, BODY), max_size=8)


def parse_or_error(text: str, path: str = "doc.md"):
    try:
        return parse_article(text, path)
    except ArticleError as exc:
        assert exc.path == path and exc.reason
        return None


@deterministic
@given(st.one_of(st.text(), MARKDOWNISH, st.tuples(MARKDOWNISH, MARKDOWNISH).map(lambda t: f"---\n{t[0]}\n---\n{t[1]}")))
def test_never_crashes_on_arbitrary_text(text):
    article = parse_or_error(text)  # an Article, or an ArticleError naming the path: nothing else
    if article is not None:
        assert article.title and article.sections and re.fullmatch(ARTICLE_ID, article.id)


def render(intro: str, headings) -> str:
    parts = ["---\ntitle: The Title\n---\n", intro]
    parts += [f"{'#' * level} {heading}\n\n{body}" for level, heading, body in headings]
    return "\n\n".join(parts) + "\n"


@deterministic
@given(BODY, HEADINGS)
@example("", [(1, "a", "x"), (2, "a", "y"), (2, "a 1", "z")])  # found by hand: the third was also a-1
def test_every_heading_becomes_a_section(intro, headings):
    article = parse_article(render(intro or "Intro.", headings), "doc.md")
    sections = [s for s in article.sections if s.heading]
    assert [s.heading for s in sections] == [heading for _, heading, _ in headings]
    assert [s.text for s in sections] == [body for _, _, body in headings]
    assert all(s.path[-1] == s.heading for s in sections)
    anchors = [s.anchor for s in sections]
    assert len(set(anchors)) == len(anchors)  # every section can be linked to


@settings(deterministic, max_examples=100)
@given(HEADINGS, st.lists(BODY, min_size=8, max_size=8))
def test_ids_and_anchors_do_not_depend_on_the_text(headings, new_bodies):
    before = parse_article(render("Intro.", headings), "guides/Doc One.md")
    edited = [(level, heading, body) for (level, heading, _), body in zip(headings, new_bodies)]
    after = parse_article(render("Other intro.", edited), "guides/Doc One.md")
    assert before.id == after.id == "guides-doc-one"
    assert [s.anchor for s in before.sections] == [s.anchor for s in after.sections]
    assert parse_article(render("Intro.", headings), "guides/Doc One.md") == before  # same input, same article


@settings(deterministic, max_examples=100)
@given(st.lists(st.text(alphabet="abcXYZ 019._-é", min_size=1, max_size=10), min_size=1, max_size=3),
       st.sampled_from([".md", ".mdx", ".markdown"]))
def test_path_ids_are_stable_and_valid(parts, suffix):
    path = "/".join(parts) + suffix
    article_id = article_id_from_path(path)
    assert article_id == article_id_from_path(path)
    assert article_id == article_id_from_path("/".join(parts) + ".md")  # renaming .md to .mdx keeps the id
    article = parse_or_error("# T\n\ntext", path)
    assert article is None or article.id == article_id
    declared = parse_article(f"---\nid: fixed-id\n---\n# T\n\ntext", path)
    assert declared.id == "fixed-id"  # a declared id wins over the path
