"""CVT's losses as pure functions of arrays (numpy or cupy, through thinc Ops).

All are per-token means, so a batch's loss does not grow with its length and the
labeled and unlabeled steps are on the same scale. Each returns the loss and the
gradient with respect to the logits.
"""

from typing import Dict, List, Tuple

from thinc.api import Ops
from thinc.types import Floats2d, Ints1d

IGNORE = -1  # gold id of a token without gold (missing or misaligned): no loss


def softmax(ops: Ops, logits: Floats2d) -> Floats2d:
    return ops.softmax(ops.asarray2f(logits), axis=-1)


def labeled_loss(
    ops: Ops, logits: Floats2d, gold_ids: Ints1d, label_smoothing: float
) -> Tuple[float, Floats2d]:
    """Cross-entropy against gold ids (``IGNORE`` = no gold), with label smoothing."""
    n_tokens, n_labels = logits.shape
    has_gold = gold_ids != IGNORE
    n_gold = int(has_gold.sum())
    if n_gold == 0:
        return 0.0, ops.alloc2f(n_tokens, n_labels)
    xp = ops.xp
    targets = ops.alloc2f(n_tokens, n_labels) + label_smoothing / n_labels
    rows = xp.nonzero(has_gold)[0]
    targets[rows, gold_ids[rows]] += 1.0 - label_smoothing
    probs = softmax(ops, logits)
    d_logits = (probs - targets) * has_gold[:, None] / n_gold
    loss = -(targets * xp.log(probs + 1e-12)).sum(axis=1)[rows].sum() / n_gold
    return float(loss), d_logits.astype("float32")


def view_targets(
    ops: Ops, view: str, teacher: Floats2d, lengths: List[int]
) -> Tuple[Floats2d, Floats2d]:
    """The teacher distribution each row of ``view`` must match, and which rows count.

    forward/backward/full predict the label at t; future predicts t + 1 (its last
    row per doc has nothing to predict), past predicts t - 1 (no first row).
    Returns (targets, mask) with mask shaped (n_tokens, 1).
    """
    xp = ops.xp
    n_tokens = teacher.shape[0]
    ends = xp.cumsum(xp.asarray(lengths)) - 1
    starts = ends - xp.asarray(lengths) + 1
    mask = xp.ones((n_tokens, 1), dtype="float32")
    targets = teacher
    if view == "future":
        targets = xp.concatenate([teacher[1:], teacher[:1]])
        mask[ends] = 0
    elif view == "past":
        targets = xp.concatenate([teacher[-1:], teacher[:-1]])
        mask[starts] = 0
    return targets, mask


def soft_loss(ops: Ops, logits: Floats2d, targets: Floats2d, mask: Floats2d) -> Tuple[float, Floats2d]:
    """Mean cross-entropy of ``logits`` against target distributions, over the rows ``mask`` keeps.

    ``targets`` (probabilities) is a constant; ``mask`` is (n_tokens, 1) of 0/1.
    """
    n_rows = max(float(mask.sum()), 1.0)
    probs = softmax(ops, logits)
    gradient = ((probs - targets) * mask / n_rows).astype("float32")
    loss = float(-(targets * ops.xp.log(probs + 1e-12) * mask).sum() / n_rows)
    return loss, gradient


def cvt_loss(
    ops: Ops, teacher: Floats2d, student_logits: Dict[str, Floats2d], lengths: List[int]
) -> Tuple[float, Dict[str, Floats2d]]:
    """Sum over auxiliary views of the mean cross-entropy(teacher, student).

    ``teacher`` holds probabilities and is a constant: only the students'
    logits get gradients.
    """
    total = 0.0
    gradients = {}
    for view, logits in student_logits.items():
        targets, mask = view_targets(ops, view, teacher, lengths)
        loss, gradients[view] = soft_loss(ops, logits, targets, mask)
        total += loss
    return total, gradients
