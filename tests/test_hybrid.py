"""Hybrid ranking for half-typed titles: query understanding, lexical coverage, calibrated fusion."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kbsuggest.rank.calibration import FEATURES, Calibration
from kbsuggest.config import Settings
from kbsuggest.rank.lexical import LexicalIndex
from kbsuggest.rank.query import Vocabulary

from conftest import REPO

VOCABULARY = Vocabulary(["Reset your password", "Password rules", "Passport photos", "Configure webhooks",
                         "Verify webhook signatures", "Report export downloads an empty CSV"])


def test_the_last_partial_word_is_completed_to_the_most_frequent_word():
    query = VOCABULARY.understand("how do I reset my passw")
    assert query.text == "how do I reset my password"
    assert query.terms[-1] == ("password",)
    assert VOCABULARY.understand("pass").terms[-1] == ("password", "passport")  # by document frequency


def test_the_last_partial_word_is_completed_to_what_follows_the_previous_word_in_the_kb():
    vocabulary = Vocabulary(["Renew my passport", "Reset the password", "Password rules", "Password length"])
    assert vocabulary.understand("pass").text == "password"  # most frequent
    assert vocabulary.understand("renew my pass").text == "renew my passport"  # "my passport" is in the KB
    assert vocabulary.understand("renew my pass").terms[-1] == ("passport", "password")


def test_the_title_alone_is_a_feature(suggester):
    query = suggester.understand("Reset your password ")
    features, _ = suggester.features(query, suggester.embedder.encode([query.text.strip()]))
    title_cos = features[:, FEATURES.index("title_cos")]
    assert [a.id for a in suggester.articles][int(np.argmax(title_cos))] == "password-reset"
    assert round(float(title_cos.max()), 4) == 1.0  # the article's title chunk embeds exactly its title


def test_a_finished_word_followed_by_a_space_is_not_completed():
    assert VOCABULARY.understand("export ").text == "export "
    assert VOCABULARY.understand("report exp").text == "report export"


def test_typos_are_repaired_within_the_budget():
    assert VOCABULARY.understand("verify webhok signatures").text == "verify webhook signatures"  # 1 edit, 6 chars
    assert VOCABULARY.understand("pasword reset").text == "password reset"
    assert VOCABULARY.understand("wbhk setup").terms[0] == ()  # 4 characters: no typo allowed, unknown word


def test_stop_word_only_queries_are_empty():
    assert VOCABULARY.understand("how do i").empty
    assert VOCABULARY.understand("How do I ").empty
    assert not VOCABULARY.understand("how do i res").empty


def test_stop_word_only_queries_suggest_nothing(suggester):
    assert suggester.suggest("how do i", min_score=0.0) == []
    assert suggester.suggest("Can you help me with", min_score=0.0) == []


def test_title_matches_weigh_more_than_body_matches():
    lexical = LexicalIndex(["Configure webhooks", "Billing"], ["Configure webhooks Add an endpoint",
                                                                  "Billing Plans also send webhooks"])
    coverage = lexical.coverage(lexical.vocabulary.understand("webhooks"))
    assert coverage["title"].tolist() == [1.0, 0.0] and coverage["text"].tolist() == [1.0, 1.0]
    dense = {"chunk_cos": 0.5, "article_cos": 0.5, "title_cos": 0.5}
    same_dense = np.array([[{**dense, "title_cov": coverage["title"][i], "text_cov": coverage["text"][i],
                             "text_bm25": coverage["bm25"][i]}[f] for f in FEATURES] for i in range(2)], np.float32)
    assert np.argmax(Calibration.load().probability(same_dense)) == 0


def test_bm25_counts_a_term_by_its_frequency_and_the_article_length():
    # "refund": twice in a short article, once in a long one, absent from the third (mean length 6 words)
    lexical = LexicalIndex(["Refunds", "Plans", "Billing"], [["refund", "refund", "policy"],
                                                           ["plans", "refund"] + ["word"] * 11, ["billing", "card"]])
    coverage = lexical.coverage(lexical.vocabulary.understand("refund "))
    assert coverage["text"].tolist() == [1.0, 1.0, 0.0]
    # tf / (tf + 1.2 (0.25 + 0.75 len / 6)), relative to the best article's
    short, long = 2 / (2 + 1.2 * (0.25 + 0.75 * 3 / 6)), 1 / (1 + 1.2 * (0.25 + 0.75 * 13 / 6))
    assert np.allclose(coverage["bm25"], [1.0, long / short, 0.0], atol=1e-6)
    # a rarer word weighs more: "policy" (1 article) beats "refund" (2) where each is said once
    both = lexical.coverage(lexical.vocabulary.understand("refund policy "))["bm25"]
    assert both.argmax() == 0 and both[1] < long / short


def test_bm25_is_relative_to_the_best_article_a_filter_allows():
    lexical = LexicalIndex(["Refunds", "Plans", "Billing"], [["refund", "refund"], ["plans", "refund", "word"],
                                                           ["billing", "card"]])
    query = lexical.vocabulary.understand("refund ")
    assert lexical.coverage(query)["bm25"][1] < 1.0
    filtered = lexical.coverage(query, np.array([False, True, True]))
    assert filtered["bm25"][1:].tolist() == [1.0, 0.0]


def test_a_locale_filter_scores_its_articles_as_a_kb_of_their_own(suggester):
    # the English password article has both words, the one German article "link" alone
    query = suggester.understand("password link ")
    vector = suggester.embedder.encode([query.text.strip()])
    everyone = dict(zip(*suggester.candidate_features(query, vector)[:2]))
    german = dict(zip(*suggester.candidate_features(query, vector, locale="de")[:2]))
    position = [a.id for a in suggester.articles].index("passwort-zuruecksetzen")
    column = FEATURES.index("text_bm25")
    assert list(german) == [position] and german[position][column] == 1.0
    assert everyone[position][column] < 1.0


def test_a_calibration_written_before_a_feature_existed_gives_it_no_weight():
    old = {"features": ["chunk_cos", "article_cos", "title_cos", "title_cov", "text_cov"],
           "coef": [1.0, 2.0, 3.0, 4.0, 5.0], "intercept": -1.0, "threshold": 0.3}
    assert Calibration.from_dict(old).coef.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 0.0]
    with pytest.raises(ValueError, match="unknown features"):
        Calibration.from_dict({**old, "features": [*old["features"][:4], "tf_idf"]})
    with pytest.raises(ValueError, match=r"features \['title_cov'\] are listed more than once"):
        Calibration.from_dict({**old, "features": [*old["features"][:4], "title_cov"]})


def test_a_half_typed_exact_title_ranks_first(suggester):
    assert suggester.suggest("Download your invoi", min_score=0.0)[0].article_id == "invoices"
    assert suggester.suggest("troubleshoot sso", min_score=0.0)[0].article_id == "sso-login"


def test_scores_are_probabilities_and_similarity_is_kept(suggester):
    found = suggester.suggest("reset my password", k=5, min_score=0.0)
    assert found[0].article_id == "password-reset"
    assert all(0.0 <= s.score <= 1.0 for s in found)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert all(-1.0 <= s.similarity <= 1.0 for s in found)


def test_calibration_is_monotone_in_every_feature():
    # more evidence never lowers the score: the packaged fit is bounded below by 0 (fit_calibration.py), and a
    # feature at 0 (collinear with another on the domains it was fitted on) is left to each KB's own fit
    calibration = Calibration.load()
    assert len(calibration.coef) == len(FEATURES) and (calibration.coef >= 0).all() and (calibration.coef > 0).sum() >= 3
    base = np.full((1, len(FEATURES)), 0.3, np.float32)
    for i in range(len(FEATURES)):
        higher = base.copy()
        higher[0, i] += 0.2
        if calibration.coef[i] > 0:
            assert calibration.probability(higher)[0] > calibration.probability(base)[0]
        else:
            assert calibration.probability(higher)[0] == calibration.probability(base)[0]
    assert 0.0 < calibration.threshold < 1.0
    assert Settings.model_fields["min_score"].default is None  # unset: the calibration's threshold applies


def test_the_serving_path_never_imports_scikit_learn():
    code = ("import sys; import kbsuggest.http.app, kbsuggest.rank.suggester, kbsuggest.rank.calibration, kbsuggest.rank.lexical; "
            "print('sklearn' in sys.modules, 'scipy' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert run.stdout.split() == ["False", "False"], run.stderr
