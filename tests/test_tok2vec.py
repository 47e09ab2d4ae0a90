"""The optional tok2vec input: spaCy embedding layers work, listeners and encoders are guarded."""

import numpy
import pytest
import spacy

from spacy_cvt.model import torch_network

from .conftest import make_nlp, ner_examples

EMBED = {
    "@architectures": "spacy.MultiHashEmbed.v2",
    "width": 16,
    "attrs": ["NORM", "SHAPE"],
    "rows": [500, 50],
    "include_static_vectors": False,
}
ENCODER = {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 16, "window_size": 1, "maxout_pieces": 2, "depth": 2}


def nlp_with_tok2vec(tok2vec, unlabeled_path=None, upstream=False):
    nlp = make_nlp("cvt_ner", unlabeled_path, model={"tok2vec": tok2vec})
    if upstream:
        nlp.add_pipe("tok2vec", first=True, config={"model": {"@architectures": "spacy.Tok2Vec.v2", "embed": EMBED, "encode": ENCODER}})
    return nlp


LISTENER = {"@architectures": "spacy.Tok2VecListener.v1", "width": 16, "upstream": "*"}


def test_a_token_local_embedding_layer_trains_with_unlabeled_text(wnut_sentences, unlabeled_text_file, tmp_path):
    nlp = nlp_with_tok2vec(EMBED, unlabeled_text_file)
    examples = ner_examples(nlp, wnut_sentences[:32])
    optimizer = nlp.initialize(lambda: examples)
    ner = nlp.get_pipe("cvt_ner")
    assert torch_network(ner.model).embedding.output_width > 16
    embed_params = [node for node in ner.model.layers[0].walk() if node.has_param("E")]
    before = [node.get_param("E").copy() for node in embed_params]
    losses = nlp.update(examples, sgd=optimizer)
    assert losses["cvt_ner_unlabeled"] > 0
    assert any(not numpy.array_equal(b, node.get_param("E")) for b, node in zip(before, embed_params))
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    texts = ["Heading to Seattle with @bob", "Star Wars tonight"]
    assert [d.to_json()["ents"] for d in loaded.pipe(texts)] == [d.to_json()["ents"] for d in nlp.pipe(texts)]


def test_a_listener_with_an_unlabeled_corpus_is_a_clear_error(wnut_sentences, unlabeled_text_file):
    nlp = nlp_with_tok2vec(LISTENER, unlabeled_text_file, upstream=True)
    examples = ner_examples(nlp, wnut_sentences[:16])
    with pytest.raises(ValueError, match="shared listener.*cannot run on unlabeled batches"):
        nlp.initialize(lambda: examples)


def test_a_listener_without_unlabeled_text_trains_supervised(wnut_sentences):
    nlp = nlp_with_tok2vec(LISTENER, upstream=True)
    examples = ner_examples(nlp, wnut_sentences[:16])
    optimizer = nlp.initialize(lambda: examples)
    losses = nlp.update(examples, sgd=optimizer)
    assert losses["cvt_ner"] > 0 and losses["tok2vec"] >= 0
    nlp("Going to London")


def test_an_encoder_that_mixes_tokens_is_refused_with_unlabeled_text(wnut_sentences, unlabeled_text_file):
    encoder = {"@architectures": "spacy.Tok2Vec.v2", "embed": EMBED, "encode": ENCODER}
    nlp = nlp_with_tok2vec(encoder, unlabeled_text_file)
    examples = ner_examples(nlp, wnut_sentences[:16])
    with pytest.raises(ValueError, match="mixes information across tokens"):
        nlp.initialize(lambda: examples)


def test_a_window_one_depth_one_encoder_is_refused_with_unlabeled_text(wnut_sentences, unlabeled_text_file):
    """With window 1 and depth 1 the forward view at t sees token t + 1 only (the very token
    the future view at t predicts), not t + 2: the leak probe must change every later token."""
    encoder = {"@architectures": "spacy.Tok2Vec.v2", "embed": EMBED, "encode": {**ENCODER, "depth": 1}}
    nlp = nlp_with_tok2vec(encoder, unlabeled_text_file)
    examples = ner_examples(nlp, wnut_sentences[:16])
    with pytest.raises(ValueError, match="mixes information across tokens"):
        nlp.initialize(lambda: examples)
