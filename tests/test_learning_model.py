"""One small real fine-tune (a few steps, CPU): the adapted int8 file differs from the shipped one, and the
ONNX export still agrees with the fine-tuned PyTorch model."""

import hashlib

import pytest

from kbsuggest.embed.models import INT8_FILE, TOKENIZER_FILE, default_onnx_model
from learning.pairs import Pair
from learning.train import TrainConfig, fine_tune

pytestmark = pytest.mark.model

TEXTS = {"password-reset": ["Reset your password", "Reset your password / Request a link\nClick Forgot password."],
         "sso-login": ["Troubleshoot SSO login failures", "Troubleshoot SSO login failures\nCheck the SAML certificate."],
         "webhooks": ["Configure webhooks", "Configure webhooks / Endpoints\nAdd an endpoint URL."],
         "invoices": ["Download your invoices", "Download your invoices\nBilling > Invoices > Download PDF."]}
QUERIES = {"password-reset": ["forgot my password", "cant log in password", "reset pass"],
           "sso-login": ["sso broken", "saml login error", "single sign on fails"],
           "webhooks": ["webhook not firing", "add webhook url", "webhook setup"],
           "invoices": ["where is my invoice", "download invoice pdf", "billing receipt"]}


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_few_steps_change_the_model_and_keep_the_onnx_torch_agreement(tmp_path):
    pairs = [Pair(q, article, f"ticket:{article}-{i}", "title", "2026-10-01T00:00:00", negatives=(other,))
             for (article, queries), other in zip(QUERIES.items(), ["invoices", "webhooks", "sso-login", "password-reset"])
             for i, q in enumerate(queries)]
    result = fine_tune(pairs, TEXTS, TrainConfig(batch_size=2, max_steps=3, learning_rate=1e-4), tmp_path,
                       say=lambda _: None, check_texts=["forgot my password"])
    assert result.steps == 3 and result.examples == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == [INT8_FILE, TOKENIZER_FILE]  # no fp32, no torch weights left
    assert digest(tmp_path / INT8_FILE) != digest(default_onnx_model())
    fp32, int8 = result.agreement["all-MiniLM-L6-v2.onnx"], result.agreement[INT8_FILE]
    assert fp32 >= 0.999 and int8 >= 0.95  # the thresholds of the base model's export check (README "Performance")
