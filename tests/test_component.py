"""The components: what each step updates, learning on real data, spaCy's update API."""

import random

import numpy
import pytest
import spacy
import torch

from spacy_cvt.pipeline.unlabeled_optimizer import STATE_SUFFIX

from .conftest import AUX, PRIMARY, UNLABELED_SHUFFLE_WINDOW, changed, live_tensors, make_nlp, ner_examples, pos_examples, weights


# test_cvt_steps_teach_every_auxiliary_view_to_agree_with_the_primary's sizes and bounds
AGREEMENT_TRAIN, AGREEMENT_PHASE_UPDATES = 320, 30  # labeled sentences; labeled updates of 16, in each phase
AGREEMENT_BATCH, AGREEMENT_HELD_OUT = 32, 200  # unlabeled sentences per CVT step; held-out unlabeled sentences
# measured (seed 0): argmax agreement rose by 0.29 (past) to 0.65 (backward), mean KL fell to 0.75 of
# its value; with the CVT gradient cut to zero, agreement rose by at most 0.05 and mean KL grew 1.5-fold
AGREEMENT_KL_RATIO, AGREEMENT_GAIN = 0.85, 0.15


@pytest.fixture
def trained_ner(wnut_sentences, unlabeled_text_file):
    nlp = make_nlp("cvt_ner", unlabeled_text_file)
    examples = ner_examples(nlp, wnut_sentences[:64])
    optimizer = nlp.initialize(lambda: examples)
    return nlp, nlp.get_pipe("cvt_ner"), examples, optimizer


@pytest.mark.parametrize("include_full", [False, True])
def test_unlabeled_step_trains_encoder_and_auxiliary_views_but_not_primary(wnut_sentences, unlabeled_text_file, include_full):
    nlp = make_nlp("cvt_ner", unlabeled_text_file, model={"include_full": include_full})
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


def test_learn_rate_scale_multiplies_the_rate_of_both_kinds_of_step(wnut_sentences, unlabeled_text_file):
    nlp = make_nlp("cvt_ner", unlabeled_text_file, learn_rate_scale=40.0, unlabeled_warmup_steps=4)
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


def agreement(component, docs) -> dict:
    """Per auxiliary view, on ``docs`` without dropout: the share of tokens whose argmax is the
    primary view's (the label the view must predict: t+1's for future, t-1's for past) and the
    mean KL(primary || view), the quantity a CVT step lowers."""
    from spacy_cvt.model.tagger import auxiliary_views, forward
    from spacy_cvt.model.views import PRIMARY as PRIMARY_VIEW
    from spacy_cvt.pipeline.losses import softmax, view_targets

    ops = component.model.ops
    views = auxiliary_views(component.model)
    scores, _ = forward(component.model, docs, False, views=(PRIMARY_VIEW, *views))
    teacher = ops.to_numpy(softmax(ops, scores[PRIMARY_VIEW]))
    result = {}
    for view in views:
        targets, mask = view_targets(ops, view, teacher, [len(doc) for doc in docs])
        rows = mask[:, 0] > 0
        student = ops.to_numpy(softmax(ops, scores[view]))[rows]
        targets = targets[rows]
        same = float(numpy.mean(student.argmax(axis=1) == targets.argmax(axis=1)))
        kl = float(numpy.mean((targets * (numpy.log(targets + 1e-12) - numpy.log(student + 1e-12))).sum(axis=1)))
        result[view] = (same, kl)
    return result


