"""Learning from a teacher corpus: raw text another pipeline annotated (``spacy apply``).

With ``[initialize.components.NAME] teacher_corpus``, each CVT step also trains the
primary module on the teacher's annotation of its batch: with ``teacher_targets =
"labels"`` its labels as hard targets (any pipeline can be the teacher), with
``"distributions"`` the per-token label distributions a CVT teacher stored (soft targets,
``distributions.py``). These functions check such a corpus before training starts and
compute that loss; they read the student component without changing it.
"""

from typing import TYPE_CHECKING, List, Sequence, Tuple

import numpy
from spacy.training import Example
from thinc.types import Floats2d

from .distributions import aligned_targets, stored_components, teacher_entry
from .losses import labeled_loss, soft_loss

if TYPE_CHECKING:
    from .base import CVTComponent


def check_teacher_corpus(student: "CVTComponent", examples: List[Example], corpus_name: str) -> None:
    """The teacher corpus (``examples``: its first batch) must carry what ``student``
    learns, with labels it knows."""
    if student.cfg["teacher_targets"] == "distributions":
        teacher_distributions(student.name, student.tag_names, examples, corpus_name)
        return
    found = {label for example in examples for label in student.labels_from_example(example)}
    if not found:
        raise ValueError(
            f"{student.name}: the teacher corpus '{corpus_name}' has no {student.task} in its "
            f"first {len(examples)} docs. Annotate the raw text with a pipeline that sets "
            f"what {student.name} learns (python -m spacy apply TEACHER raw.txt silver.spacy), "
            "and point the corpus at its output."
        )
    unknown = sorted(found - set(student.labels))
    if unknown:
        raise unknown_labels(student.name, corpus_name, f"{student.task} {unknown}", f"labels {list(student.labels)}")


def teacher_loss(
    student: "CVTComponent", examples: List[Example], primary: Floats2d, corpus_name: str
) -> Tuple[float, Floats2d]:
    """The primary module's logits against the teacher corpus: its labels or its distributions."""
    ops = student.model.ops
    if student.cfg["teacher_targets"] == "distributions":
        targets, mask = teacher_distributions(student.name, student.tag_names, examples, corpus_name)
        return soft_loss(ops, primary, ops.asarray2f(targets), ops.asarray2f(mask))
    silver = ops.asarray1i(student.gold_ids(examples, source=f"teacher corpus '{corpus_name}'"))
    return labeled_loss(ops, primary, silver, student.cfg["label_smoothing"])


def teacher_distributions(
    component: str, tag_names: Sequence[str], examples: List[Example], corpus_name: str
) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The teacher's distributions for the batch's tokens in ``tag_names``' columns:
    (targets, mask) over all the batch's tokens. Raises, naming the corpus, if a doc has
    none for ``component`` or has tags it does not know."""
    rows, masks = [], []
    for example in examples:
        entry = teacher_entry(example.reference, component)
        if entry is None:
            found = stored_components(example.reference)
            raise ValueError(
                f"{component}: teacher_targets = 'distributions', but the doc "
                f"'{example.reference.text[:80]}' of the teacher corpus '{corpus_name}' has "
                + (f"distributions from {found} and none from a component named '{component}'. "
                   if found else "no label distributions. ")
                + "Annotate the raw text with a CVT teacher that stores them "
                "([components.NAME] store_distributions = true in the teacher's config.cfg, "
                "then spacy apply), or set teacher_targets = 'labels'."
            )
        try:
            targets, mask = aligned_targets(example, entry, tag_names)
        except KeyError as error:
            raise unknown_labels(
                component, corpus_name, f"distributions over the tags {error.args[0]}", f"tags {list(tag_names)}"
            ) from None
        rows.append(targets)
        masks.append(mask)
    return numpy.concatenate(rows), numpy.concatenate(masks)


def unknown_labels(component: str, corpus_name: str, found: str, known: str) -> ValueError:
    """The error for a teacher corpus with labels the student does not have."""
    return ValueError(
        f"{component}: the teacher corpus '{corpus_name}' has {found} that are not among the "
        f"component's {known}. Use a teacher trained on the same labels, or add them to "
        f"[initialize.components.{component}.labels]."
    )
