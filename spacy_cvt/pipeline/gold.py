"""Annotation as the model's targets: one tag id per predicted token.

The task subclasses read an example's annotation as tag names (``gold_tags``); this turns
them into the ids the losses take, for the gold data and for a teacher's labels alike.
"""

from typing import Callable, Iterable, List, Optional, Sequence

import numpy
from spacy.training import Example
from thinc.types import Ints1d

from .losses import IGNORE

GoldTags = List[Optional[str]]  # per predicted token; None or "-" means no gold


def gold_tag_ids(
    examples: Iterable[Example],
    gold_tags: Callable[[Example], GoldTags],
    tag_names: Sequence[str],
    *,
    component: str,
    labels: Sequence[str],
    what: str,
    source: str = "gold",
) -> Ints1d:
    """The tag id of every predicted token, ``IGNORE`` where it has none.

    For the error on an unknown tag: ``labels``, the component's label set (entity types
    where the tags are BILUO tags); ``what``, what one label names; ``source``, where the
    annotation comes from (the gold data, a teacher corpus).
    """
    index = {tag: i for i, tag in enumerate(tag_names)}
    ids: List[int] = []
    for example in examples:
        for position, tag in enumerate(gold_tags(example)):
            if tag in (None, "", "-"):
                ids.append(IGNORE)
            elif tag in index:
                ids.append(index[tag])
            else:
                raise ValueError(
                    f"{component}: the {source} {what} '{tag}' (token {position} of "
                    f"'{example.reference.text[:80]}') is not among the component's "
                    f"labels {list(labels)}. Initialize on data that contains it, "
                    f"or add it to [initialize.components.{component}.labels]."
                )
    return numpy.asarray(ids, dtype="int32")
