"""The components: what each step updates, learning on real data, spaCy's update API."""

import random

import numpy
import pytest
import spacy
import torch

from spacy_cvt.pipeline.unlabeled_optimizer import STATE_SUFFIX

from .conftest import AUX, PRIMARY, changed, live_tensors, make_nlp, ner_examples, pos_examples, weights


@pytest.fixture
def trained_ner(wnut_sentences, raw_text_file):
    nlp = make_nlp("cvt_ner", raw_text_file)
    examples = ner_examples(nlp, wnut_sentences[:64])
    optimizer = nlp.initialize(lambda: examples)
    return nlp, nlp.get_pipe("cvt_ner"), examples, optimizer


@pytest.mark.parametrize("include_full", [False, True])
def test_unlabeled_step_trains_encoder_and_auxiliary_views_but_not_primary(wnut_sentences, raw_text_file, include_full):
    nlp = make_nlp("cvt_ner", raw_text_file, model={"include_full": include_full})
    ner = nlp.get_pipe("cvt_ner")
    optimizer = nlp.initialize(lambda: ner_examples(nlp, wnut_sentences[:64]))
    before = weights(ner)
    losses = ner.unlabeled_step(optimizer, [nlp.make_doc("Emma Woodhouse lived in Highbury with her father.")])
    after = weights(ner)
    assert set(losses) == {"cvt_ner_unlabeled"} and losses["cvt_ner_unlabeled"] > 0
    assert not changed(before, after, PRIMARY)
    for prefix in ["embedding", "encoder.layer1", *AUX]:
        assert changed(before, after, prefix), prefix
    # the full view reads layer 2: only with it does a CVT step train layer 2
    assert changed(before, after, "encoder.layer2") == include_full
    if include_full:
        assert changed(before, after, "prediction_modules.modules_by_view.full_module")


