"""BILUO tag sets for span tasks and decoding that only emits valid sequences.

CVT predicts one label per token with a softmax and no CRF. Taking the argmax at
each position can produce sequences like ``O I-PER`` that spaCy's
``biluo_tags_to_spans`` rejects, so span tasks decode with Viterbi restricted to
the transitions that BILUO allows. The per-token model stays exactly the one in
the paper; only the decoding is constrained.
"""

from typing import Iterable, List, Sequence, Tuple

import numpy

OUTSIDE = "O"
BILUO_PREFIXES = ("B", "I", "L", "U")


def biluo_labels(span_labels: Iterable[str]) -> List[str]:
    """Expand span labels (``PER``) into the tag set ``O, B-PER, I-PER, L-PER, U-PER``.

    The order is fixed (``O`` first, then per label B, I, L, U) so a model's output
    columns map to the same tags every time the labels are the same.
    """
    tags = [OUTSIDE]
    for label in span_labels:
        tags.extend(f"{prefix}-{label}" for prefix in BILUO_PREFIXES)
    return tags


def split_tag(tag: str) -> Tuple[str, str]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", "")``."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, _, label = tag.partition("-")
    if prefix not in BILUO_PREFIXES or not label:
        raise ValueError(
            f"'{tag}' is not a BILUO tag: expected 'O' or one of B-, I-, L-, U- "
            "followed by a label."
        )
    return prefix, label


def is_allowed_transition(previous: str, current: str) -> bool:
    """Whether BILUO allows ``current`` right after ``previous``.

    Inside a span (after B or I) only I or L of the same label may follow;
    outside a span (after O, L or U) only O, B or U may follow.
    """
    prev_prefix, prev_label = split_tag(previous)
    cur_prefix, cur_label = split_tag(current)
    if prev_prefix in ("B", "I"):
        return cur_prefix in ("I", "L") and cur_label == prev_label
    return cur_prefix in (OUTSIDE, "B", "U")


def transition_constraints(
    tags: Sequence[str],
) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Boolean masks of what BILUO allows: ``(transitions[prev, cur], start, end)``.

    A sequence may start with O, B or U and end with O, L or U.
    """
    prefixes = [split_tag(tag)[0] for tag in tags]
    transitions = numpy.array(
        [[is_allowed_transition(prev, cur) for cur in tags] for prev in tags],
        dtype=bool,
    )
    start = numpy.array([p in (OUTSIDE, "B", "U") for p in prefixes], dtype=bool)
    end = numpy.array([p in (OUTSIDE, "L", "U") for p in prefixes], dtype=bool)
    return transitions, start, end


def viterbi_decode(
    log_probs: numpy.ndarray,
    transitions: numpy.ndarray,
    start: numpy.ndarray,
    end: numpy.ndarray,
) -> numpy.ndarray:
    """The most probable tag sequence that uses only allowed transitions.

    log_probs: (n_tokens, n_tags) per-token log probabilities.
    transitions, start, end: boolean masks from ``transition_constraints``.
    Returns the tag indices, shape (n_tokens,).
    """
    n_tokens, n_tags = log_probs.shape
    if n_tokens == 0:
        return numpy.zeros((0,), dtype="int64")
    forbidden = numpy.float64(-numpy.inf)
    transition_scores = numpy.where(transitions, 0.0, forbidden)
    scores = numpy.where(start, log_probs[0].astype("float64"), forbidden)
    backpointers = numpy.zeros((n_tokens, n_tags), dtype="int64")
    for position in range(1, n_tokens):
        candidates = scores[:, None] + transition_scores
        backpointers[position] = candidates.argmax(axis=0)
        scores = candidates.max(axis=0) + log_probs[position]
    scores = numpy.where(end, scores, forbidden)
    path = numpy.zeros((n_tokens,), dtype="int64")
    path[-1] = int(scores.argmax())
    for position in range(n_tokens - 1, 0, -1):
        path[position - 1] = backpointers[position, path[position]]
    return path


def to_iobes(tags: Iterable[str]) -> List[str]:
    """BILUO -> IOBES (the same scheme under seqeval's names: L is E, U is S)."""
    renamed = {"L": "E", "U": "S"}
    output = []
    for tag in tags:
        prefix, label = split_tag(tag)
        output.append(tag if prefix not in renamed else f"{renamed[prefix]}-{label}")
    return output
