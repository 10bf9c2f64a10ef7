import numpy as np

from kbsuggest.config import Settings
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.kbs.load import load_suggester
from kbsuggest.rank.suggester import make_snippet


def ids(results):
    return [s.article_id for s in results]


def test_top1_and_fields(suggester):
    top = suggester.suggest("reset my password email")[0]
    assert (top.article_id, top.title, top.url) == (
        "password-reset", "Reset your password", "https://help.example.test/password-reset")
    assert 0 < top.score <= 1


def test_one_result_per_article_best_chunk_wins(suggester):
    results = suggester.suggest("check the certificate", k=10, min_score=-1)
    assert len(ids(results)) == len(set(ids(results)))
    sso = next(s for s in results if s.article_id == "sso-login")
    assert sso.anchor == "check-the-certificate" and sso.section == "Check the certificate"
    assert results == sorted(results, key=lambda s: -s.score)


def test_k_limits_results(suggester):
    assert len(suggester.suggest("password", k=1, min_score=-1)) == 1
    assert len(suggester.suggest("password", k=3, min_score=-1)) == 3


def test_chat_threshold_hides_weak_cards(suggester):
    everything = suggester.suggest("webhook signatures", k=10, min_score=-1)
    cut = (everything[0].score + everything[1].score) / 2
    assert ids(suggester.suggest("webhook signatures", k=10, min_score=cut, mode="chat")) == ["webhooks"]


def test_form_threshold_decides_on_the_best_then_shows_the_top_k(suggester):
    everything = ids(suggester.suggest("webhook signatures", k=10, min_score=-1))
    best = suggester.suggest("webhook signatures", k=1, min_score=-1)[0].score  # rounded to 4 decimals
    cut = best - 1e-4  # above every other article's score: a chat would show the best only
    assert ids(suggester.suggest("webhook signatures", k=10, min_score=cut, mode="chat")) == everything[:1]
    assert ids(suggester.suggest("webhook signatures", k=10, min_score=cut)) == everything
    assert ids(suggester.suggest("webhook signatures", k=3, min_score=cut)) == everything[:3]
    assert suggester.suggest("webhook signatures", k=10, min_score=best + 1e-4) == []
    assert suggester.suggest_many(["webhook signatures"], 10, min_score=best + 1e-4) == [[]]
    assert ids(suggester.suggest_many(["webhook signatures"], 10, min_score=cut)[0]) == everything


def test_a_nan_score_neither_shows_nor_hides_the_form_list(suggester, monkeypatch):
    everything = ids(suggester.suggest("webhook signatures", k=10, min_score=-1))
    probability = suggester.calibration.probability

    def with_a_nan(features):
        score = probability(features)
        score[-1] = np.nan
        return score

    monkeypatch.setattr(type(suggester.calibration), "probability", lambda self, f: with_a_nan(f))
    shown = ids(suggester.suggest("webhook signatures", k=10, min_score=-1))
    assert len(shown) == len(everything) - 1 and set(shown) < set(everything)


def test_short_queries_return_nothing(suggester):
    assert suggester.suggest("  ab  ") == []
    assert suggester.suggest("") == []


def test_locale_and_product_filters(suggester):
    assert ids(suggester.suggest("Passwort vergessen zurücksetzen", locale="de")) == ["passwort-zuruecksetzen"]
    assert set(ids(suggester.suggest("password", k=10, locale="en", min_score=-1))).isdisjoint({"passwort-zuruecksetzen"})
    assert set(ids(suggester.suggest("limits", k=10, product="api", min_score=-1))) == {"api-rate-limits", "webhooks"}


def test_internal_articles_only_for_agents(suggester):
    query = "issue a manual refund in the billing console"
    assert "runbook-refund" not in ids(suggester.suggest(query, k=10, min_score=-1))
    assert ids(suggester.suggest(query, include_internal=True))[0] == "runbook-refund"


def test_filters_look_past_the_first_candidates(tmp_path):
    from indexing.build import build_index

    kb = tmp_path / "kb"
    kb.mkdir()
    for i in range(40):  # 40 internal articles that match better than the one public one
        (kb / f"internal-{i}.md").write_text(f"---\ntitle: Refund runbook {i}\naudience: internal\n---\nrefund refund {i}\n")
    (kb / "public.md").write_text("---\ntitle: Billing\n---\nrefund policy and invoices\n")
    settings = Settings(index_dir=tmp_path / "index", embedder="hash", min_score=-1)
    build_index(kb, settings, HashEmbedder())
    assert ids(load_suggester(settings, HashEmbedder()).suggest("refund")) == ["public"]


def test_snippet_cut_at_a_word():
    assert make_snippet("one two three four", 11) == "one two…"
    assert make_snippet("short", 11) == "short"


def test_suggest_many_equals_one_by_one(suggester):
    texts = ["reset my password email", "ab", "webhook signatures", "refund policy"]
    assert suggester.suggest_many(texts, 3) == [suggester.suggest(t, 3) for t in texts]
