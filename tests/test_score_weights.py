"""cvt_tagger's default [training.score_weights] follow its attr: spacy train selects
checkpoints by the accuracy the component reports, at its full value."""

import pytest
import spacy
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import Config

from .conftest import TINY_MODEL, make_nlp


def tagger_config(attr: str, score_weights: str = "") -> Config:
    """A user's own config for a blank pipeline with one cvt_tagger."""
    model = "\n".join(f"{key} = {value!r}".replace("'", '"') for key, value in TINY_MODEL.items())
    return Config().from_str(
        f"""
[nlp]
lang = "en"
pipeline = ["cvt_tagger"]

[components]

[components.cvt_tagger]
factory = "cvt_tagger"
attr = "{attr}"
unlabeled_steps = 0

[components.cvt_tagger.model]
{model}

[training]

[training.score_weights]
{score_weights}
"""
    )


def tagged_examples(nlp, attr: str):
    words = ["The", "cat", "sat"]
    tags = {"tag": ["DT", "NN", "VBD"], "pos": ["DET", "NOUN", "VERB"]}[attr]
    reference = Doc(nlp.vocab, words=words, **{{"tag": "tags", "pos": "pos"}[attr]: tags})
    return [Example(Doc(nlp.vocab, words=words), reference)]


def test_a_tag_tagger_weights_tag_accuracy_only():
    """Before: {tag_acc: 0.5, pos_acc: 0.5}, so spacy train's score was half the accuracy and
    meta.json recorded a pos_acc of 0.0 the pipeline never computes."""
    assert make_nlp("cvt_tagger").config["training"]["score_weights"] == {"tag_acc": 1.0}
    nlp = load_model_from_config(tagger_config("tag"), auto_fill=True)
    assert nlp.config["training"]["score_weights"] == {"tag_acc": 1.0}


def test_a_pos_tagger_built_in_code_weights_pos_accuracy():
    weights = make_nlp("cvt_tagger", attr="pos").config["training"]["score_weights"]
    assert weights == {"pos_acc": 1.0, "tag_acc": None}


def test_a_pos_tagger_whose_config_does_not_weight_pos_accuracy_is_a_clear_error():
    """spaCy fills a config's weights from one static default per factory, which cannot
    know attr; a config that never names pos_acc would score 0 at every evaluation."""
    nlp = load_model_from_config(tagger_config("pos"), auto_fill=True)
    with pytest.raises(ValueError, match=r"(?s)attr = \"pos\".*\[training.score_weights\].*pos_acc = 1.0"):
        nlp.initialize(lambda: tagged_examples(nlp, "pos"))
    nlp = load_model_from_config(tagger_config("pos", "pos_acc = 1.0\ntag_acc = null"), auto_fill=True)
    nlp.initialize(lambda: tagged_examples(nlp, "pos"))
    assert nlp.config["training"]["score_weights"] == {"pos_acc": 1.0, "tag_acc": None}


def test_the_projects_tagger_config_keeps_its_explicit_weights():
    config = spacy.util.load_config("configs/cvt_tagger.cfg")
    assert dict(config["training"]["score_weights"]) == {"tag_acc": 1.0, "pos_acc": None}


def test_a_tagger_reads_unlabeled_text_from_its_initialize_settings(unlabeled_text_file):
    """[initialize.components.cvt_tagger] takes the same settings as every CVT component's: spaCy
    validates them against initialize's signature, so the tagger's check of its score weights
    may not hide them (a `**kwargs` signature refused `unlabeled_corpus`)."""
    nlp = make_nlp("cvt_tagger", unlabeled_text_file)
    doc = Doc(nlp.vocab, words=["Alice", "runs"], tags=["NNP", "VBZ"])
    nlp.initialize(lambda: [Example(nlp.make_doc(doc.text), doc)])
    assert nlp.get_pipe("cvt_tagger").labels == ("NNP", "VBZ")
