"""What a teacher pipeline sets, and the CVT head that learns it (for `cvt-distill`).

A student can only learn an annotation it has a head for: entities (``doc.ents``) for
``cvt_ner``, one tag per token (``token.tag_`` or ``token.pos_``) for ``cvt_tagger``,
non-overlapping spans under a key (``doc.spans[KEY]``) for ``cvt_chunker``. The teacher's
components say what they set in their factory meta (``assigns``), so the head is known
before anything is annotated, and the same annotation is checked in TRAIN and DEV and scored
alike for teacher and student.
"""
from typing import Any, Dict, Iterable, List, NamedTuple, Optional

import typer
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example

STUDENT_FACTORIES = {"ents": "cvt_ner", "tag": "cvt_tagger", "pos": "cvt_tagger", "spans": "cvt_chunker"}
WHAT = {"ents": "entities (doc.ents)", "tag": "tags (token.tag_)", "pos": "POS (token.pos_)", "spans": "spans (doc.spans)"}


class Head(NamedTuple):
    """What the student learns: ``kind`` (ents, tag, pos or spans), the spans key (spans
    only), and the teacher component that sets it (None where --head named it)."""

    kind: str
    key: Optional[str] = None
    component: Optional[str] = None

    @property
    def name(self) -> str:
        """As --head takes it: ents, tag, pos or spans:KEY."""
        return f"spans:{self.key}" if self.kind == "spans" else self.kind

    @property
    def factory(self) -> str:
        return STUDENT_FACTORIES[self.kind]

    @property
    def score_key(self) -> str:
        """The dev score of the student's component (and of ``score``)."""
        return {"ents": "ents_f", "tag": "tag_acc", "pos": "pos_acc"}.get(self.kind) or f"spans_{self.key}_f"


def parse_head(value: str) -> Head:
    """--head's value: ents, tag, pos or spans:KEY."""
    kind, _, key = value.partition(":")
    if kind not in STUDENT_FACTORIES or (kind == "spans") != bool(key):
        raise typer.BadParameter(f"'{value}' is none of ents, tag, pos, spans:KEY.", param_hint="--head")
    return Head(kind, key or None)


def component_heads(nlp: Language, name: str) -> List[Head]:
    """What one component sets, from its factory meta and settings: a cvt_tagger sets only its
    attr, a span_ruler with annotate_ents sets entities, a spans component its spans_key."""
    meta, cfg = nlp.get_pipe_meta(name), nlp.get_pipe_config(name)
    assigns = set(meta.assigns)
    if meta.factory == "cvt_tagger":
        return [Head(cfg.get("attr", "tag"), None, name)]
    heads = []
    if "doc.ents" in assigns or cfg.get("annotate_ents"):
        heads.append(Head("ents", None, name))
    heads += [Head(kind, None, name) for kind in ("tag", "pos") if f"token.{kind}" in assigns]
    if "doc.spans" in assigns and cfg.get("spans_key"):
        heads.append(Head("spans", cfg["spans_key"], name))
    return heads


def teacher_head(nlp: Language, teacher: str, chosen: Optional[Head]) -> Head:
    """The one thing the teacher sets that a CVT head can learn, or ``chosen`` (--head), which
    it must set. Raises typer.BadParameter naming what the teacher sets instead."""
    found = [head for name in nlp.pipe_names for head in component_heads(nlp, name)]
    sets = {name: list(nlp.get_pipe_meta(name).assigns) for name in nlp.pipe_names}
    if chosen is not None:
        matches = [head for head in found if head[:2] == chosen[:2]]
        if not matches:
            raise typer.BadParameter(
                f"the teacher '{teacher}' does not set {chosen.name}: it sets {[h.name for h in found]} "
                f"(components: {sets}).", param_hint="--head")
        return matches[-1]  # the last component that sets it wins, as its annotation does
    kinds = sorted({head.name for head in found})
    if not kinds:
        raise typer.BadParameter(
            f"the teacher '{teacher}' sets no entities, tags, POS or spans for a student to learn: its "
            f"components set {sets}. Give a pipeline with ner, entity_ruler, tagger, span_ruler, spancat "
            "or a CVT component.", param_hint="TEACHER_MODEL")
    if len(kinds) > 1:
        raise typer.BadParameter(
            f"the teacher '{teacher}' sets {', '.join(kinds)}; a student learns one: choose it with "
            f"--head {'|'.join(kinds)}.", param_hint="--head")
    return [head for head in found if head.name == kinds[0]][-1]


def doc_labels(head: Head, doc: Doc) -> List[str]:
    """The labels of the head's annotation in one doc."""
    if head.kind == "ents":
        return [span.label_ for span in doc.ents]
    if head.kind == "spans":
        return [span.label_ for span in doc.spans.get(head.key, [])]
    return [label for label in (getattr(token, f"{head.kind}_") for token in doc) if label]


def has_annotation(head: Head, doc: Doc) -> bool:
    """Whether a doc carries the head's annotation at all (an empty doc.ents set as all-O counts)."""
    if head.kind == "spans":
        return head.key in doc.spans
    return doc.has_annotation({"ents": "ENT_IOB", "tag": "TAG", "pos": "POS"}[head.kind])


def require_annotation(head: Head, docs: Iterable[Doc], path: str, param: str) -> None:
    """A gold file (TRAIN, DEV) must carry what the student learns, or its scores mean nothing."""
    n_docs = 0
    for doc in docs:
        n_docs += 1
        if has_annotation(head, doc):
            return
    raise typer.BadParameter(
        f"'{path}' has no {WHAT[head.kind]}{'' if head.key is None else ' under ' + repr(head.key)} in any of "
        f"its {n_docs} docs, but the teacher sets them and the student learns and is scored on them. "
        "Give annotated data (e.g. `python -m spacy convert` of a CoNLL file), or choose what the "
        "student learns with --head.", param_hint=param)


def score(head: Head, examples: List[Example]) -> float:
    """The head's dev score of predicted docs, computed the same way for teacher and student."""
    if head.kind in ("tag", "pos"):
        scores: Dict[str, Any] = Scorer.score_token_attr(examples, head.kind)
    elif head.kind == "ents":
        scores = Scorer.score_spans(examples, "ents")
    else:
        scores = Scorer.score_spans(examples, f"spans_{head.key}", getter=lambda doc, _: doc.spans.get(head.key, []),
                                    has_annotation=lambda doc: head.key in doc.spans)
    return float(scores.get(head.score_key) or 0.0)
