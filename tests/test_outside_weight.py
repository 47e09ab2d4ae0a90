"""``outside_weight``: the probability of O is multiplied by it before decoding, trading the span
taggers' precision for recall; spaCy's `find-threshold` chooses it, `python -m spacy
cvt-tune-decoding` (spacy_cvt.cli.tune) keeps it, and a loaded config sets it."""

import numpy
import pytest
import spacy
import srsly
from spacy.cli.find_threshold import find_threshold
from spacy.tokens import Doc, DocBin, Span

from spacy_cvt.cli import tune
from spacy_cvt.pipeline.component_settings import CVTSettings

from .conftest import make_nlp, ner_examples, spacy_command

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


@pytest.fixture(scope="module")
def dev_path(trained, wnut_sentences, tmp_path_factory):
    """Held-out WNUT-17 sentences whose gold entities are the model's own at outside_weight 0 (every
    token in one): a sweep scores F = 1 there and lower at 1, whatever the little model has learnt."""
    texts = [Doc(trained.vocab, words=[columns[0] for columns in sentence]) for sentence in wnut_sentences[300:400]]
    component = trained.get_pipe("cvt_ner")
    component.outside_weight = 0.0
    try:
        docs = list(component.pipe(texts))
    finally:
        component.outside_weight = 1.0
    path = tmp_path_factory.mktemp("dev") / "dev.spacy"
    DocBin(docs=docs).to_disk(path)
    return path


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


def test_find_threshold_sweeps_it_and_a_loaded_config_sets_it(trained, dev_path, tmp_path):
    trained.to_disk(tmp_path / "model")
    assert spacy.load(tmp_path / "model").get_pipe("cvt_ner").outside_weight == 1.0
    loaded = spacy.load(tmp_path / "model", config={"components": {"cvt_ner": {"outside_weight": 0.25}}})
    assert loaded.get_pipe("cvt_ner").outside_weight == 0.25
    best, score, scores = find_threshold(str(tmp_path / "model"), dev_path, "cvt_ner", "outside_weight", "ents_f",
                                         n_trials=11, gold_preproc=True)
    assert numpy.allclose(sorted(scores), numpy.linspace(0, 1, 11))
    assert score == scores[best] == 1.0 and best < 1.0 and scores[1.0] < 1.0  # each trial decoded with its weight


@pytest.mark.parametrize("factory", ["cvt_ner", "cvt_chunker"])
def test_a_negative_or_infinite_weight_names_the_key(factory):
    with pytest.raises(ValueError, match=rf"\[components.{factory}\] outside_weight must be a finite number >= 0 \(got -0.5\)"):
        make_nlp(factory, outside_weight=-0.5)
    component = make_nlp(factory).get_pipe(factory)  # JSON configs hold no inf or nan; Python callers can
    for weight in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match=rf"outside_weight must be a finite number >= 0 \(got {weight}\)"):
            type(component)(component.vocab, component.model, factory, settings=CVTSettings(), scorer=None,
                            outside_weight=weight)


def test_of_equal_scores_the_weight_nearest_1_wins():
    assert tune.best_weight({0.0: 0.5, 0.5: 0.5, 1.0: 0.4}) == 0.5
    assert tune.best_weight({0.0: 0.3, 0.5: 0.3, 1.0: 0.3}) == 1.0
    assert tune.best_weight({0.0: 0.6, 0.5: 0.3, 1.0: 0.4}) == 0.0


def config_lines(path):
    return [line for line in (path / "config.cfg").read_text().splitlines() if not line.startswith("outside_weight")]


@pytest.mark.slow
def test_the_tuning_command_writes_the_dev_best_into_a_copy_or_in_place(trained, dev_path, tmp_path):
    trained.to_disk(tmp_path / "model")
    original = (tmp_path / "model" / "config.cfg").read_text()
    _, _, scores = find_threshold(str(tmp_path / "model"), dev_path, "cvt_ner", "outside_weight", "ents_f",
                                  n_trials=11, gold_preproc=True)
    best = tune.best_weight(scores)  # of ties, the nearest 1 (find_threshold takes the first)
    score = scores[best]
    assert best < 1.0  # an untuned model-best would pass the checks below
    command = ["cvt-tune-decoding", tmp_path / "model", dev_path, "--trials", "11"]
    printed = spacy_command([*command, "--output", tmp_path / "tuned"])
    assert f"[components.cvt_ner] outside_weight = {best:.3g} (ents_f {score:.4f}" in printed
    assert (tmp_path / "model" / "config.cfg").read_text() == original  # --output leaves MODEL alone
    assert "performance" not in srsly.read_json(tmp_path / "model" / "meta.json")
    assert srsly.read_json(tmp_path / "tuned" / "meta.json")["performance"]["ents_f"] == pytest.approx(score)
    assert config_lines(tmp_path / "tuned") == config_lines(tmp_path / "model")  # only the weight changed
    assert spacy.load(tmp_path / "tuned").get_pipe("cvt_ner").outside_weight == best
    spacy_command(command)
    assert spacy.load(tmp_path / "model").get_pipe("cvt_ner").outside_weight == best
    foreign = [Doc(trained.vocab, words=words, ents=["B-ZZZ"] * len(words)) for words in (["Ada", "met"], ["Paris"])]
    DocBin(docs=foreign).to_disk(tmp_path / "foreign.spacy")  # a label the model lacks: every weight scores F = 0
    same = tune.tune_decoding(tmp_path / "model", tmp_path / "foreign.spacy", trials=11)  # the function the command calls
    assert same.best is None and set(same.scores.values()) == {0.0} and same.score == "ents_f"
    printed = spacy_command([*command[:2], tmp_path / "foreign.spacy", "--trials", "11"])
    assert "outside_weight left as it was: every weight scored ents_f = 0.0000" in printed
    assert spacy.load(tmp_path / "model").get_pipe("cvt_ner").outside_weight == best
    assert srsly.read_json(tmp_path / "model" / "meta.json")["performance"]["ents_f"] == pytest.approx(score)
    assert "'ner'isnocvt_nerorcvt_chunkerofthispipeline" in spacy_command([*command, "--component", "ner"], exit_code=2)
