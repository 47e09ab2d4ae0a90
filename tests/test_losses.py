"""CVT's losses: masks at sentence ends, gradients, missing gold, soft targets."""

import numpy
import pytest
from thinc.api import NumpyOps

from spacy_cvt.pipeline.losses import IGNORE, cvt_loss, labeled_loss, soft_loss, view_targets

ops = NumpyOps()


def test_future_and_past_masks_at_sentence_ends():
    teacher = numpy.arange(5 * 2, dtype="float32").reshape(5, 2)
    lengths = [3, 2]
    targets, mask = view_targets(ops, "future", teacher, lengths)
    assert mask[:, 0].tolist() == [1, 1, 0, 1, 0]
    numpy.testing.assert_array_equal(targets[[0, 1, 3]], teacher[[1, 2, 4]])
    targets, mask = view_targets(ops, "past", teacher, lengths)
    assert mask[:, 0].tolist() == [0, 1, 1, 0, 1]
    numpy.testing.assert_array_equal(targets[[1, 2, 4]], teacher[[0, 1, 3]])
    targets, mask = view_targets(ops, "forward", teacher, lengths)
    assert mask.all() and (targets == teacher).all()


def test_one_token_docs_give_future_and_past_nothing_to_learn():
    teacher = numpy.full((2, 3), 1 / 3, dtype="float32")
    _, gradients = cvt_loss(ops, teacher, {"future": numpy.ones((2, 3), "f"), "past": numpy.ones((2, 3), "f")}, [1, 1])
    assert not gradients["future"].any() and not gradients["past"].any()


def test_cvt_gradient_matches_finite_differences():
    rng = numpy.random.default_rng(0)
    teacher = rng.dirichlet(numpy.ones(4), size=6).astype("float32")
    logits = rng.normal(size=(6, 4)).astype("float64")
    lengths = [4, 2]
    _, gradients = cvt_loss(ops, teacher, {"future": logits.astype("float32")}, lengths)
    epsilon = 1e-4
    for row, column in [(0, 1), (2, 3), (4, 0)]:
        bumped = logits.copy()
        bumped[row, column] += epsilon
        plus, _ = cvt_loss(ops, teacher, {"future": bumped.astype("float32")}, lengths)
        bumped[row, column] -= 2 * epsilon
        minus, _ = cvt_loss(ops, teacher, {"future": bumped.astype("float32")}, lengths)
        numpy.testing.assert_allclose((plus - minus) / (2 * epsilon), gradients["future"][row, column], atol=2e-3)


def test_labeled_loss_ignores_tokens_without_gold():
    logits = numpy.zeros((3, 4), dtype="float32")
    loss, d_logits = labeled_loss(ops, logits, numpy.array([1, IGNORE, 2], dtype="int32"), 0.0)
    assert not d_logits[1].any()
    numpy.testing.assert_allclose(loss, numpy.log(4), rtol=1e-5)
    assert d_logits[0, 1] < 0 and d_logits[0, 0] > 0
    loss, d_logits = labeled_loss(ops, logits, numpy.array([IGNORE] * 3, dtype="int32"), 0.1)
    assert loss == 0.0 and not d_logits.any()


def test_soft_loss_with_one_hot_targets_is_the_labeled_loss_and_masked_rows_do_not_count():
    logits = numpy.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    gold = numpy.asarray([2, 0, 1, IGNORE], dtype="int32")
    one_hot = numpy.zeros((4, 3), "f")
    one_hot[[0, 1, 2], [2, 0, 1]] = 1.0
    mask = numpy.asarray([[1], [1], [1], [0]], "f")
    loss, gradient = soft_loss(ops, logits, one_hot, mask)
    expected_loss, expected_gradient = labeled_loss(ops, logits, gold, label_smoothing=0.0)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert numpy.allclose(gradient, expected_gradient, atol=1e-6)
    assert not gradient[3].any()
