"""A KB's languages in lexical matching: the stop words and word stems of the locales of its articles."""

from __future__ import annotations

from kbsuggest.rank.language import kb_stop_words, language_of, stems, support
from kbsuggest.rank.lexical import LexicalIndex
from kbsuggest.rank.tokens import STOP_WORDS, tokens


def test_a_kb_skips_the_stop_words_of_each_of_its_languages():
    german = kb_stop_words(["de-DE"])
    assert {"welche", "kann", "ich", "fur"} <= german  # folded like every token ("für" -> "fur")
    assert STOP_WORDS <= german  # English function words and support boilerplate, in every KB
    assert kb_stop_words(["en"]) == STOP_WORDS
    assert kb_stop_words(["xx"]) == STOP_WORDS  # a language with no list: English's only
    assert language_of("pt_BR") == "pt"
    assert support(["de-DE", "en", "ja", "xx", "de"]) == [
        "de: stop words, stems", "en: stop words, stems", "ja: stop words",  # Snowball has no Japanese
        "xx: English stop words only, no stems"]


def test_words_are_stemmed_in_the_language_of_the_article_that_uses_them():
    found = stems([("de", ["konsequenzen", "konsequenz", "bibliotheken"]), ("en", ["passwords", "konsequenzen"]),
                   ("xx", ["gatos"])])
    assert found["konsequenzen"] == found["konsequenz"] == "konsequenz"  # German decided: its article came first
    assert found["bibliotheken"] == "bibliothek" and found["passwords"] == "password"
    assert found["gatos"] == "gatos"  # no Snowball stemmer: the word as it is


def test_a_german_question_matches_by_its_topic_word_and_its_stem():
    titles = ["Anmeldung beim Bürgeramt", "Welche Ämter sind zuständig"]
    texts = ["Anmeldung beim Bürgeramt Die Anmeldung der Wohnung dauert eine Woche.",
             "Welche Ämter sind zuständig Sie können sich online anmelden."]
    words = [tokens(t) for t in texts]
    lexical = LexicalIndex([tokens(t) for t in titles], words, stems([("de", w) for w in words]),
                           kb_stop_words(["de"]))
    query = lexical.vocabulary.understand("Wo kann ich mich anmelden ")
    assert query.terms == (("anmelden",),)  # the rest are German stop words
    coverage = lexical.coverage(query)
    # "anmelden" and the title's "Anmeldung" share the stem "anmeld"
    assert coverage["title"].tolist() == [1.0, 0.0] and coverage["text"].tolist() == [1.0, 1.0]
    plain = LexicalIndex([tokens(t) for t in titles], words)  # English stop words, no stems: as before
    assert len(plain.vocabulary.understand("Wo kann ich mich anmelden ").terms) == 5
    assert plain.coverage(plain.vocabulary.understand("Wo kann ich mich anmelden "))["title"].tolist() == [0.0, 0.0]


def test_the_suggester_uses_the_languages_of_its_kb(suggester):
    # the fixture KB holds a German article (passwort-zuruecksetzen.md): German stop words are skipped
    assert "welche" in suggester.lexical.vocabulary.stop_words
    assert suggester.understand("welche passwort ").terms == (("passwort",),)
    assert suggester.lexical.stem("charged") == suggester.lexical.stem("charge") == "charg"  # English, Snowball
