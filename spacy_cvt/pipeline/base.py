"""The trainable component shared by ``cvt_ner``, ``cvt_tagger`` and ``cvt_chunker``.

How CVT fits into spaCy's training loop (spacy/training/loop.py): ``spacy train``
calls ``nlp.update(..., sgd=False)`` and then ``finish_update(optimizer)`` on each
trainable component; ``nlp.update(examples, sgd=optimizer)`` in a user's own loop
calls the same two. So:

- ``update`` is the labeled half: primary module vs gold, gradients accumulate.
- ``finish_update`` applies that step, then runs ``unlabeled_steps`` CVT steps on
  raw text, each applied with the optimizer at once: the strict alternation of
  the paper. Their loss is reported as ``<name>_unlabeled`` in the losses dict.
  They use their own Adam state and a learning rate that ramps up over
  ``unlabeled_warmup_steps`` (why: ``unlabeled_optimizer.py``).
- With a teacher corpus (raw text annotated by another pipeline with ``spacy
  apply``) instead of plain raw text, each CVT step also trains the primary module
  on the teacher's labels, or on the label distributions a CVT teacher stored
  (``teacher_targets``, ``distributions.py``), weighted by ``teacher_weight``; that
  loss is reported as ``<name>_teacher``.

Task subclasses only say how gold is read and how predictions are written.
"""

import dataclasses
import itertools
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import numpy
import srsly
from spacy import util
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model, Optimizer, set_dropout_rate
from thinc.types import Ints1d

from ..model.tagger import (
    ViewScores,
    begin_cvt_update,
    clear_gradients,
    fill_trained_vectors,
    forward_view_sees_later_tokens,
    reads_a_listener,
)
from ..model.torch_settings import RELEASE_EVERY, release_freed_memory
from ..model.views import PRIMARY
from ..unlabeled import unlabeled_batches
from .distributions import aligned_targets, stored_components, teacher_entry, write_distributions
from .losses import IGNORE, cvt_loss, labeled_loss, soft_loss, softmax
from .component_settings import CVTSettings
from .unlabeled_optimizer import ScaledOptimizer, unlabeled_phase, warmup_scale

logger = logging.getLogger("spacy_cvt")

GoldTags = List[Optional[str]]  # per predicted token; None or "-" means no gold
Tagging = Tuple[numpy.ndarray, numpy.ndarray]  # one doc's tag ids and (n_tokens, n_tags) log probabilities


