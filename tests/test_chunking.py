from indexing.chunking import chunk_article, windows
from indexing.markdown import parse_article, read_article

from conftest import FIXTURE_KB


def test_chunk_text_is_title_heading_path_and_text():
    chunks = chunk_article(read_article(FIXTURE_KB / "sso-login.md", FIXTURE_KB))
    assert [(c.anchor, c.text) for c in chunks[2:4]] == [
        ("check-the-certificate", "Troubleshoot SSO login failures / Check the certificate\n"
                                  "Upload the new IdP certificate after a rotation."),
        ("clock-skew", "Troubleshoot SSO login failures / Check the certificate / Clock skew\n"
                       "The SAML assertion is rejected when clocks differ by more than five minutes."),
    ]
    assert chunks[2].body == "Upload the new IdP certificate after a rotation."


def test_long_sections_split_with_overlap():
    words = [f"w{i}" for i in range(250)]
    pieces = list(windows(words, 100, 20))
    assert [(p[0], p[-1]) for p in pieces] == [("w0", "w99"), ("w80", "w179"), ("w160", "w249")]
    article = parse_article("---\ntitle: Long\n---\n## Part\n" + " ".join(words), "long.md")
    chunks = chunk_article(article, max_words=100, overlap_words=20)
    assert [c.anchor for c in chunks] == ["", "part", "part", "part"]
    assert chunks[2].body.split()[0] == "w80"


def test_heading_without_text_still_a_chunk():
    article = parse_article("---\ntitle: T\n---\n## Empty\n## Full\ntext\n", "t.md")
    assert [(c.heading, c.text) for c in chunk_article(article)] == [
        ("", "T"), ("Empty", "T / Empty"), ("Full", "T / Full\ntext")]


def test_title_chunk_first_with_the_opening_as_snippet():
    title = chunk_article(read_article(FIXTURE_KB / "sso-login.md", FIXTURE_KB))[0]
    assert (title.anchor, title.heading, title.text, title.body) == (
        "", "", "Troubleshoot SSO login failures", 'When single sign-on fails you see "SAML response invalid".')