def test_cvt_steps_teach_every_auxiliary_view_to_agree_with_the_primary(conll2000_train, unlabeled_text_file):
    """The claim CVT rests on, checked where the unlabeled loss cannot stand in for it (it also
    falls when only the primary view sharpens): once the primary view has learned from labels,
    training on with CVT steps on unlabeled text brings each auxiliary view's predictions closer to the
    primary's on held-out unlabeled sentences (labeled steps alone leave the auxiliary modules as they
    are). With the CVT loss's gradient cut to zero, it fails: the views stay as far as before."""
    random.seed(0)
    torch.manual_seed(0)
    nlp = make_nlp("cvt_tagger", unlabeled_text_file, unlabeled_warmup_steps=0, unlabeled_batch_size=AGREEMENT_BATCH)
    tagger = nlp.get_pipe("cvt_tagger")
    train = pos_examples(nlp, conll2000_train[:AGREEMENT_TRAIN])
    optimizer = nlp.initialize(lambda: train)
    tagger.cfg["unlabeled_steps"] = 0
    optimizer.learn_rate = 0.005
    lines = unlabeled_text_file.read_text(encoding="utf-8").splitlines()
    # the unlabeled corpus is read from its start: these last lines are not reached in the steps below
    assert AGREEMENT_PHASE_UPDATES * AGREEMENT_BATCH + 2 * UNLABELED_SHUFFLE_WINDOW < len(lines) - AGREEMENT_HELD_OUT
    held_out = [nlp.make_doc(line) for line in lines[-AGREEMENT_HELD_OUT:]]

    def train_on(updates: int) -> None:
        for step in range(updates):
            if step % (len(train) // 16) == 0:
                random.shuffle(train)
            start = step % (len(train) // 16) * 16
            nlp.update(train[start : start + 16], sgd=optimizer)

    train_on(AGREEMENT_PHASE_UPDATES)  # labeled steps only: the primary view learns the tags
    before = agreement(tagger, held_out)
    tagger.cfg["unlabeled_steps"] = 1
    train_on(AGREEMENT_PHASE_UPDATES)  # as many labeled steps, each followed by a CVT step
    after = agreement(tagger, held_out)
    assert tagger.cfg["unlabeled_docs_seen"] == AGREEMENT_PHASE_UPDATES * AGREEMENT_BATCH
    # the primary view still tells tags apart: agreeing with it is more than copying its commonest tag
    primary = primary_tags(tagger, held_out)
    commonest = numpy.bincount(primary).max() / len(primary)
    assert commonest < 0.5 and len(set(primary.tolist())) >= 8, (commonest, numpy.bincount(primary))
    assert set(after) == {"forward", "backward", "future", "past"}
    for view in after:  # each view picks the primary's tag more often
        assert after[view][0] > before[view][0] + AGREEMENT_GAIN, (view, before, after)
    # forward and backward see the token itself: they agree more often than copying the commonest tag would
    assert min(after["forward"][0], after["backward"][0]) > commonest, (commonest, after)
    # and the views' distributions come closer to the primary's (future and past, which only see
    # one side of the next or previous token, much less than forward and backward)
    mean_kl = {name: numpy.mean([kl for _, kl in result.values()]) for name, result in (("before", before), ("after", after))}
    assert mean_kl["after"] < AGREEMENT_KL_RATIO * mean_kl["before"], (before, after)


def primary_tags(component, docs) -> numpy.ndarray:
    from spacy_cvt.model.tagger import forward

    scores, _ = forward(component.model, docs, False)
    return component.model.ops.to_numpy(scores["primary"]).argmax(axis=1)


@pytest.mark.slow
def test_cvt_tagger_learns_on_real_data_and_beats_the_majority_baseline(conll2000_train, conll2000_test, unlabeled_text_file):
    """500 CoNLL-2000 sentences (WSJ POS tags) + unlabeled text; held-out test sentences."""
    random.seed(0)
    torch.manual_seed(0)
    nlp = make_nlp("cvt_tagger", unlabeled_text_file)
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
    # CVT steps ran in every epoch (that they teach the auxiliary views is
    # test_cvt_steps_teach_every_auxiliary_view_to_agree_with_the_primary's to show: the
    # unlabeled loss also falls when only the primary view sharpens)
    assert all(losses["cvt_tagger_unlabeled"] > 0 for losses in epoch_losses), epoch_losses
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
