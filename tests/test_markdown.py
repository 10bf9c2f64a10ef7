from pathlib import Path

import pytest

from indexing.markdown import article_id_from_path, parse_article, read_article, slugify
from kbsuggest.errors import ArticleError

from conftest import FIXTURE_KB


def sections_of(article):
    return [(s.heading, s.anchor, s.path) for s in article.sections]


def test_front_matter_fields():
    article = read_article(FIXTURE_KB / "password-reset.md", FIXTURE_KB)
    assert (article.id, article.title, article.locale, article.audience, article.product) == (
        "password-reset", "Reset your password", "en", "public", "web")
    assert article.tags == ("account", "password")
    assert article.updated == "2026-01-10"
    assert article.url == "https://help.example.test/password-reset"
    assert len(article.content_hash) == 64


def test_sections_anchors_and_heading_paths():
    article = read_article(FIXTURE_KB / "sso-login.md", FIXTURE_KB)
    assert sections_of(article) == [
        ("", "", ()),
        ("Check the certificate", "check-the-certificate", ("Check the certificate",)),
        ("Clock skew", "clock-skew", ("Check the certificate", "Clock skew")),
        ("Check the certificate", "check-the-certificate-1", ("Check the certificate",)),
    ]
    assert article.sections[0].text == 'When single sign-on fails you see "SAML response invalid".'


def test_markup_stripped_links_and_code_kept():
    article = read_article(FIXTURE_KB / "password-reset.md", FIXTURE_KB)
    assert article.sections[1].text == (
        "Click Forgot password on the sign-in page and enter your email. "
        "We send a reset link that expires after 60 minutes."
    )
    assert article.sections[2].text == "Check your spam folder and allow no-reply@example.test."


def test_images_dropped_raw_html_tables_and_fences_kept_as_text():
    webhooks = read_article(FIXTURE_KB / "webhooks.md", FIXTURE_KB)
    assert webhooks.sections[0].text == "Enter an HTTPS URL and pick the events to send.\nRaw HTML is dropped from the index."
    limits = read_article(FIXTURE_KB / "api-rate-limits.md", FIXTURE_KB)
    assert limits.sections[0].text == "Plan | Requests per minute\nFree | 60\nPro | 600"
    assert 'time.sleep(int(response.headers["Retry-After"]))' in limits.sections[1].text


def test_id_from_path_and_title_h1_not_a_section():
    article = read_article(FIXTURE_KB / "billing" / "refunds.md", FIXTURE_KB)
    assert article.id == "billing-refunds"
    assert article.tags == ("billing", "refunds")
    assert sections_of(article) == [("Refund policy", "refund-policy", ("Refund policy",))]


def test_mdx_imports_admonitions_and_explicit_ids():
    text = (
        "---\ntitle: Goals\n---\n\nimport useBaseUrl from '@docusaurus/useBaseUrl';\n\n:::note\n"
        "Goals count towards usage.\n:::\n\n## Google tag manager {#gtm}\n\nUse <Required /> GTM.\n\n"
        "```js\nimport x from 'y'\n```\n"
    )
    article = parse_article(text, "docs/goals.md")
    assert sections_of(article) == [("", "", ()), ("Google tag manager", "gtm", ("Google tag manager",))]
    assert article.sections[0].text == "Goals count towards usage."
    assert article.sections[1].text == "Use GTM.\nimport x from 'y'"


def test_slugify_like_github():
    assert slugify("What's new in v2.0?") == "whats-new-in-v20"
    assert slugify("Passwort zurücksetzen") == "passwort-zurücksetzen"
    assert article_id_from_path("docs/Getting Started.md") == "docs-getting-started"


@pytest.mark.parametrize("name, reason", [
    ("bad-yaml.md", "invalid YAML front matter"),
    ("bad-audience.md", "'audience' must be one of public, internal, got 'everyone'"),
    ("not-a-mapping.md", "front matter is not a mapping"),
    ("not-utf8.md", "not UTF-8 text (byte 0)"),
    ("empty-body.md", "no text"),
])
def test_malformed_files_name_path_and_reason(name, reason):
    root = Path(__file__).parent / "fixtures" / "broken"
    with pytest.raises(ArticleError) as info:
        read_article(root / name, root)
    assert info.value.path == name
    assert reason in info.value.reason
