"""The real all-MiniLM-L6-v2 on the sample KB in articles/, on the ONNX int8 backend that serves. Marked
`model`; CI runs them (``make test`` exports the model first)."""

import pytest

from indexing.build import build_index
from kbsuggest.embed import create_embedder
from kbsuggest.kbs.load import load_suggester

from conftest import REPO, make_settings

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("sample"), embedder="onnx", min_score=0.3)
    embedder = create_embedder("onnx")
    build_index(REPO / "articles", settings, embedder)
    return load_suggester(settings, embedder)


def ids(results):
    return [s.article_id for s in results]


def test_forgot_password_ranks_password_reset_first(sample_kb):
    assert ids(sample_kb.suggest("I forgot my password"))[0] == "password-reset"


def test_sso_login_failing_first(sample_kb):
    assert ids(sample_kb.suggest("sso login failing"))[0] == "sso-saml-login-failing"


def test_partial_title_finds_sso_in_top_3(sample_kb):
    assert "sso-saml-login-failing" in ids(sample_kb.suggest("sso login fa"))


def test_internal_runbooks_stay_internal(sample_kb):
    query = "issue a manual refund in the billing console"
    assert all(not i.startswith("runbook-") for i in ids(sample_kb.suggest(query, k=10)))
    assert ids(sample_kb.suggest(query, include_internal=True))[0] == "runbook-manual-refund"


def test_german_locale(sample_kb):
    assert ids(sample_kb.suggest("Passwort vergessen", locale="de"))[0] == "passwort-zuruecksetzen"
