"""Front matter fails closed: whatever cannot be classified is internal or refused, never public.

The module imports only what existed before these rules (parse_article, load_articles, Settings), so each
"never public" test fails on an assertion, not an import, on the code before them.
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from indexing.build import build_index, load_articles
from indexing.markdown import parse_article
from kbsuggest.config import Settings
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.errors import ArticleError

from conftest import FIXTURE_KB, REPO, make_settings

BODY = "# Unlock an account\n\nCheck the audit log, then unlock the account.\n"
deterministic = hsettings(derandomize=True, database=None, deadline=None, max_examples=300,
                          suppress_health_check=[HealthCheck.too_slow])


def parse(text, **options):
    return parse_article(text, "runbook.md", **options)


def refused(text, **options) -> str:
    with pytest.raises(ArticleError) as info:
        parse(text, **options)
    assert info.value.path == "runbook.md"
    return info.value.reason


# -- tolerated: the article is read as its author meant -----------------------------------------------------

@pytest.mark.parametrize("text", [
    "\ufeff---\naudience: internal\n---\n" + BODY,  # a BOM (Windows editors)
    "\n\n   \n---\naudience: internal\n---\n" + BODY,  # blank lines first
    "---\r\naudience: internal\r\n---\r\n" + BODY,  # CRLF
    "---\nAudience: internal\n---\n" + BODY,
    "---\nAUDIENCE: Internal\n---\n" + BODY,
    "---\n' audience ': ' internal '\n---\n" + BODY,
])
def test_internal_however_it_is_written(text):
    article = parse(text)
    assert (article.audience, article.title) == ("internal", "Unlock an account")
    assert article.warnings == ()


def test_bom_without_front_matter_keeps_the_heading():
    article = parse("\ufeff" + BODY)
    assert (article.title, article.audience, [s.heading for s in article.sections]) == (
        "Unlock an account", "public", [""])


def test_site_keys_are_accepted_silently():
    text = ("---\ntitle: Goals\ndescription: Track goals\nsidebar_label: Goals\nsidebar_position: 3\nslug: /goals\n"
            "keywords: [goals]\nlayout: page\npermalink: /goals/\ndraft: false\nauthors: [ana]\ntoc: true\n"
            "audience: public\n---\nText.\n")
    article = parse(text)
    assert (article.audience, article.warnings) == ("public", ())


def test_no_front_matter_is_public_by_default():
    assert (parse(BODY).audience, parse(BODY).warnings) == ("public", ())


# -- unknown keys: reported, and internal unless the audience is given ---------------------------------------

def test_misspelt_audience_is_internal_with_a_warning():
    article = parse("---\naudiance: internal\n---\n" + BODY)
    assert article.audience == "internal"
    assert article.warnings == (
        "unknown front-matter key 'audiance' (did you mean 'audience'?), ignored",
        "no 'audience' and the unknown key 'audiance' may be meant as one: indexed as internal until the "
        "front matter says 'audience: public' or 'audience: internal'",
    )


def test_unknown_key_with_an_audience_keeps_it_and_warns():
    article = parse("---\naudience: public\nvisibility: everyone\nsidebar_postion: 2\n---\n" + BODY)
    assert article.audience == "public"
    assert article.warnings == ("unknown front-matter key 'visibility', ignored",
                                "unknown front-matter key 'sidebar_postion' (did you mean 'sidebar_position'?), ignored")


def test_many_unknown_keys_are_summed_up():
    keys = "".join(f"k{i}: x\n" for i in range(25))
    article = parse(f"---\naudience: public\n{keys}---\n" + BODY)
    assert len(article.warnings) == 11
    assert article.warnings[-1] == "and 15 more unknown front-matter keys, ignored"


@pytest.mark.parametrize("front", ["", "---\ntitle: Unlock\n---\n"])
def test_required_audience_missing_is_internal_with_a_warning(front):
    article = parse(front + BODY, require_audience=True)
    assert article.audience == "internal"
    assert article.warnings == ("no 'audience' and this KB requires one: indexed as internal until the front "
                                "matter says 'audience: public' or 'audience: internal'",)
    assert parse("---\naudience: public\n---\n" + BODY, require_audience=True).audience == "public"


# -- refused: the file is skipped with the reason ------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [
    ("everyone", "'everyone'"), ("yes", "True"), ("true", "True"), ("[internal]", "['internal']"),
    ("", "None"), ("''", "''"), ("1", "1"), ("{a: 1}", "{'a': 1}"), ("private", "'private'"),
])
def test_invalid_audience_is_an_error(value, shown):
    assert refused(f"---\naudience: {value}\n---\n" + BODY) == (
        f"'audience' must be one of public, internal, got {shown}")


@pytest.mark.parametrize("front, reason", [
    ("---\naudience: internal\n\n", "front matter opened by '---' on line 1 is never closed by a '---' line"),
    ("\n\n---\n", "front matter opened by '---' on line 3 is never closed by a '---' line"),
    ("---\n- audience\n- internal\n---\n", "front matter is not a mapping of keys to values"),
    ("---\njust some text\n---\n", "front matter is not a mapping of keys to values"),
    ("---\naudience: internal\naudience: public\n---\n", "front matter gives 'audience' more than once"),
    ("---\nAudience: internal\naudience: public\n---\n", "front matter gives 'audience' more than once"),
    ("---\nx: &a internal\naudience: *a\n---\n",
     "front matter uses YAML anchors or aliases (&name, *name); write the values out"),
    ("---\nx: &a [1]\n---\n", "front matter uses YAML anchors or aliases (&name, *name); write the values out"),
    ("---\ntitle: [a, b]\n---\n", "'title' must be text, got ['a', 'b'] (quote it if it is meant as text)"),
    ("---\naudience: public\ntitle: " + "x" * 301 + "\n---\n", "'title' is 301 characters; the most is 300"),
    ("---\naudience: public\nurl: " + "u" * 2049 + "\n---\n", "'url' is 2,049 characters; the most is 2048"),
    ("---\naudience: public\ntags: [" + ", ".join(["t"] * 51) + "]\n---\n", "'tags' has 51 tags; the most is 50"),
    ("---\naudience: public\ntags: [[a]]\n---\n", "'tag' must be text, got ['a'] (quote it if it is meant as text)"),
    ("---\naudience: public\nx: " + "[" * 11 + "]" * 11 + "\n---\n",
     "front matter nests lists or mappings more than 10 deep"),
    ("---\naudience: public\ndescription: " + "d" * 65536 + "\n---\n", "front matter is over 64 KiB"),
])
def test_untrustworthy_front_matter_is_an_error(front, reason):
    assert refused(front + BODY) == reason


def test_alias_bomb_is_refused_before_it_expands():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    assert "anchors or aliases" in refused("---\n" + "\n".join(lines) + "\ntitle: *a8\n---\n" + BODY)


# -- ids ---------------------------------------------------------------------------------------------------

def test_ids_are_nfkc_normalised():
    assert parse("---\nid: ｐａｓｓｗｏｒｄ-ｒｅｓｅｔ\n---\n" + BODY).id == "password-reset"
    assert parse_article(BODY, "Zuru\u0308cksetzen.md").id == parse_article(BODY, "Zur\u00fccksetzen.md").id == (
        "zurücksetzen")  # macOS writes file names decomposed


def test_ids_are_bounded_in_utf8_bytes():
    assert parse(f"---\nid: {'é' * 100}\n---\n" + BODY).id == "é" * 100  # 200 bytes: the most
    assert refused(f"---\nid: {'é' * 150}\n---\n" + BODY) == (
        f"'id' {'é' * 60 + '…'!r} is 300 bytes in UTF-8; the most is 200 (it names the file <id>.md)")
    with pytest.raises(ArticleError, match="is 300 bytes in UTF-8"):
        parse_article(BODY, "é" * 150 + ".md")  # an id taken from the path is bounded too


def test_skeletons_see_through_lookalikes_and_case():
    from kbsuggest.domain import id_skeleton

    same = ["password-reset", "p\u0430ssword-reset", "passw0rd-reset", "Password-Reset", "\u03a1ASSWORD-RESET",
            "ｐａｓｓｗｏｒｄ-reset"]
    assert {id_skeleton(i) for i in same} == {id_skeleton("password-reset")}
    assert id_skeleton("billing-1") == id_skeleton("billing-l") != id_skeleton("billing-i")
    assert id_skeleton("\u0397elp") == id_skeleton("help") != id_skeleton("\u03b7elp")  # Η looks like H, η like n
    assert len({id_skeleton(i) for i in ["passwort-zuruecksetzen", "zurücksetzen", "zurucksetzen", "reset"]}) == 4


@deterministic
@given(st.text(max_size=20))
def test_the_skeleton_of_a_skeleton_is_itself(text):
    from kbsuggest.domain import id_skeleton

    assert id_skeleton(id_skeleton(text)) == id_skeleton(text)
    ascii_text = text.encode("ascii", "ignore").decode()
    assert id_skeleton(ascii_text.upper()) == id_skeleton(ascii_text.lower())  # case-blind (file systems are)


def test_validate_article_id_errors():
    from kbsuggest.domain import validate_article_id

    assert validate_article_id(" ｆａｑ ") == "faq"
    for bad, message in [("", "may hold only"), ("a/b", "may hold only"), ("-a", "may hold only"),
                         ("a" * 201, "is 201 bytes in UTF-8"), ("a\u200bb", "may hold only")]:
        with pytest.raises(ValueError, match=message):
            validate_article_id(bad)


def kb(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "kb"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_lookalike_ids_in_a_folder_are_a_conflict(tmp_path):
    root = kb(tmp_path, {
        "password-reset.md": "---\naudience: public\n---\n" + BODY,
        "p\u0430ssword-reset.md": "---\naudience: public\n---\n" + BODY,  # Cyrillic а, id from the path
        "zz.md": "---\nid: Password-Reset\naudience: public\n---\n" + BODY,
    })
    articles, skipped = load_articles(root, Settings())
    assert [a.id for a in articles] == ["password-reset"]
    assert skipped == [
        ("p\u0430ssword-reset.md", "id 'p\u0430ssword-reset' ('p\\u0430ssword-reset') looks like 'password-reset', "
                                   "already used by password-reset.md"),
        ("zz.md", "id 'Password-Reset' looks like 'password-reset', already used by password-reset.md"),
    ]


# -- a folder: warnings reported, require_audience and the chunk bound applied -------------------------------

def test_index_reports_warnings_and_fails_closed(tmp_path):
    root = kb(tmp_path, {
        "a-misspelt.md": "---\naudiance: internal\n---\n" + BODY.replace("Unlock an account", "Misspelt"),
        "b-plain.md": "# Plain\n\nNo front matter at all.\n",
        "c-public.md": "---\naudience: public\n---\n# Public\n\nSaid so.\n",
    })
    summary = build_index(root, make_settings(tmp_path, require_audience=True), HashEmbedder())
    assert (summary.articles, summary.internal, summary.skipped) == (3, 2, [])
    assert [(path, warning.split(":")[0]) for path, warning in summary.warnings] == [
        ("a-misspelt.md", "unknown front-matter key 'audiance' (did you mean 'audience'?), ignored"),
        ("a-misspelt.md", "no 'audience' and the unknown key 'audiance' may be meant as one"),
        ("b-plain.md", "no 'audience' and this KB requires one"),
    ]
    assert load_articles(root, Settings(require_audience=False))[0][1].audience == "public"


def test_an_article_over_the_chunk_bound_keeps_its_first_chunks(tmp_path):
    headings = "".join(f"## Part {i}\n\nText {i}.\n\n" for i in range(300))
    root = kb(tmp_path, {"long.md": "---\ntitle: Long\naudience: public\n---\n" + headings})
    summary = build_index(root, make_settings(tmp_path, max_chunks_per_article=200), HashEmbedder())
    assert (summary.articles, summary.chunks) == (1, 200)
    assert summary.warnings == [("long.md", "301 chunks, over the bound of 200: indexed the first 200 (up to "
                                            "section 'Part 198'); split the article, or raise "
                                            "KBSUGGEST_MAX_CHUNKS_PER_ARTICLE")]


@pytest.mark.parametrize("folder", [REPO / "articles", FIXTURE_KB])
def test_project_kbs_have_no_warnings(folder):
    articles, skipped = load_articles(folder, Settings(require_audience=True))
    assert skipped == [] and [a.warnings for a in articles if a.warnings] == []


# -- the invariant, on generated front matter ----------------------------------------------------------------

KEYS = st.sampled_from(["audience", "Audience", " AUDIENCE ", "audiance", "audence", "visibility", "title",
                        "sidebar_label", "Tags", "private", "internal"])
VALUES = st.sampled_from(["public", "internal", "Internal", " PUBLIC ", "everyone", "yes", "", "[public]", "x"])


@deterministic
@given(st.lists(st.tuples(KEYS, VALUES), max_size=4), st.booleans(), st.booleans())
def test_public_only_when_said_or_nothing_is_in_doubt(pairs, require_audience, bom):
    text = ("\ufeff" if bom else "") + "---\n" + "".join(f"{k}: {v}\n" for k, v in pairs) + "---\n" + BODY
    try:
        article = parse(text, require_audience=require_audience)
    except ArticleError:
        return  # refused: never served
    keys = [k.strip().lower() for k, _ in pairs]
    said = dict((k.strip().lower(), v.strip().lower()) for k, v in pairs)
    if article.audience == "public":
        assert said.get("audience") == "public" or (
            "audience" not in keys and not require_audience and set(keys) <= {"title", "sidebar_label", "tags"})
    else:
        assert said.get("audience") == "internal" or article.warnings
