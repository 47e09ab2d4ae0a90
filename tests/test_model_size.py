"""spacy_cvt_project/model_size.py: parameter counts that are known by construction, and exact sizes on disk.

A tiny BERT, built offline, checks that a spacy-transformers pipeline's torch weights are counted
once and that its encoder is named for the published-pretraining column.
"""

import json
import os
import subprocess
import sys

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vectors import Vectors
from thinc.api import Linear, PyTorchWrapper, chain

from .conftest import PROJECT_CLI, require_module

from spacy_cvt_project.model_size import component_models, count_params, count_vectors, directory_bytes, encoder

WORDS = ["the", "cat", "sat", "on", "the", "mat", "."]
TAGS = ["DT", "NN", "VBD", "IN", "DT", "NN", "."]
TINY_TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 100, "window_size": 1,
    "maxout_pieces": 2, "subword_features": False, "pretrained_vectors": None,
}


def trained(nlp):
    docs = [Doc(nlp.vocab, words=WORDS, tags=TAGS) for _ in range(4)]
    nlp.initialize(lambda: [Example(Doc(nlp.vocab, words=WORDS), doc) for doc in docs])
    return nlp


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    nlp = spacy.blank("en")
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": TINY_TOK2VEC}})
    path = tmp_path_factory.mktemp("tagger") / "pipeline"
    trained(nlp).to_disk(path)
    return path


def test_tagger_params_by_hand(tagger_dir):
    width, rows, n_tags = 16, 100, len(set(TAGS))
    embed = rows * width  # one HashEmbed (NORM), no bias
    reduce_maxout = width * 3 * width + width * 3 + 2 * width  # Maxout with 3 pieces, then LayerNorm
    window_maxout = width * 2 * (3 * width) + width * 2 + 2 * width  # window 1: 3 * width inputs
    softmax = n_tags * width + n_tags
    nlp = spacy.load(tagger_dir)
    assert count_params(component_models(nlp)) == embed + reduce_maxout + window_maxout + softmax


def test_thinc_and_torch_weights_count_once():
    shared = Linear(4, 3)
    shared.initialize()
    assert count_params([shared, chain(shared, shared)]) == 4 * 3 + 4
    linear = torch.nn.Linear(5, 3)
    # one torch module behind two wrappers (two nodes, two shims), and tied weights inside torch
    assert count_params([chain(PyTorchWrapper(linear), PyTorchWrapper(linear))]) == 5 * 3 + 3
    tied = torch.nn.Sequential(torch.nn.Linear(4, 4, bias=False), torch.nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert count_params([PyTorchWrapper(tied)]) == 16
    assert count_params([Linear()]) == 0  # declared, never allocated


def test_vectors_are_counted_apart():
    nlp = spacy.blank("en")
    assert count_vectors(nlp) == 0
    nlp.vocab.vectors = Vectors(data=numpy.zeros((10, 5), dtype="f"), keys=list(range(10)))
    assert count_vectors(nlp) == 50
    assert count_params(component_models(nlp)) == 0


def test_directory_bytes_exact(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "b").write_bytes(b"y" * 1234)
    (tmp_path / "sub" / "deeper" / "c").write_bytes(b"z" * 7)
    os.symlink(tmp_path / "sub" / "b", tmp_path / "link")  # not counted twice
    assert directory_bytes(tmp_path) == 10 + 1234 + 7


def test_transformer_weights_once_and_encoder_named(tmp_path):
    require_module("spacy_transformers", "pip install -e .[transformers]")
    from transformers import BertConfig, BertModel, BertTokenizerFast

    bert = tmp_path / "tinybert"
    bert.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(WORDS))]
    (bert / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(bert / "vocab.txt")).save_pretrained(bert)
    hf_model = BertModel(BertConfig(vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                    intermediate_size=16, max_position_embeddings=64))
    hf_model.save_pretrained(bert)
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy-transformers.TransformerModel.v3", "name": str(bert),
        "tokenizer_config": {"use_fast": True},
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 32, "stride": 24},
    }})
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": {
        "@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
        "pooling": {"@layers": "reduce_mean.v1"}}}})
    trained(nlp).to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    n_tags = len(set(TAGS))
    hf_params = sum(p.numel() for p in hf_model.parameters())
    assert count_params(component_models(loaded)) == hf_params + n_tags * 8 + n_tags  # the listener has no weights
    assert encoder(loaded) == {"model_type": "bert", "num_hidden_layers": 1, "hidden_size": 8}


@pytest.mark.slow
def test_cli_writes_the_json_and_names_a_missing_pipeline(tagger_dir, tmp_path):
    script = [*PROJECT_CLI, "model-size"]
    out = tmp_path / "m" / "size.json"
    result = subprocess.run([sys.executable, *script, str(tagger_dir), "--output", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    size = json.loads(out.read_text())
    assert size["params"] == count_params(component_models(spacy.load(tagger_dir))) > 0
    assert size["disk_bytes"] == sum(p.stat().st_size for p in tagger_dir.rglob("*") if p.is_file())
    assert size["vectors"] == 0 and size["encoder"] is None
    missing = subprocess.run([sys.executable, *script, str(tmp_path / "nope"), "--output", str(tmp_path / "o.json")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "nope" in missing.stderr and "train it first" in missing.stderr
    assert not (tmp_path / "o.json").exists()
