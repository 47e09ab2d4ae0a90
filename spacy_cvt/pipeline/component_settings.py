"""What every CVT component shares, in one place: ``CVTSettings`` and the default model.

Each task factory (``cvt_ner``, ``cvt_tagger``, ``cvt_chunker``) lists only its own
settings and takes a ``CVTSettings``; ``cvt_factory`` registers it with spaCy so that
configs keep the shared settings as flat keys (``[components.cvt_ner] unlabeled_steps = 1``)
and spaCy validates them as usual, and gives it ``DEFAULT_MODEL``.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Dict

from spacy.language import Language
from thinc.api import Config

from ..flat_settings import flat_settings
from ..model.model_settings import ModelSettings

TEACHER_TARGETS = ("labels", "distributions")

# ``ModelSettings``' defaults, the small CPU-friendly size; ``configs/*_paper.cfg`` has the
# paper's sizes (1024/512 LSTM, 512-d modules).
DEFAULT_MODEL = Config(
    {"model": {"@architectures": "spacy-cvt.CVTTagger.v1", **dataclasses.asdict(ModelSettings()), "nO": None}}
)["model"]


@dataclass(frozen=True)
class CVTSettings:
    """How a CVT component trains; they act in ``base.py``, ``unlabeled_stream.py`` and ``teacher.py``.

    unlabeled_steps: CVT steps on unlabeled text after each labeled step (0: supervised only).
    unlabeled_batch_size: unlabeled sentences per CVT step.
    unlabeled_dropout: the students' dropout in a CVT step (the teacher has none).
    unlabeled_warmup_steps: CVT steps over which their learning rate ramps up from 0.
    label_smoothing: of the labeled loss.
    learn_rate_scale: multiplies the pipeline's learning rate for this component's weights
        (its tok2vec layer's included; a listener's upstream component keeps its own rate),
        in both kinds of step. A CVT head on a transformer fine-tuned at 5e-5 needs about
        40 to train at the cvt configs' 2e-3.
    shuffle_window: unlabeled docs shuffled and bucketed by length together.
    seed: of the unlabeled text's shuffle.
    teacher_weight: weight of the teacher's labels in a CVT step, when the unlabeled text is
        a teacher corpus (``[initialize.components.NAME] teacher_corpus``).
    teacher_targets: what the primary module learns from a teacher corpus: "labels" (the
        teacher's annotation as hard targets, with label smoothing; any pipeline can be
        the teacher) or "distributions" (soft targets: the per-token label distributions
        a CVT teacher wrote with ``store_distributions``).
    store_distributions: also write the primary view's per-token label distributions to
        ``doc._.cvt_distributions`` when annotating, so that ``spacy apply`` keeps them in
        the teacher corpus it writes. Not a training setting, so the component keeps it
        out of its saved cfg. Like the fields above, the pipeline's config sets it at
        load, so it can be switched on for a pipeline that was trained without it.
    """

    unlabeled_steps: int = 1
    unlabeled_batch_size: int = 64
    unlabeled_dropout: float = 0.2
    unlabeled_warmup_steps: int = 500
    label_smoothing: float = 0.1
    learn_rate_scale: float = 1.0
    shuffle_window: int = 10000
    seed: int = 0
    teacher_weight: float = 1.0
    teacher_targets: str = "labels"
    store_distributions: bool = False

    def check(self, component: str) -> None:
        """Refuse values training cannot use, naming the config section."""
        if self.unlabeled_steps < 0 or self.unlabeled_warmup_steps < 0:
            raise ValueError(
                f"[components.{component}]: unlabeled_steps and unlabeled_warmup_steps must be >= 0 "
                f"(got {self.unlabeled_steps} and {self.unlabeled_warmup_steps})."
            )
        if self.learn_rate_scale <= 0:
            raise ValueError(f"[components.{component}]: learn_rate_scale must be > 0 (got {self.learn_rate_scale}).")
        if self.teacher_weight < 0:
            raise ValueError(f"[components.{component}]: teacher_weight must be >= 0 (got {self.teacher_weight}).")
        if self.teacher_targets not in TEACHER_TARGETS:
            raise ValueError(
                f"[components.{component}] teacher_targets must be one of {list(TEACHER_TARGETS)}, "
                f"got '{self.teacher_targets}'."
            )
        if self.unlabeled_batch_size < 1 or self.shuffle_window < 1:
            raise ValueError(
                f"[components.{component}]: unlabeled_batch_size and shuffle_window must be >= 1 "
                f"(got {self.unlabeled_batch_size} and {self.shuffle_window})."
            )


def cvt_factory(name: str, *, default_config: Dict[str, Any], **factory_kwargs: Any) -> Callable:
    """``Language.factory`` for a task function that takes ``settings: CVTSettings``.

    The registered factory takes the task's own arguments plus every ``CVTSettings``
    field, as flat config keys with the dataclass's defaults (see ``flat_settings``),
    and ``model`` with ``DEFAULT_MODEL`` as its default.
    """

    def register(make: Callable) -> Callable:
        defaults = {"model": DEFAULT_MODEL, **default_config, **dataclasses.asdict(CVTSettings())}
        return Language.factory(name, default_config=defaults, **factory_kwargs)(flat_settings(make, CVTSettings))

    return register
