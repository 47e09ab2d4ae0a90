"""BILUO tag sets and Viterbi decoding over valid transitions only."""

import itertools

import numpy
import pytest

from spacy_cvt.tags import (
    biluo_labels,
    is_allowed_transition,
    to_iobes,
    transition_constraints,
    viterbi_decode,
)

TAGS = biluo_labels(["LOC", "PER"])


def is_valid(tags):
    ends_ok = tags[-1].split("-")[0] in ("O", "L", "U")
    starts_ok = tags[0].split("-")[0] in ("O", "B", "U")
    return starts_ok and ends_ok and all(is_allowed_transition(a, b) for a, b in zip(tags, tags[1:]))


def test_tag_set_order_is_fixed():
    assert TAGS == ["O", "B-LOC", "I-LOC", "L-LOC", "U-LOC", "B-PER", "I-PER", "L-PER", "U-PER"]


@pytest.mark.parametrize("previous,current,allowed", [
    ("O", "I-PER", False), ("O", "B-PER", True), ("B-PER", "L-PER", True),
    ("B-PER", "L-LOC", False), ("I-LOC", "O", False), ("U-LOC", "U-PER", True), ("L-PER", "I-PER", False),
])
def test_transitions(previous, current, allowed):
    assert is_allowed_transition(previous, current) is allowed


def test_viterbi_is_the_best_valid_sequence():
    rng = numpy.random.default_rng(0)
    constraints = transition_constraints(TAGS)
    for _ in range(20):
        log_probs = numpy.log(rng.dirichlet(numpy.ones(len(TAGS)), size=3))
        best = max(
            (seq for seq in itertools.product(range(len(TAGS)), repeat=3) if is_valid([TAGS[i] for i in seq])),
            key=lambda seq: sum(log_probs[i, tag] for i, tag in enumerate(seq)),
        )
        assert tuple(viterbi_decode(log_probs, *constraints)) == best


def test_viterbi_repairs_what_argmax_gets_wrong():
    log_probs = numpy.log(numpy.full((4, len(TAGS)), 0.01))
    for position, tag in enumerate(["O", "I-PER", "I-PER", "O"]):  # argmax is invalid
        log_probs[position, TAGS.index(tag)] = numpy.log(0.9)
    decoded = [TAGS[i] for i in viterbi_decode(log_probs, *transition_constraints(TAGS))]
    assert is_valid(decoded)


def test_viterbi_on_long_and_empty_sequences():
    rng = numpy.random.default_rng(1)
    log_probs = numpy.log(rng.dirichlet(numpy.ones(len(TAGS)), size=2000))
    decoded = [TAGS[i] for i in viterbi_decode(log_probs, *transition_constraints(TAGS))]
    assert len(decoded) == 2000 and is_valid(decoded)
    assert viterbi_decode(numpy.zeros((0, len(TAGS))), *transition_constraints(TAGS)).shape == (0,)


def test_iobes_names_and_bad_tags():
    assert to_iobes(["B-X", "I-X", "L-X", "U-Y", "O"]) == ["B-X", "I-X", "E-X", "S-Y", "O"]
    with pytest.raises(ValueError, match="not a BILUO tag"):
        to_iobes(["E-X"])
