"""The onnx backend against sentence-transformers, and a serving process that never imports torch."""

import json
import subprocess
import sys

import numpy as np
import pytest

from indexing.build import build_index
from kbsuggest.embed.models import FP32_FILE, INT8_FILE, models_dir as default_models_dir
from kbsuggest.embed.onnx import OnnxEmbedder
from kbsuggest.kbs.load import load_suggester

from conftest import FIXTURE_KB, REPO, make_settings

pytestmark = pytest.mark.model

TEXTS = ["I forgot my password", "sso login fa", "Export gives an empty CSV file when I download it",
         "Passwort vergessen", "refund", "x"]


@pytest.fixture(scope="module")
def models_dir():
    """The exported files in models/; exported here when a fresh clone has none yet."""
    directory = default_models_dir()
    if not (directory / INT8_FILE).is_file():
        from kbsuggest.embed.export import export_models

        export_models(directory)
    return directory


@pytest.fixture(scope="module")
def reference():
    from kbsuggest.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder().encode(TEXTS)


def cosines(a, b):
    return np.sum(a * b, axis=1)


def test_fp32_matches_sentence_transformers_batched_and_one_by_one(models_dir, reference):
    embedder = OnnxEmbedder(models_dir / FP32_FILE)
    assert cosines(embedder.encode(TEXTS), reference).min() >= 0.999
    one_by_one = np.vstack([embedder.encode_one(t) for t in TEXTS])
    assert cosines(one_by_one, reference).min() >= 0.999


def test_int8_stays_close_and_is_normalized(models_dir, reference):
    vectors = OnnxEmbedder(models_dir / INT8_FILE).encode(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosines(vectors, reference).min() >= 0.95


def test_int8_on_the_sample_kb(models_dir, tmp_path):
    settings = make_settings(tmp_path, embedder="onnx", model_path=models_dir / INT8_FILE, min_score=0.3)
    build_index(REPO / "articles", settings, OnnxEmbedder(settings.model_path))
    suggester = load_suggester(settings)
    assert suggester.manifest.model == "onnx/all-MiniLM-L6-v2-int8"
    assert suggester.manifest.model_file.startswith(f"{INT8_FILE} sha256:")
    assert suggester.suggest("I forgot my password")[0].article_id == "password-reset"
    assert suggester.suggest("sso login failing")[0].article_id == "sso-saml-login-failing"
    assert suggester.suggest("Passwort vergessen", locale="de")[0].article_id == "passwort-zuruecksetzen"


SERVE = """
import json, sys
from fastapi.testclient import TestClient
from kbsuggest.http.app import create_app
from kbsuggest.config import Settings
with TestClient(create_app(Settings(index_dir=sys.argv[1], model_path=sys.argv[2], db_path=sys.argv[3]))) as client:
    body = client.get("/v1/suggest", params={"q": "webhook signatures"}).json()
print(json.dumps({"top": body["suggestions"][0]["article_id"], "torch": "torch" in sys.modules,
                  "transformers": "transformers" in sys.modules, "sklearn": "sklearn" in sys.modules}))
"""


def test_serving_process_on_onnx_never_imports_torch(models_dir, tmp_path):
    settings = make_settings(tmp_path, embedder="onnx", model_path=models_dir / INT8_FILE)
    build_index(FIXTURE_KB, settings, OnnxEmbedder(settings.model_path))
    run = subprocess.run([sys.executable, "-c", SERVE, str(settings.index_dir), str(settings.model_path),
                          str(settings.db_path)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"top": "webhooks", "torch": False, "transformers": False,
                                                                "sklearn": False}
