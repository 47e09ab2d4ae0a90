"""``outside_weight``: the probability of O is multiplied by it before decoding, trading the span
taggers' precision for recall; spaCy's `find-threshold` chooses it and a loaded config sets it."""

import subprocess
import sys

import numpy
import pytest
import spacy
from spacy.cli.find_threshold import find_threshold
from spacy.tokens import DocBin, Span

from .conftest import REPO, make_nlp, ner_examples, run_python

WORDS = ["Ada", "met", "Bob", "in", " ", "Paris"]


@pytest.fixture(scope="module")
def trained(wnut_sentences):
    """cvt_ner after 10 supervised passes over 100 WNUT-17 sentences."""
    nlp = make_nlp(unlabeled_steps=0)
    examples = ner_examples(nlp, wnut_sentences[:100])
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):
        for start in range(0, len(examples), 16):
            nlp.update(examples[start : start + 16], sgd=optimizer)
    return nlp


def person_or_outside(component, n_tokens: int) -> numpy.ndarray:
    """Log probabilities under which each token is O (0.6) or U-person (0.3)."""
    log_probs = numpy.full((n_tokens, len(component.tag_names)), numpy.log(0.1 / (len(component.tag_names) - 2)))
    log_probs[:, 0] = numpy.log(0.6)
    log_probs[:, component.tag_names.index("U-person")] = numpy.log(0.3)
    return log_probs


def decoded(component, doc, weight: float):
    component.outside_weight = weight
    try:
        return [component.tag_names[i] for i in component.decode(doc, person_or_outside(component, len(doc)))]
    finally:
        component.outside_weight = 1.0


def test_the_weight_scales_o_against_the_spans_except_where_a_token_must_be_outside(trained):
    component = trained.get_pipe("cvt_ner")
    doc = spacy.tokens.Doc(trained.vocab, words=WORDS, spaces=[True, True, True, False, False, False])
    assert decoded(component, doc, 1.0) == ["O"] * 6  # 0.6 > 0.3
    assert decoded(component, doc, 0.6) == ["O"] * 6  # 0.36 > 0.3
    assert decoded(component, doc, 0.4) == ["U-person"] * 4 + ["O", "U-person"]  # 0.24 < 0.3; whitespace stays O
    doc.ents = [Span(doc, 0, 1, label="PERSON")]
    assert decoded(component, doc, 0.0) == ["O", "U-person", "U-person", "U-person", "O", "U-person"]


def test_lower_weights_put_no_fewer_tokens_in_entities_on_real_text(trained, wnut_sentences):
    component = trained.get_pipe("cvt_ner")
    texts = [" ".join(columns[0] for columns in sentence) for sentence in wnut_sentences[300:400]]
    inside = []
    for weight in (1.0, 0.5, 0.1, 0.0):
        component.outside_weight = weight
        inside.append(sum(len(ent) for doc in trained.pipe(texts) for ent in doc.ents))
    component.outside_weight = 1.0
    assert inside == sorted(inside) and inside[0] < inside[-1]
    assert inside[-1] == sum(not token.is_space for doc in trained.pipe(texts) for token in doc)


def test_find_threshold_sweeps_it_and_a_loaded_config_sets_it(trained, wnut_sentences, tmp_path):
    trained.to_disk(tmp_path / "model")
    assert spacy.load(tmp_path / "model").get_pipe("cvt_ner").outside_weight == 1.0
    loaded = spacy.load(tmp_path / "model", config={"components": {"cvt_ner": {"outside_weight": 0.25}}})
    assert loaded.get_pipe("cvt_ner").outside_weight == 0.25
    DocBin(docs=[eg.reference for eg in ner_examples(trained, wnut_sentences[300:400])]).to_disk(tmp_path / "dev.spacy")
    best, score, scores = find_threshold(str(tmp_path / "model"), tmp_path / "dev.spacy", "cvt_ner", "outside_weight",
                                         "ents_f", n_trials=3, gold_preproc=True)
    assert sorted(scores) == [0.0, 0.5, 1.0] and len(set(scores.values())) > 1  # each trial decoded with its weight
    assert score == scores[best] == max(scores.values())


@pytest.mark.parametrize("factory", ["cvt_ner", "cvt_chunker"])
def test_a_negative_weight_names_the_key(factory):
    with pytest.raises(ValueError, match=rf"\[components.{factory}\] outside_weight must be >= 0 \(got -0.5\)"):
        make_nlp(factory, outside_weight=-0.5)


def test_the_tuning_script_writes_the_dev_best_into_the_config(trained, wnut_sentences, tmp_path):
    trained.to_disk(tmp_path / "model")
    DocBin(docs=[eg.reference for eg in ner_examples(trained, wnut_sentences[300:400])]).to_disk(tmp_path / "dev.spacy")
    result = run_python([str(REPO / "scripts" / "tune_outside_weight.py"), str(tmp_path / "model"),
                         str(tmp_path / "dev.spacy"), "--trials", "3"])
    best, score, scores = find_threshold(str(tmp_path / "model"), tmp_path / "dev.spacy", "cvt_ner", "outside_weight",
                                         "ents_f", n_trials=3, gold_preproc=True)
    assert f"[components.cvt_ner] outside_weight = {best:.3g} (ents_f {score:.4f}" in result.stdout
    assert spacy.load(tmp_path / "model").get_pipe("cvt_ner").outside_weight == best
    bad = subprocess.run([sys.executable, str(REPO / "scripts" / "tune_outside_weight.py"), str(tmp_path / "model"),
                          str(tmp_path / "dev.spacy"), "--component", "ner"], capture_output=True, text=True)
    message = "".join(bad.stderr.replace("│", "").split())
    assert bad.returncode == 2 and "'ner'isnocvt_nerorcvt_chunkerofthispipeline" in message
