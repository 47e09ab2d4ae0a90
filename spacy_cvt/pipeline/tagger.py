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


def weight_pos_accuracy(nlp: Language) -> None:
    """Make ``pos_acc`` the weighted score of a pipeline built in code (``nlp.add_pipe``).

    spaCy fills ``[training.score_weights]`` from one static default per factory, and
    cvt_tagger's is ``tag_acc`` (its default attr). A component cannot change its pipe's
    default, so for attr = "pos" it names the weights itself: ``pos_acc`` weighted and
    ``tag_acc`` shown but unweighted, unless the pipeline already weights them. A pipeline
    built from a config gets its config's weights instead (spaCy sets them after the
    components are made); ``check_pos_accuracy_is_weighted`` guards that case.
    """
    weights = nlp.config["training"]["score_weights"]
    weights.setdefault("pos_acc", 1.0)
    weights.setdefault("tag_acc", None)


def check_pos_accuracy_is_weighted(component: str, nlp: Language) -> None:
    """A config with a POS tagger must name ``pos_acc`` in its weights: spaCy's default from
    the factory weights ``tag_acc``, a score this component never reports, so every
    evaluation would score 0 and the first checkpoint would stay model-best."""
    weights = nlp.config["training"]["score_weights"]
    if "pos_acc" not in weights:
        raise ValueError(
            f'[components.{component}] attr = "pos" is scored as pos_acc, but '
            f"[training.score_weights] does not name pos_acc ({dict(weights)}), so spacy train "
            "would select checkpoints by a score this component never reports. Add to the "
            "config:\n[training.score_weights]\npos_acc = 1.0\ntag_acc = null"
        )


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

    def check_pipeline(self, nlp: Language) -> None:
        """A POS tagger's score must be weighted, or spacy train never selects by it."""
        if self.attr == "pos":
            check_pos_accuracy_is_weighted(self.name, nlp)


@cvt_factory(
    "cvt_tagger",
    assigns=["token.tag", "token.pos"],
    default_config={
        "attr": "tag",
        "scorer": {"@scorers": "spacy-cvt.tag_scorer.v1"},
    },
    default_score_weights={"tag_acc": 1.0},  # attr = "pos": see weight_pos_accuracy
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
    if attr == "pos":
        weight_pos_accuracy(nlp)
    return CVTTagger(
        nlp.vocab,
        model,
        name,
        attr=attr,
        settings=settings,
        scorer=scorer,
    )
