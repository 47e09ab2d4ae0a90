"""Per-token label distributions on a Doc: how a CVT teacher hands soft targets to a student.

A component with ``store_distributions`` writes the softmax of its primary view (before
decoding) to ``doc._.cvt_distributions``, a dict keyed by the component's name:
``{"labels": tag names in column order, "probs": (n_tokens, n_tags) float16}``. Doc
extensions live in ``doc.user_data``, which ``spacy apply`` saves (its DocBin stores
user data), so the teacher corpus it writes carries them without another tool. A
student reads them with ``teacher_targets = "distributions"``, aligned to its own tokens.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy
from spacy.tokens import Doc
from spacy.training import Example

EXTENSION = "cvt_distributions"

if not Doc.has_extension(EXTENSION):
    Doc.set_extension(EXTENSION, default=None)


def write_distributions(doc: Doc, component: str, tag_names: Sequence[str], probs: numpy.ndarray) -> None:
    """Store ``probs`` (n_tokens, n_tags) under ``component``, next to other components' entries.

    float16 halves the corpus on disk; its ~1e-3 precision is far below what a student learns.
    """
    stored = dict(getattr(doc._, EXTENSION) or {})
    stored[component] = {"labels": list(tag_names), "probs": numpy.asarray(probs, dtype="float16")}
    setattr(doc._, EXTENSION, stored)


def teacher_entry(doc: Doc, component: str) -> Optional[Dict]:
    """The stored distributions a student named ``component`` learns: the entry of the same
    name, or the only entry there is. None if the doc has none or several, none of that name."""
    stored = getattr(doc._, EXTENSION) or {}
    if component in stored:
        return stored[component]
    if len(stored) == 1:
        return next(iter(stored.values()))
    return None


def stored_components(doc: Doc) -> List[str]:
    return sorted(getattr(doc._, EXTENSION) or {})


def aligned_targets(example: Example, entry: Dict, tag_names: Sequence[str]) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The teacher's distribution for each token of ``example.predicted``, in ``tag_names``' columns.

    ``example.reference`` is the teacher's doc. A predicted token gets the distribution of
    the teacher token it matches one-to-one; a token that the two tokenizations split
    differently gets none (its mask row is 0). Returns (targets, mask (n_tokens, 1)).
    Raises KeyError naming the teacher's tags that are not in ``tag_names``.
    """
    column = {tag: i for i, tag in enumerate(tag_names)}
    unknown = [tag for tag in entry["labels"] if tag not in column]
    if unknown:
        raise KeyError(unknown)
    probs = numpy.zeros((len(example.reference), len(tag_names)), dtype="float32")
    probs[:, [column[tag] for tag in entry["labels"]]] = numpy.asarray(entry["probs"], dtype="float32")
    n_tokens = len(example.predicted)
    if n_tokens == len(example.reference) and all(
        x.text == y.text for x, y in zip(example.predicted, example.reference)
    ):
        return probs, numpy.ones((n_tokens, 1), dtype="float32")
    x2y, y2x = example.alignment.x2y, example.alignment.y2x
    starts = numpy.concatenate([[0], numpy.cumsum(x2y.lengths)[:-1]]).astype(int)
    targets = numpy.zeros((n_tokens, len(tag_names)), dtype="float32")
    mask = numpy.zeros((n_tokens, 1), dtype="float32")
    for i in range(n_tokens):
        if x2y.lengths[i] == 1:
            j = int(x2y.data[starts[i]])
            if y2x.lengths[j] == 1:
                targets[i], mask[i] = probs[j], 1.0
    return targets, mask