class CVTComponent(TrainablePipe):
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
        self.cfg: Dict[str, Any] = {
            "labels": [],
            "n_vector_dims": None,
            "n_tok2vec_dims": None,  # known after initialize; a loaded model needs it before its weights
            **training_settings,
            "raw_docs_seen": 0,  # raw docs CVT steps consumed: a sourced run goes on from there
            **task_settings,
        }
        self._unlabeled_batches: Optional[Iterator[List[Example]]] = None
        self._teacher_corpus: Optional[str] = None  # the raw text carries a teacher's labels
        self._step_losses: Optional[Dict[str, float]] = None
        self._n_unlabeled_steps = 0  # for the learning-rate ramp; restarts with the process
        self._n_updates = 0  # optimizer steps, for release_freed_memory
        self.loaded_not_initialized = False  # trained weights read from disk or bytes

    # --- what task subclasses define -------------------------------------------------

    @property
    def tag_names(self) -> List[str]:
        """The model's output classes, in column order."""
        return list(self.labels)

    def labels_from_example(self, example: Example) -> Iterable[str]:
        raise NotImplementedError

    def gold_tags(self, example: Example) -> GoldTags:
        raise NotImplementedError

    def decode(self, doc: Doc, log_probs: numpy.ndarray) -> numpy.ndarray:
        """Tag ids for one doc from its (n_tokens, n_tags) log probabilities."""
        return log_probs.argmax(axis=1)

    def write(self, doc: Doc, tags: List[str]) -> None:
        raise NotImplementedError

    # --- labels ----------------------------------------------------------------------

    @property
    def labels(self) -> tuple:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def trains_on_raw_text(self) -> bool:
        """Whether training runs CVT steps (an unlabeled corpus is open and steps > 0)."""
        return self._unlabeled_batches is not None and self.cfg["unlabeled_steps"] > 0

    @property
    def unlabeled_loss_key(self) -> str:
        return f"{self.name}_unlabeled"

    @property
    def teacher_loss_key(self) -> str:
        return f"{self.name}_teacher"

    @property
    def learns_from_teacher(self) -> bool:
        """Whether CVT steps read a teacher corpus and train the primary module on its labels."""
        return self.trains_on_raw_text and self._teacher_corpus is not None

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

    # --- initialization and (de)serialization ---------------------------------------

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
        unlabeled_corpus: Optional[str] = None,
        teacher_corpus: Optional[str] = None,
    ) -> None:
        """Read the labels, build the model, and open the unlabeled stream.

        unlabeled_corpus: dot name of a corpus in the config, e.g. "corpora.unlabeled".
        teacher_corpus: instead of unlabeled_corpus, raw text a teacher pipeline has
            annotated (``spacy apply``), e.g. "corpora.silver": CVT steps read it as raw
            text and also train the primary module on the teacher's labels.
        """
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
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
        self.cfg["raw_docs_seen"] = 0
        self.loaded_not_initialized = False
        self._build_model(rebuild=True)
        fill_trained_vectors(self.model, self.vocab)
        self._open_raw_text(nlp, unlabeled_corpus, teacher_corpus)

    def resume_unlabeled(
        self, nlp: Language, unlabeled_corpus: Optional[str], teacher_corpus: Optional[str] = None
    ) -> None:
        """Open the raw-text stream of a trained (sourced) component where it stopped.

        The stream is read again from the start with the same seed, and the
        ``raw_docs_seen`` docs that earlier CVT steps consumed are skipped, so the next
        batch is the one an uninterrupted run would have read (given the same
        unlabeled_batch_size and shuffle_window). Skipping tokenizes those docs again.
        """
        self._open_raw_text(nlp, unlabeled_corpus, teacher_corpus)

    def _open_raw_text(self, nlp: Optional[Language], unlabeled_corpus: Optional[str], teacher_corpus: Optional[str]) -> None:
        """Open the raw text: plain (unlabeled_corpus) or annotated by a teacher (teacher_corpus)."""
        section = f"[initialize.components.{self.name}]"
        if unlabeled_corpus and teacher_corpus:
            raise ValueError(
                f"{section} sets both unlabeled_corpus ('{unlabeled_corpus}') and teacher_corpus "
                f"('{teacher_corpus}'). The teacher's corpus is the raw text CVT steps read: keep "
                "one of them (set the other to null)."
            )
        if teacher_corpus and not self.cfg["unlabeled_steps"]:
            raise ValueError(
                f"{section} teacher_corpus = '{teacher_corpus}', but [components.{self.name}] "
                "unlabeled_steps = 0: the teacher's labels are learned in the raw-text steps. "
                "Set unlabeled_steps to 1 or more, or teacher_corpus = null."
            )
        self._teacher_corpus = teacher_corpus
        self._open_unlabeled(nlp, teacher_corpus or unlabeled_corpus)

    def _check_teacher_labels(self, examples: List[Example], corpus_name: str) -> None:
        """The teacher corpus must carry this component's annotation, with known labels."""
        if self.cfg["teacher_targets"] == "distributions":
            self._teacher_distributions(examples, corpus_name)
            return
        found = {label for example in examples for label in self.labels_from_example(example)}
        if not found:
            raise ValueError(
                f"{self.name}: the teacher corpus '{corpus_name}' has no {self.task} in its "
                f"first {len(examples)} docs. Annotate the raw text with a pipeline that sets "
                f"what {self.name} learns (python -m spacy apply TEACHER raw.txt silver.spacy), "
                "and point the corpus at its output."
            )
        unknown = sorted(found - set(self.labels))
        if unknown:
            raise ValueError(
                f"{self.name}: the teacher corpus '{corpus_name}' has {self.task} {unknown} that "
                f"are not among the component's labels {list(self.labels)}. Use a teacher trained "
                f"on the same labels, or add them to [initialize.components.{self.name}.labels]."
            )

    def _teacher_distributions(self, examples: List[Example], corpus_name: str) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """The teacher's distributions for the batch's tokens, in this component's columns:
        (targets, mask) over all the batch's tokens. Raises, naming the corpus, if a doc has
        none for this component or has tags the component does not know."""
        tag_names = self.tag_names
        rows, masks = [], []
        for example in examples:
            entry = teacher_entry(example.reference, self.name)
            if entry is None:
                found = stored_components(example.reference)
                raise ValueError(
                    f"{self.name}: teacher_targets = 'distributions', but the doc "
                    f"'{example.reference.text[:80]}' of the teacher corpus '{corpus_name}' has "
                    + (f"distributions from {found} and none from a component named '{self.name}'. "
                       if found else "no label distributions. ")
                    + "Annotate the raw text with a CVT teacher that stores them "
                    f"([components.NAME] store_distributions = true in the teacher's config.cfg, "
                    "then spacy apply), or set teacher_targets = 'labels'."
                )
            try:
                targets, mask = aligned_targets(example, entry, tag_names)
            except KeyError as error:
                raise ValueError(
                    f"{self.name}: the teacher corpus '{corpus_name}' has distributions over the "
                    f"tags {error.args[0]}, which are not among the component's tags "
                    f"{tag_names}. Use a teacher trained on the same labels, or add them to "
                    f"[initialize.components.{self.name}.labels]."
                ) from None
            rows.append(targets)
            masks.append(mask)
        return numpy.concatenate(rows), numpy.concatenate(masks)

    def _build_model(self, rebuild: bool = False) -> None:
        """Create the torch module from the shapes in cfg (labels, vector and tok2vec widths)."""
        if rebuild:
            self.model.shims.clear()
        elif self.model.shims:
            return
        self.model.set_dim("nO", len(self.tag_names), force=True)
        self.model.set_dim("nV", self.cfg["n_vector_dims"] or 0, force=True)
        if self.cfg.get("n_tok2vec_dims") is not None:  # None: read from the layer (also pipelines saved before 2026-11-28)
            self.model.set_dim("nT", self.cfg["n_tok2vec_dims"], force=True)
        self.model.initialize()
        self.cfg["n_tok2vec_dims"] = self.model.get_dim("nT")
        clear_gradients(self.model)

    def _open_unlabeled(self, nlp: Optional[Language], corpus_name: Optional[str]) -> None:
        self._unlabeled_batches = None
        self._n_unlabeled_steps = 0  # a new model starts its learning-rate ramp again
        if corpus_name is None:
            if self.cfg["unlabeled_steps"]:
                logger.warning(
                    "%s: no unlabeled_corpus in [initialize.components.%s], so it trains "
                    "on labeled data only (the supervised BiLSTM baseline).",
                    self.name,
                    self.name,
                )
            return
        if nlp is None:
            raise ValueError(
                f"{self.name}.initialize needs nlp= to find the unlabeled corpus "
                f"'{corpus_name}' in the pipeline's config."
            )
        corpus = resolve_corpus(nlp, corpus_name, self.name)
        if not self.cfg["unlabeled_steps"]:
            logger.warning(
                "%s: unlabeled_steps = 0, so the unlabeled corpus '%s' is not used.",
                self.name,
                corpus_name,
            )
            return
        self._check_views_can_train_on_raw_text(corpus_name)
        batches = unlabeled_batches(
            corpus,
            nlp,
            batch_size=self.cfg["unlabeled_batch_size"],
            shuffle_window=self.cfg["shuffle_window"],
            seed=self.cfg["seed"],
            corpus_name=corpus_name,
        )
        skipped = 0
        while skipped < self.cfg["raw_docs_seen"]:
            skipped += len(next(batches))
        first = next(batches)  # fail now, not mid-training, if the corpus is empty
        if self._teacher_corpus is not None:
            self._check_teacher_labels(first, corpus_name)
        self._unlabeled_batches = itertools.chain([first], batches)

    def _check_views_can_train_on_raw_text(self, corpus_name: str) -> None:
        """Refuse model inputs that break CVT on raw text, before training starts."""
        listener = reads_a_listener(self.model)
        if listener is not None:
            raise ValueError(
                f"{self.name}: its model reads a shared listener ('{listener}') and is set to "
                f"train on the unlabeled corpus '{corpus_name}'. A Tok2Vec/Transformer "
                "listener only has outputs for the docs its upstream component processed in "
                "the same update, so it cannot run on unlabeled batches. Remove "
                f"[components.{self.name}.model.tok2vec] (CVT has its own encoder), or set "
                f"[initialize.components.{self.name}] unlabeled_corpus = null."
            )
        if self.model.layers and forward_view_sees_later_tokens(self.model, self.vocab):
            raise ValueError(
                f"{self.name}: the model's tok2vec layer mixes information across tokens "
                "(e.g. a window encoder), so CVT's forward view would see later tokens and "
                "the auxiliary views would learn nothing. With raw text, use a token-local "
                "layer (an embedding such as spacy.MultiHashEmbed.v2, no encoder) or none."
            )

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "CVTComponent":
        deserialize = {
            "cfg": lambda p: self.cfg.update(srsly.read_json(p)),
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
            "model": lambda p: self._load_model(Path(p).read_bytes()),
        }
        util.from_disk(path, deserialize, exclude)
        self.loaded_not_initialized = True
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "CVTComponent":
        deserialize = {
            "cfg": lambda b: self.cfg.update(srsly.json_loads(b)),
            "vocab": lambda b: self.vocab.from_bytes(b, exclude=exclude),
            "model": self._load_model,
        }
        util.from_bytes(bytes_data, deserialize, exclude)
        self.loaded_not_initialized = True
        return self

    def _load_model(self, data: bytes) -> None:
        """Build the torch module from the loaded cfg, then read its weights."""
        self._build_model(rebuild=True)
        self.model.from_bytes(data)

    # --- prediction ------------------------------------------------------------------

    def predict(self, docs: Iterable[Doc]) -> List[Tagging]:
        """Each doc's decoded tag ids, with the log probabilities they were decoded from."""
        docs = list(docs)
        scores = self.model.predict(docs)[PRIMARY]
        log_probs = self.model.ops.to_numpy(self.model.ops.xp.log(softmax(self.model.ops, scores) + 1e-12))
        taggings = []
        start = 0
        for doc in docs:
            doc_log_probs = log_probs[start : start + len(doc)]
            taggings.append((self.decode(doc, doc_log_probs), doc_log_probs))
            start += len(doc)
        return taggings

    def set_annotations(self, docs: Iterable[Doc], taggings: List[Tagging]) -> None:
        names = self.tag_names
        for doc, (ids, log_probs) in zip(docs, taggings):
            self.write(doc, [names[i] for i in ids])
            if self.store_distributions:
                write_distributions(doc, self.name, names, numpy.exp(log_probs))

    # --- training --------------------------------------------------------------------

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
        if self.trains_on_raw_text:
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
        gold = self.model.ops.asarray1i(self._gold_ids(examples))
        return labeled_loss(self.model.ops, scores[PRIMARY], gold, self.cfg["label_smoothing"])

    def _gold_ids(self, examples: Iterable[Example], source: str = "gold") -> Ints1d:
        index = {tag: i for i, tag in enumerate(self.tag_names)}
        ids: List[int] = []
        for example in examples:
            for position, tag in enumerate(self.gold_tags(example)):
                if tag in (None, "", "-"):
                    ids.append(IGNORE)
                elif tag in index:
                    ids.append(index[tag])
                else:
                    raise ValueError(
                        f"{self.name}: the {source} {self.task[:-1]} '{tag}' (token {position} of "
                        f"'{example.reference.text[:80]}') is not among the component's "
                        f"labels {list(self.labels)}. Initialize on data that contains it, "
                        f"or add it to [initialize.components.{self.name}.labels]."
                    )
        return numpy.asarray(ids, dtype="int32")

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the labeled step, then ``unlabeled_steps`` CVT steps on raw text.

        Every ``RELEASE_EVERY`` steps, the memory freed by earlier batches goes back to the
        system (see ``torch_settings``): without it, training memory grows step after step.
        """
        self._n_updates += 1
        if self._n_updates % RELEASE_EVERY == 0:
            release_freed_memory()
        scale = self.cfg["learn_rate_scale"]
        self.model.finish_update(sgd if scale == 1.0 else ScaledOptimizer(sgd, scale))
        clear_gradients(self.model)
        if not self.trains_on_raw_text:
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
        ``unlabeled_optimizer``). When the raw text comes from a teacher corpus, the
        primary module also learns the teacher's labels (``teacher_weight``).
        ``batch``: docs or examples to use instead of the next raw-text batch.
        Returns the losses, keyed as in the losses dict.
        """
        if batch is None:
            if self._unlabeled_batches is None:
                raise ValueError(f"{self.name}: no unlabeled corpus was set up at initialize.")
            batch = next(self._unlabeled_batches)
            self.cfg["raw_docs_seen"] += len(batch)
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
            teacher_loss, d_primary = self._teacher_loss(examples, scores[PRIMARY])
            d_scores[PRIMARY] = d_primary * self.cfg["teacher_weight"]
            losses[self.teacher_loss_key] = teacher_loss * self.cfg["teacher_weight"]
        backprop(d_scores)
        self._n_unlabeled_steps += 1
        scale = warmup_scale(self._n_unlabeled_steps, self.cfg["unlabeled_warmup_steps"])
        self.model.finish_update(unlabeled_phase(sgd, scale * self.cfg["learn_rate_scale"]))
        clear_gradients(self.model)
        return losses

    def _teacher_loss(self, examples: List[Example], primary: Any) -> Tuple[float, Any]:
        """The primary module against the teacher corpus: its labels or its distributions."""
        ops = self.model.ops
        if self.cfg["teacher_targets"] == "distributions":
            targets, mask = self._teacher_distributions(examples, self._teacher_corpus)
            return soft_loss(ops, primary, ops.asarray2f(targets), ops.asarray2f(mask))
        silver = ops.asarray1i(self._gold_ids(examples, source=f"teacher corpus '{self._teacher_corpus}'"))
        return labeled_loss(ops, primary, silver, self.cfg["label_smoothing"])


def resolve_corpus(nlp: Language, corpus_name: str, component: str) -> Callable[[Language], Iterable[Example]]:
    """Resolve a dot name like "corpora.unlabeled" in the pipeline's config.

    The config is interpolated first so that ``${paths.raw}`` becomes the path.
    """
    config = nlp.config.interpolate()
    section: Any = config
    for part in corpus_name.split("."):
        if not isinstance(section, dict) or part not in section:
            raise ValueError(
                f"[initialize.components.{component}] unlabeled_corpus = '{corpus_name}', "
                f"but the config has no [{corpus_name}] section. Add one, e.g.\n"
                f"[{corpus_name}]\n@readers = \"spacy-cvt.PlainTextCorpus.v1\"\n"
                "path = ${paths.raw}\nor set unlabeled_corpus = null to train without raw text."
            )
        section = section[part]
    return util.resolve_dot_names(config, [corpus_name])[0]

