"""The trainable component shared by ``cvt_ner``, ``cvt_tagger`` and ``cvt_chunker``.

How CVT fits into spaCy's training loop (spacy/training/loop.py): ``spacy train``
calls ``nlp.update(..., sgd=False)`` and then ``finish_update(optimizer)`` on each
trainable component; ``nlp.update(examples, sgd=optimizer)`` in a user's own loop
calls the same two. So:

- ``update`` is the labeled half: primary module vs gold, gradients accumulate.
- ``finish_update`` applies that step, then runs ``unlabeled_steps`` CVT steps on
  unlabeled text (``unlabeled_stream.py``), each applied with the optimizer at once: the strict
  alternation of the paper. Their loss is reported as ``<name>_unlabeled`` in the
  losses dict. They use their own Adam state and a learning rate that ramps up over
  ``unlabeled_warmup_steps`` (why: ``unlabeled_optimizer.py``).
- With a teacher corpus (unlabeled text annotated by another pipeline) instead of plain
  unlabeled text, each CVT step also trains the primary module on the teacher's labels or
  distributions (``teacher.py``), weighted by ``teacher_weight``; that loss is
  reported as ``<name>_teacher``.

Task subclasses only say how gold is read and how predictions are written.
"""

import dataclasses
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model, Optimizer, set_dropout_rate
from thinc.types import Ints1d

from ..model.tagger import ViewScores, begin_cvt_update, clear_gradients, fill_trained_vectors
from ..model.views import PRIMARY
from .build_then_load import BuildThenLoad
from .component_settings import CVTSettings
from .distributions import write_distributions
from .gold import GoldTags, gold_tag_ids
from .losses import cvt_loss, labeled_loss, softmax
from .unlabeled_stream import UnlabeledStream, open_unlabeled_stream
from .teacher import check_teacher_corpus, teacher_loss
from .unlabeled_optimizer import ScaledOptimizer, unlabeled_phase, warmup_scale

Tagging = Tuple[numpy.ndarray, numpy.ndarray]  # one doc's tag ids and (n_tokens, n_tags) log probabilities