class RecordingOptimizer:
    """Wraps a thinc optimizer and records the keys and learning-rate scales it is called with."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.calls = []

    def __call__(self, key, weights, gradient, *, lr_scale=1.0):
        self.calls.append((key, lr_scale))
        return self.optimizer(key, weights, gradient, lr_scale=lr_scale)


def test_unlabeled_steps_keep_their_own_optimizer_state_and_ramp_up(trained_ner):
    nlp, ner, examples, optimizer = trained_ner
    ner.cfg["unlabeled_warmup_steps"] = 4
    recorder = RecordingOptimizer(optimizer)
    scales = []
    unlabeled_keys = set()
    for _ in range(6):
        recorder.calls.clear()
        ner.unlabeled_step(recorder, [nlp.make_doc("Mr. Knightley walked to Hartfield.")])
        unlabeled_keys.update(key for key, _ in recorder.calls)
        (scale,) = {scale for _, scale in recorder.calls}  # one rate for the whole step
        scales.append(scale)
    assert 0 < scales[0] < scales[1] < scales[2] < scales[3] == scales[4] == scales[5] == 1.0
    recorder.calls.clear()
    nlp.update(examples[:4], sgd=recorder)  # the labeled step, then one unlabeled step
    labeled = [(key, scale) for key, scale in recorder.calls if key not in unlabeled_keys]
    assert labeled and all(scale == 1.0 for _, scale in labeled)
    # the optimizer keeps its Adam state per key: separate keys are separate state
    assert not {key for key, _ in labeled} & unlabeled_keys


def test_learn_rate_scale_multiplies_the_rate_of_both_kinds_of_step(wnut_sentences, raw_text_file):
    nlp = make_nlp("cvt_ner", raw_text_file, learn_rate_scale=40.0, unlabeled_warmup_steps=4)
    examples = ner_examples(nlp, wnut_sentences[:64])
    recorder = RecordingOptimizer(nlp.initialize(lambda: examples))
    nlp.update(examples[:4], sgd=recorder)  # the labeled step, then one unlabeled step (ramp 1/4)
    scales = {}
    for (_, name), scale in recorder.calls:
        scales.setdefault(name.endswith(STATE_SUFFIX), set()).add(scale)
    assert scales == {False: {40.0}, True: {10.0}}
    with pytest.raises(ValueError, match=r"learn_rate_scale must be > 0 \(got 0.0\)"):
        make_nlp(learn_rate_scale=0.0)


def test_warmup_scale():
    from spacy_cvt.pipeline.unlabeled_optimizer import warmup_scale

    assert [warmup_scale(step, 4) for step in (1, 2, 4, 9)] == [0.25, 0.5, 1.0, 1.0]
    assert warmup_scale(1, 0) == 1.0


def test_labeled_step_trains_primary_and_encoder_but_not_auxiliary_views(trained_ner):
    nlp, ner, examples, optimizer = trained_ner
    ner.cfg["unlabeled_steps"] = 0
    before = weights(ner)
    nlp.update(examples[:16], sgd=optimizer)
    after = weights(ner)
    for prefix in [PRIMARY, "encoder.layer1", "encoder.layer2", "embedding"]:
        assert changed(before, after, prefix), prefix
    for prefix in AUX:
        assert not changed(before, after, prefix), prefix


def test_nlp_update_in_a_users_loop_runs_the_unlabeled_steps(trained_ner):
    nlp, ner, examples, optimizer = trained_ner
    before = weights(ner)
    losses = nlp.update(examples[:8], sgd=optimizer)
    assert losses["cvt_ner"] > 0 and losses["cvt_ner_unlabeled"] > 0
    assert changed(before, weights(ner), AUX[0])
    ner.cfg["unlabeled_steps"] = 3
    losses = {}
    nlp.update(examples[:8], sgd=optimizer, losses=losses)
    nlp.update(examples[8:16], sgd=optimizer, losses=losses)
    assert set(losses) == {"cvt_ner", "cvt_ner_unlabeled"}


def test_training_steps_leave_no_tensors_behind(trained_ner):
    """thinc's PyTorchShim chains one tensor per parameter to the next at every step, which
    grew training memory without end; the CVT shim updates the parameters in place."""
    nlp, ner, examples, optimizer = trained_ner
    nlp.update(examples[:8], sgd=optimizer)  # the first step creates the gradients
    before = live_tensors()
    for start in range(8, 64, 8):  # 7 labeled + 7 CVT steps
        nlp.update(examples[start : start + 8], sgd=optimizer)
    assert live_tensors() == before


def test_without_an_unlabeled_corpus_it_is_the_supervised_baseline(wnut_sentences, caplog):
    nlp = make_nlp("cvt_ner")
    examples = ner_examples(nlp, wnut_sentences[:32])
    optimizer = nlp.initialize(lambda: examples)
    assert "labeled data only" in caplog.text
    ner = nlp.get_pipe("cvt_ner")
    before = weights(ner)
    losses = nlp.update(examples, sgd=optimizer)
    assert set(losses) == {"cvt_ner"}
    assert not changed(before, weights(ner), AUX[0])


def test_averaged_weights_are_used_inside_use_params(wnut_sentences):
    nlp = make_nlp("cvt_ner")
    nlp.config["training"]["optimizer"]["use_averages"] = True
    examples = ner_examples(nlp, wnut_sentences[:32])
    optimizer = nlp.initialize(lambda: examples)
    ner = nlp.get_pipe("cvt_ner")
    for _ in range(3):
        nlp.update(examples[:16], sgd=optimizer)
    current = weights(ner)
    with nlp.use_params(optimizer.averages):
        averaged = weights(ner)
    assert changed(current, averaged, PRIMARY)
    assert not changed(current, weights(ner), PRIMARY)  # restored afterwards


@pytest.mark.slow
def test_cvt_tagger_learns_on_real_data_and_beats_the_majority_baseline(conll2000_train, conll2000_test, raw_text_file):
    """500 CoNLL-2000 sentences (WSJ POS tags) + raw text; held-out test sentences."""
    random.seed(0)
    torch.manual_seed(0)
    nlp = make_nlp("cvt_tagger", raw_text_file)
    train = pos_examples(nlp, conll2000_train[:500])
    held_out = pos_examples(nlp, conll2000_test[:200])
    optimizer = nlp.initialize(lambda: train)
    optimizer.learn_rate = 0.005
    epoch_losses = []
    for _ in range(3):
        random.shuffle(train)
        losses = {}
        for batch in spacy.util.minibatch(train, 16):
            nlp.update(batch, sgd=optimizer, losses=losses, drop=0.1)
        epoch_losses.append(losses)
    assert epoch_losses[-1]["cvt_tagger"] < epoch_losses[0]["cvt_tagger"]
    assert epoch_losses[-1]["cvt_tagger_unlabeled"] < epoch_losses[0]["cvt_tagger_unlabeled"]
    gold = [token.tag_ for eg in held_out for token in eg.reference]
    majority = max(set(gold), key=gold.count)
    baseline = numpy.mean([tag == majority for tag in gold])
    accuracy = nlp.evaluate(held_out)["tag_acc"]
    assert accuracy > baseline + 0.3, (accuracy, baseline)


def test_spacys_jsonl_corpus_works_as_the_unlabeled_corpus(wnut_sentences, tmp_path):
    raw = tmp_path / "raw.jsonl"
    raw.write_text('{"text": "Emma was handsome, clever and rich."}\n{"text": "Mr. Woodhouse was fond of every body."}\n')
    nlp = make_nlp("cvt_ner")
    nlp.config["corpora"] = {"unlabeled": {"@readers": "spacy.JsonlCorpus.v1", "path": str(raw)}}
    nlp.config["initialize"]["components"]["cvt_ner"] = {"unlabeled_corpus": "corpora.unlabeled"}
    examples = ner_examples(nlp, wnut_sentences[:16])
    optimizer = nlp.initialize(lambda: examples)
    losses = nlp.update(examples, sgd=optimizer)
    assert losses["cvt_ner_unlabeled"] > 0
