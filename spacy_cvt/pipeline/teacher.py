"""Learning from a teacher corpus: unlabeled text another pipeline annotated (``spacy apply``).

With ``[initialize.components.NAME] teacher_corpus``, each CVT step also trains the
primary module on the teacher's annotation of its batch: with ``teacher_targets =
"labels"`` its labels as hard targets (any pipeline can be the teacher), with
``"distributions"`` the per-token label distributions a CVT teacher stored (soft targets,
``distributions.py``). These functions check such a corpus before training starts and
compute that loss; they read the student component without changing it.
"""

from typing import TYPE_CHECKING, Iterable, List, Sequence, Tuple

import numpy
from spacy.training import Example
from thinc.types import Floats2d

from .distributions import aligned_targets, stored_components, teacher_entry
from .losses import labeled_loss, soft_loss

if TYPE_CHECKING:
    from .base import CVTComponent


def check_teacher_corpus(student: "CVTComponent", examples: Iterable[Example], corpus_name: str) -> None:
    """The teacher corpus (``examples``: one whole pass over it) must carry what ``student``
    learns, with labels it knows.

    The whole corpus is read once before step 1, not only its first batch: a label the
    student lacks in a late doc would otherwise stop training in the middle of a run.
    Raises at the first bad doc, naming its index in the corpus and its labels.
    """
    distributions = student.cfg["teacher_targets"] == "distributions"
    n_docs, found_any = 0, False
    for index, example in enumerate(examples):
        where = f"doc {index} ({example.reference.text[:80]!r}) of the teacher corpus '{corpus_name}'"
        n_docs += 1
        if distributions:
            doc_distributions(student.name, student.tag_names, example, where)
            continue
        found = set(student.labels_from_example(example))
        found_any = found_any or bool(found)
        unknown = sorted(found - set(student.labels))
        if unknown:
            raise unknown_labels(student.name, where, f"{student.task} {unknown}", f"labels {list(student.labels)}")
    if not distributions and not found_any:
        raise ValueError(
            f"{student.name}: the teacher corpus '{corpus_name}' has no {student.task} in any "
            f"of its {n_docs} docs. Annotate the unlabeled text with a pipeline that sets "
            f"what {student.name} learns (python -m spacy apply TEACHER unlabeled.txt teacher_corpus.spacy), "
            "and point the corpus at its output."
        )


def teacher_loss(
    student: "CVTComponent", examples: List[Example], primary: Floats2d, corpus_name: str
) -> Tuple[float, Floats2d]:
    """The primary module's logits against the teacher corpus: its labels or its distributions."""
    ops = student.model.ops
    if student.cfg["teacher_targets"] == "distributions":
        targets, mask = teacher_distributions(student.name, student.tag_names, examples, corpus_name)
        return soft_loss(ops, primary, ops.asarray2f(targets), ops.asarray2f(mask))
    teacher_ids = ops.asarray1i(student.gold_ids(examples, source=f"teacher corpus '{corpus_name}'"))
    return labeled_loss(ops, primary, teacher_ids, student.cfg["label_smoothing"])


def teacher_distributions(
    component: str, tag_names: Sequence[str], examples: List[Example], corpus_name: str
) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """The teacher's distributions for the batch's tokens in ``tag_names``' columns:
    (targets, mask) over all the batch's tokens (see ``doc_distributions``)."""
    rows, masks = [], []
    for example in examples:
        where = f"the doc {example.reference.text[:80]!r} of the teacher corpus '{corpus_name}'"
        targets, mask = doc_distributions(component, tag_names, example, where)
        rows.append(targets)
        masks.append(mask)
    return numpy.concatenate(rows), numpy.concatenate(masks)


def doc_distributions(
    component: str, tag_names: Sequence[str], example: Example, where: str
) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """One doc's teacher distributions as (targets, mask). Raises, naming the doc
    (``where``), if it has none for ``component`` or has tags it does not know."""
    entry = teacher_entry(example.reference, component)
    if entry is None:
        found = stored_components(example.reference)
        raise ValueError(
            f"{component}: teacher_targets = 'distributions', but {where} has "
            + (f"distributions from {found} and none from a component named '{component}'. "
               if found else "no label distributions. ")
            + "Annotate the unlabeled text with a CVT teacher that stores them "
            "([components.NAME] store_distributions = true in the teacher's config.cfg, "
            "then spacy apply), or set teacher_targets = 'labels'."
        )
    try:
        return aligned_targets(example, entry, tag_names)
    except KeyError as error:
        raise unknown_labels(
            component, where, f"distributions over the tags {error.args[0]}", f"tags {list(tag_names)}"
        ) from None


def unknown_labels(component: str, where: str, found: str, known: str) -> ValueError:
    """The error for a doc of a teacher corpus (``where``) with labels the student does not have."""
    return ValueError(
        f"{component}: {where} has {found} that are not among the component's {known}. "
        f"Use a teacher trained on the same labels, or add them to "
        f"[initialize.components.{component}.labels]."
    )
