"""The unlabeled text a CVT component's unlabeled steps read, opened from the pipeline's config.

``[initialize.components.NAME]`` names it as a corpus of the config: ``unlabeled_corpus``
(plain unlabeled text, read by the readers of ``spacy_cvt/unlabeled.py``) or ``teacher_corpus``
(unlabeled text another pipeline annotated, see ``teacher.py``). ``open_unlabeled_stream``
checks everything it can before training starts (the corpus exists and is not empty, the model
can learn from unlabeled text) and goes on where an earlier run stopped; the component then
takes an ``UnlabeledStream.next_batch()`` per CVT step.
"""

import functools
import logging
from typing import Any, Callable, Iterable, Iterator, List, Mapping, Optional

from spacy import util
from spacy.language import Language
from spacy.training import Example
from spacy.vocab import Vocab
from thinc.api import Model

from ..model.tagger import forward_view_sees_later_tokens, reads_a_listener
from ..renamed import upgraded_paths
from ..unlabeled import unlabeled_batches

logger = logging.getLogger("spacy_cvt")


class UnlabeledStream:
    """Endless batches of unlabeled text (see ``unlabeled_batches``), one per CVT step.

    corpus_name: the config's dot name of the corpus, for messages.
    is_teacher_corpus: the docs carry a teacher's annotation (``teacher_corpus``).
    read_corpus: one pass over the corpus, apart from the batches, for checks that must
        see every doc before training starts (a teacher corpus's labels).
    """

    def __init__(
        self,
        batches: Iterator[List[Example]],
        corpus_name: str,
        *,
        is_teacher_corpus: bool,
        read_corpus: Callable[[], Iterable[Example]],
    ):
        self.corpus_name = corpus_name
        self.is_teacher_corpus = is_teacher_corpus
        self.read_corpus = read_corpus
        self._batches = batches
        self._ahead: Optional[List[Example]] = None

    def peek(self) -> List[Example]:
        """The next batch, which ``next_batch`` still returns."""
        if self._ahead is None:
            self._ahead = next(self._batches)
        return self._ahead

    def next_batch(self) -> List[Example]:
        batch = self.peek()
        self._ahead = None
        return batch

    def resume(self, docs_seen: int) -> None:
        """Go on where a run whose CVT steps consumed ``docs_seen`` docs stopped.

        The stream reads the corpus from the start with the same seed, so skipping those
        docs makes the next batch the one an uninterrupted run would have read (given the
        same unlabeled_batch_size and shuffle_window). Skipping tokenizes them again.
        """
        skipped = 0
        while skipped < docs_seen:
            skipped += len(self.next_batch())


def open_unlabeled_stream(
    nlp: Optional[Language],
    model: Model,
    *,
    component: str,
    unlabeled_corpus: Optional[str],
    teacher_corpus: Optional[str],
    cfg: Mapping[str, Any],
) -> Optional[UnlabeledStream]:
    """The unlabeled text of ``component``'s CVT steps, after the ``cfg["unlabeled_docs_seen"]`` docs
    earlier steps consumed; None (with a warning) if it trains on labeled data only.

    cfg: the component's cfg (unlabeled_steps, unlabeled_batch_size, shuffle_window, seed,
        unlabeled_docs_seen).
    Raises, naming the config section to fix, for a missing or empty corpus, both corpora
    set, a teacher corpus without CVT steps, or a model that cannot learn from unlabeled text.
    """
    corpus_name = chosen_corpus(component, unlabeled_corpus, teacher_corpus, cfg["unlabeled_steps"])
    if corpus_name is None:
        if cfg["unlabeled_steps"]:
            logger.warning(
                "%s: no unlabeled_corpus in [initialize.components.%s], so it trains "
                "on labeled data only (the supervised BiLSTM baseline).",
                component,
                component,
            )
        return None
    if nlp is None:
        raise ValueError(
            f"{component}.initialize needs nlp= to find the unlabeled corpus "
            f"'{corpus_name}' in the pipeline's config."
        )
    corpus = resolve_corpus(nlp, corpus_name, component)
    if not cfg["unlabeled_steps"]:
        logger.warning("%s: unlabeled_steps = 0, so the unlabeled corpus '%s' is not used.", component, corpus_name)
        return None
    check_views_can_train_on_unlabeled(model, nlp.vocab, component, corpus_name)
    batches = unlabeled_batches(
        corpus,
        nlp,
        batch_size=cfg["unlabeled_batch_size"],
        shuffle_window=cfg["shuffle_window"],
        seed=cfg["seed"],
        corpus_name=corpus_name,
    )
    stream = UnlabeledStream(
        batches, corpus_name, is_teacher_corpus=teacher_corpus is not None, read_corpus=functools.partial(corpus, nlp)
    )
    stream.resume(cfg["unlabeled_docs_seen"])
    stream.peek()  # fail now, not mid-training, if the corpus is empty
    return stream