class CVTComponent(BuildThenLoad, TrainablePipe):
    """A sequence labeller trained with Cross-View Training."""

    task = "tags"  # what the label set names, for error messages

    def __init__(
        self,
        vocab: Vocab,
        model: Model[List[Doc], ViewScores],
        name: str,
        *,
        settings: CVTSettings,
        scorer: Optional[Callable],
        **task_settings: Any,
    ):
        settings.check(name)
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        training_settings = dataclasses.asdict(settings)
        # an attribute, not cfg: the saved cfg must not override the config's choice at load
        self.store_distributions: bool = training_settings.pop("store_distributions")
        self.config_settings = frozenset(training_settings)  # the config wins over a saved cfg (build_then_load.py)
        self.cfg: Dict[str, Any] = {
            "labels": [],
            "n_vector_dims": None,
            "n_tok2vec_dims": None,  # known after initialize; a loaded model needs it before its weights
            **training_settings,
            "unlabeled_docs_seen": 0,  # unlabeled docs CVT steps consumed: a sourced run goes on from there
            **task_settings,
        }
        self.unlabeled: Optional[UnlabeledStream] = None  # opened by initialize or resume_unlabeled
        self._step_losses: Optional[Dict[str, float]] = None
        self._n_unlabeled_steps = 0  # for the learning-rate ramp; restarts with the process
        self.loaded_not_initialized = False  # trained weights read from disk or bytes (build_then_load.py)

    @property
    def tag_names(self) -> List[str]:
        """The model's output classes, in column order."""
        return list(self.labels)

    def labels_from_example(self, example: Example) -> Iterable[str]:
        """The labels of ``example``'s annotation (each task subclass says where it is)."""
        raise NotImplementedError

    def gold_tags(self, example: Example) -> GoldTags:
        """The gold tag of each predicted token (each task subclass reads its annotation)."""
        raise NotImplementedError

    def decode(self, doc: Doc, log_probs: numpy.ndarray) -> numpy.ndarray:
        """Tag ids for one doc from its (n_tokens, n_tags) log probabilities."""
        return log_probs.argmax(axis=1)

    def write(self, doc: Doc, tags: List[str]) -> None:
        """Set ``doc``'s annotation from one decoded tag per token (each task subclass)."""
        raise NotImplementedError

    @property
    def labels(self) -> tuple:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def trains_on_unlabeled(self) -> bool:
        """Whether training runs CVT steps (an unlabeled corpus is open and steps > 0)."""
        return self.unlabeled is not None and self.cfg["unlabeled_steps"] > 0

    @property
    def learns_from_teacher(self) -> bool:
        """Whether CVT steps read a teacher corpus and train the primary module on its labels."""
        return self.trains_on_unlabeled and self.unlabeled.is_teacher_corpus

    @property
    def unlabeled_loss_key(self) -> str:
        return f"{self.name}_unlabeled"

    @property
    def teacher_loss_key(self) -> str:
        return f"{self.name}_teacher"

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"{self.name}: labels must be strings, got {label!r}.")
        if label in self.labels:
            return 0
        if self.model.shims:
            raise ValueError(
                f"{self.name}: cannot add the label '{label}' to a model that is already "
                "built, because its output layer has a fixed size. Add labels before "
                "nlp.initialize, or re-initialize the component."
            )
        self.cfg["labels"].append(label)
        return 1

    def check_pipeline(self, nlp: Language) -> None:
        """A task's check of the pipeline it is initialized in (the tagger's score weights); none here.
        A hook rather than an override of initialize, whose signature spaCy validates
        [initialize.components] against."""

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
        unlabeled_corpus: Optional[str] = None,
        teacher_corpus: Optional[str] = None,
    ) -> None:
        """Read the labels, build the model, and open the unlabeled text.

        unlabeled_corpus: dot name of a corpus in the config, e.g. "corpora.unlabeled".
        teacher_corpus: instead of unlabeled_corpus, unlabeled text a teacher pipeline has
            annotated (``spacy apply``), e.g. "corpora.teacher": CVT steps read it as
            unlabeled text and also train the primary module on the teacher's labels.
        """
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        if nlp is not None:
            self.check_pipeline(nlp)
        if labels is None:
            found = set()
            for example in get_examples():
                found.update(self.labels_from_example(example))
                self.gold_tags(example)  # bad gold (e.g. overlapping spans) fails here, not mid-training
            labels = sorted(found)
        if not labels:
            raise ValueError(
                f"{self.name}: no {self.task} found in the training data, so there is "
                "nothing to learn. Check that [corpora.train] points at annotated data "
                "for this task, or pass labels in [initialize.components."
                f"{self.name}.labels]."
            )
        self.cfg["labels"] = list(labels)
        self.cfg["n_vector_dims"] = int(self.vocab.vectors.shape[1])
        self.cfg["n_tok2vec_dims"] = None  # read from the tok2vec layer as the model is built
        self.cfg["unlabeled_docs_seen"] = 0
        self.loaded_not_initialized = False
        self._build_model()
        fill_trained_vectors(self.model, self.vocab)
        self.resume_unlabeled(nlp, unlabeled_corpus, teacher_corpus)

    def resume_unlabeled(
        self, nlp: Optional[Language], unlabeled_corpus: Optional[str], teacher_corpus: Optional[str] = None
    ) -> None:
        """Open the unlabeled text after the ``unlabeled_docs_seen`` docs earlier CVT steps consumed
        (none after ``initialize``; see ``UnlabeledStream.resume`` for a sourced component)."""
        self.unlabeled = None  # also where opening fails
        self._n_unlabeled_steps = 0  # a new model starts its learning-rate ramp again
        stream = open_unlabeled_stream(
            nlp, self.model, component=self.name, unlabeled_corpus=unlabeled_corpus,
            teacher_corpus=teacher_corpus, cfg=self.cfg,
        )
        if stream is not None and stream.is_teacher_corpus:
            check_teacher_corpus(self, stream.read_corpus(), stream.corpus_name)
        self.unlabeled = stream

    def predict(self, docs: Iterable[Doc]) -> List[Tagging]:
        """Each doc's decoded tag ids, with the log probabilities they were decoded from."""
        docs = list(docs)
        ops = self.model.ops
        log_probs = ops.to_numpy(ops.xp.log(softmax(ops, self.model.predict(docs)[PRIMARY]) + 1e-12))
        per_doc = numpy.split(log_probs, numpy.cumsum([len(doc) for doc in docs])[:-1])
        return [(self.decode(doc, doc_log_probs), doc_log_probs) for doc, doc_log_probs in zip(docs, per_doc)]

    def set_annotations(self, docs: Iterable[Doc], taggings: List[Tagging]) -> None:
        names = self.tag_names
        for doc, (ids, log_probs) in zip(docs, taggings):
            self.write(doc, [names[i] for i in ids])
            if self.store_distributions:
                write_distributions(doc, self.name, names, numpy.exp(log_probs))

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """The labeled step: primary module vs gold. With ``sgd``, also ``finish_update``."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        if self.trains_on_unlabeled:
            losses.setdefault(self.unlabeled_loss_key, 0.0)
        if self.learns_from_teacher:
            losses.setdefault(self.teacher_loss_key, 0.0)
        self._step_losses = losses
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        docs = [eg.predicted for eg in examples]
        if any(len(doc) for doc in docs):
            set_dropout_rate(self.model, drop)
            scores, backprop = self.model.begin_update(docs)
            loss, d_primary = self.get_loss(examples, scores)
            backprop({PRIMARY: d_primary})
            losses[self.name] += loss
        if sgd not in (None, False):
            self.finish_update(sgd)
        return losses

    def get_loss(self, examples: Iterable[Example], scores: ViewScores):
        gold = self.model.ops.asarray1i(self.gold_ids(examples))
        return labeled_loss(self.model.ops, scores[PRIMARY], gold, self.cfg["label_smoothing"])

    def gold_ids(self, examples: Iterable[Example], source: str = "gold") -> Ints1d:
        """The tag id of every predicted token from ``source``'s annotation (``gold.py``)."""
        return gold_tag_ids(
            examples, self.gold_tags, self.tag_names,
            component=self.name, labels=self.labels, what=self.task[:-1], source=source,
        )

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the labeled step, then ``unlabeled_steps`` CVT steps on unlabeled text."""
        scale = self.cfg["learn_rate_scale"]
        self.model.finish_update(sgd if scale == 1.0 else ScaledOptimizer(sgd, scale))
        clear_gradients(self.model)
        if not self.trains_on_unlabeled:
            return
        for _ in range(self.cfg["unlabeled_steps"]):
            for key, loss in self.unlabeled_step(sgd).items():
                if self._step_losses is not None:
                    self._step_losses[key] = self._step_losses.get(key, 0.0) + loss

    def unlabeled_step(self, sgd: Optimizer, batch: Optional[List[Union[Doc, Example]]] = None) -> Dict[str, float]:
        """One CVT step: auxiliary views (with dropout) learn to match the primary view.

        The teacher is the primary module without dropout or gradient; only the
        auxiliary modules and the shared encoder and embeddings are updated, with
        the phase's own optimizer state and ramped learning rate (see
        ``unlabeled_optimizer``). When the unlabeled text comes from a teacher corpus, the
        primary module also learns the teacher's labels (``teacher_weight``).
        ``batch``: docs or examples to use instead of the next unlabeled batch.
        Returns the losses, keyed as in the losses dict.
        """
        if batch is None:
            if self.unlabeled is None:
                raise ValueError(f"{self.name}: no unlabeled corpus was set up at initialize.")
            batch = self.unlabeled.next_batch()
            self.cfg["unlabeled_docs_seen"] += len(batch)
        examples = [eg if isinstance(eg, Example) else Example(eg, eg) for eg in batch]
        examples = [eg for eg in examples if len(eg.predicted)]
        if not examples:
            return {}
        docs = [eg.predicted for eg in examples]
        ops = self.model.ops
        set_dropout_rate(self.model, self.cfg["unlabeled_dropout"])
        teacher, scores, backprop = begin_cvt_update(self.model, docs, with_primary=self.learns_from_teacher)
        students = {view: logits for view, logits in scores.items() if view != PRIMARY}
        loss, d_scores = cvt_loss(ops, softmax(ops, teacher), students, [len(doc) for doc in docs])
        losses = {self.unlabeled_loss_key: loss}
        if self.learns_from_teacher:
            teacher_loss_value, d_primary = teacher_loss(self, examples, scores[PRIMARY], self.unlabeled.corpus_name)
            d_scores[PRIMARY] = d_primary * self.cfg["teacher_weight"]
            losses[self.teacher_loss_key] = teacher_loss_value * self.cfg["teacher_weight"]
        backprop(d_scores)
        self._n_unlabeled_steps += 1
        scale = warmup_scale(self._n_unlabeled_steps, self.cfg["unlabeled_warmup_steps"])
        self.model.finish_update(unlabeled_phase(sgd, scale * self.cfg["learn_rate_scale"]))
        clear_gradients(self.model)
        return losses
