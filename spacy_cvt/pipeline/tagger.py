"""``cvt_tagger``: one tag per token, written to ``token.tag_`` or ``token.pos_``."""

from typing import Callable, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from thinc.api import Model

from ..model.tagger import ViewScores
from .base import CVTComponent, GoldTags
from .component_settings import CVTSettings, cvt_factory

TAG_ATTRS = {"tag": "TAG", "pos": "POS"}


class CVTTagger(CVTComponent):
    task = "tags"

    @property
    def attr(self) -> str:
        return self.cfg["attr"]

    def labels_from_example(self, example: Example) -> Iterable[str]:
        return (getattr(token, f"{self.attr}_") for token in example.reference if getattr(token, f"{self.attr}_"))

    def gold_tags(self, example: Example) -> GoldTags:
        return example.get_aligned(TAG_ATTRS[self.attr], as_string=True)

    def write(self, doc: Doc, tags: List[str]) -> None:
        for token, tag in zip(doc, tags):
            setattr(token, f"{self.attr}_", tag)


@cvt_factory(
    "cvt_tagger",
    assigns=["token.tag", "token.pos"],
    default_config={
        "attr": "tag",
        "scorer": {"@scorers": "spacy-cvt.tag_scorer.v1"},
    },
    default_score_weights={"tag_acc": 0.5, "pos_acc": 0.5},
)
def make_cvt_tagger(
    nlp: Language,
    name: str,
    model: Model[List[Doc], ViewScores],
    attr: str,
    scorer: Optional[Callable],
    settings: CVTSettings,
) -> CVTTagger:
    """Part-of-speech tagging trained with Cross-View Training.

    attr: "tag" writes fine-grained tags (``token.tag_``, scored as ``tag_acc``);
        "pos" writes universal POS (``token.pos_``, scored as ``pos_acc``).
    """
    if attr not in TAG_ATTRS:
        raise ValueError(
            f"[components.{name}] attr must be one of {sorted(TAG_ATTRS)}, got '{attr}'."
        )
    return CVTTagger(
        nlp.vocab,
        model,
        name,
        attr=attr,
        settings=settings,
        scorer=scorer,
    )