def chosen_corpus(
    component: str, unlabeled_corpus: Optional[str], teacher_corpus: Optional[str], unlabeled_steps: int
) -> Optional[str]:
    """The corpus CVT steps read: the unlabeled or the teacher corpus, not both."""
    section = f"[initialize.components.{component}]"
    if unlabeled_corpus and teacher_corpus:
        raise ValueError(
            f"{section} sets both unlabeled_corpus ('{unlabeled_corpus}') and teacher_corpus "
            f"('{teacher_corpus}'). The teacher's corpus is the unlabeled text CVT steps read: keep "
            "one of them (set the other to null)."
        )
    if teacher_corpus and not unlabeled_steps:
        raise ValueError(
            f"{section} teacher_corpus = '{teacher_corpus}', but [components.{component}] "
            "unlabeled_steps = 0: the teacher's labels are learned in the unlabeled steps. "
            "Set unlabeled_steps to 1 or more, or teacher_corpus = null."
        )
    return teacher_corpus or unlabeled_corpus


def resolve_corpus(nlp: Language, corpus_name: str, component: str) -> Callable[[Language], Iterable[Example]]:
    """Resolve a dot name like "corpora.unlabeled" in the pipeline's config.

    The config is interpolated first so that ``${paths.unlabeled}`` becomes the path; where
    [paths] leaves it unset but sets its earlier name (``--paths.raw FILE``), the path is that
    one's value (``renamed.upgraded_paths``, with a warning).
    """
    config = nlp.config.copy()
    if isinstance(config.get("paths"), dict):
        config["paths"] = upgraded_paths(config["paths"])
    config = config.interpolate()
    section: Any = config
    for part in corpus_name.split("."):
        if not isinstance(section, dict) or part not in section:
            raise ValueError(
                f"[initialize.components.{component}] unlabeled_corpus = '{corpus_name}', "
                f"but the config has no [{corpus_name}] section. Add one, e.g.\n"
                f"[{corpus_name}]\n@readers = \"spacy-cvt.PlainTextCorpus.v1\"\n"
                "path = ${paths.unlabeled}\nor set unlabeled_corpus = null to train without unlabeled text."
            )
        section = section[part]
    return util.resolve_dot_names(config, [corpus_name])[0]


def check_views_can_train_on_unlabeled(model: Model, vocab: Vocab, component: str, corpus_name: str) -> None:
    """Refuse model inputs that break CVT on unlabeled text, before training starts."""
    listener = reads_a_listener(model)
    if listener is not None:
        raise ValueError(
            f"{component}: its model reads a shared listener ('{listener}') and is set to "
            f"train on the unlabeled corpus '{corpus_name}'. A Tok2Vec/Transformer "
            "listener only has outputs for the docs its upstream component processed in "
            "the same update, so it cannot run on unlabeled batches. Remove "
            f"[components.{component}.model.tok2vec] (CVT has its own encoder), or set "
            f"[initialize.components.{component}] unlabeled_corpus = null."
        )
    if model.layers and forward_view_sees_later_tokens(model, vocab):
        raise ValueError(
            f"{component}: the model's tok2vec layer mixes information across tokens "
            "(e.g. a window encoder), so CVT's forward view would see later tokens and "
            "the auxiliary views would learn nothing. With unlabeled text, use a token-local "
            "layer (an embedding such as spacy.MultiHashEmbed.v2, no encoder) or none."
        )
