"""What the project compares, stated once: the tasks (their data, the heads their systems train,
the score each is judged by), the systems (the config each trains and the overrides that make it
that system) and the offline encoders (the names their runs carry, their learning rate).

Every command of this package reads these tables, and so do the tests: project.yml passes only
a run's choices (task, seeds, budgets, device, paths), so that `--vars.task pos` alone trains the
tagger heads, and weasel never has to look one var up by another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple


@dataclass(frozen=True)
class Task:
    """One sequence-tagging task: where its data is, which head each system trains for it, and
    which of `spacy evaluate`'s scores compares the systems."""

    dataset: str  # its folder under the project's data_dir (../shared/data, or assets/)
    description: str
    cvt_head: str  # configs/cvt_HEAD.cfg for cvt and bilstm: ner, tagger or chunker
    spacy_head: str  # configs/cnn_HEAD.cfg and trf_HEAD.cfg: ner or tagger
    score_key: str
    # where the cvt head writes elsewhere than spaCy's: cvt_chunker's doc.spans["chunks"]
    cvt_score_key: Optional[str] = None
    # its cvt head has a teacher config (configs/cvt-teacher_HEAD.cfg), so `all` trains cvt-teacher
    teacher: bool = False


TASKS: Dict[str, Task] = {
    "ner": Task("wnut17", "WNUT-17 emerging entities", "ner", "ner", "ents_f", teacher=True),
    "pos": Task("ud_english_ewt", "UD English EWT part-of-speech tags (XPOS)", "tagger", "tagger", "tag_acc"),
    # chunks in doc.spans["chunks"] for cvt_chunker and in doc.ents for spaCy's ner (convert writes both)
    "chunk": Task("conll2000", "CoNLL-2000 chunks", "chunker", "ner", "ents_f", cvt_score_key="spans_chunks_f"),
    "aspect": Task("semeval14", "SemEval-2014 aspect terms (laptops + restaurants)", "ner", "ner", "ents_f",
                   teacher=True),
}
DEFAULT_TASK = "ner"


@dataclass(frozen=True)
class Encoder:
    """One offline encoder: the names its transformer and the CVT it teaches train, evaluate and
    record under (so that one encoder's runs are never compared or recorded as another's), and
    its transformer's peak learning rate."""

    trf_system: str
    taught_system: str
    # MPNet-base's last layer is about 3x smaller in scale than MiniLM's, so its new head learns
    # about 3x more slowly at one rate (docs/experiments.md, "MPNet-base: a BERT-base-size transformer")
    trf_learn_rate: float

    @property
    def systems(self) -> Tuple[str, str]:
        return self.trf_system, self.taught_system


ENCODERS: Dict[str, Encoder] = {
    "minilm": Encoder("trf", "cvt-teacher", 5e-5),
    "mpnet-base": Encoder("trf-base", "cvt-teacher-base", 1e-4),
}
DEFAULT_ENCODER = "minilm"


@dataclass(frozen=True)
class System:
    """How one system trains: its config (by the task's head) and the overrides that make it this
    system rather than another one of the same config. `inputs` are the files it trains from
    beyond train and dev, each a config path it sets."""

    config: str  # configs/CONFIG.cfg with {cvt_head} or {spacy_head}
    head: str  # "cvt" or "spacy": which of the task's heads names its component
    inputs: Tuple[str, ...] = ()  # of "unlabeled", "vectors", "teacher", "transformer"
    # fixed overrides, {component} being the cvt head's component (cvt_ner, cvt_tagger, cvt_chunker)
    fixed: Dict[str, Any] = field(default_factory=dict)
    schedule: bool = True  # its learning-rate schedule has total_steps, set to the budget


# The systems `all` compares, by kind; each encoder's transformer and taught CVT are the kinds
# "trf" and "cvt-teacher" under that encoder's names (system_kind).
KINDS: Dict[str, System] = {
    "cvt": System("cvt_{cvt_head}", "cvt", ("unlabeled", "vectors")),
    # the cvt config without unlabeled text: the supervised BiLSTM
    "bilstm": System("cvt_{cvt_head}", "cvt", ("vectors",),
                     {"components.{component}.unlabeled_steps": 0,
                      "initialize.components.{component}.unlabeled_corpus": None}),
    "cnn": System("cnn_{spacy_head}", "spacy", ("vectors",), schedule=False),
    "trf": System("trf_{spacy_head}", "spacy", ("transformer",)),
    "cvt-teacher": System("cvt-teacher_{cvt_head}", "cvt", ("teacher",)),
}
SYSTEMS = ("cvt", "bilstm", "cnn", "trf")  # `all`'s four, then its taught CVT where the task has a teacher
# Every system a table may show, in table order: `all`'s, then each other encoder's pair.
ORDER = (*SYSTEMS, *(name for enc in ENCODERS.values() for name in enc.systems if name not in SYSTEMS))
# The budget var (project.yml) each kind trains with: cvt-teacher trains cvt's budget.
BUDGETS = {"cvt": "cvt_steps", "bilstm": "bilstm_steps", "cnn": "cnn_steps", "trf": "trf_steps",
           "cvt-teacher": "cvt_steps"}
# spacy-cvt's span taggers, which decode with `outside_weight` (spacy_cvt.cli.tune.SPAN_TAGGERS; not
# imported, as that loads spaCy): `train` chooses it on dev for every system whose component is one
SPAN_TAGGERS = ("cvt_ner", "cvt_chunker")


def known_task(task: str) -> Task:
    """A built-in task, or a user's own corpus that `convert --corpus` adopted (corpus/TASK/task.json)."""
    if task in TASKS:
        return TASKS[task]
    from .own_corpus import load_task

    own = load_task(task)
    if own is None:
        raise ValueError(f"unknown task {task!r}: the project knows {', '.join(TASKS)} (spacy_cvt_project/catalog.py, "
                         "TASKS), and your own corpus runs as a task with --vars.corpus FOLDER (train/dev/test.spacy)")
    return own


def system_encoder(system: str) -> Optional[str]:
    """The encoder whose transformer trains `system` or teaches it; None for the others."""
    return next((name for name, enc in ENCODERS.items() if system in enc.systems), None)


def system_kind(system: str) -> str:
    """The kind a system trains as: trf-base is a "trf" (with MPNet-base), every other system
    outside ENCODERS is its own kind."""
    encoder = system_encoder(system)
    if encoder is None:
        if system not in KINDS:
            raise ValueError(f"unknown system {system!r}: the project knows {', '.join(ORDER)}")
        return system
    return ("trf", "cvt-teacher")[ENCODERS[encoder].systems.index(system)]


def teacher_of(system: str) -> Optional[str]:
    """The transformer system that taught `system` (its encoder's), None for an untaught one."""
    encoder = system_encoder(system)
    if encoder is None or system_kind(system) != "cvt-teacher":
        return None
    return ENCODERS[encoder].trf_system


def score_key(task: str, system: str) -> str:
    """The score a system is compared by on a task: its head's."""
    spec = known_task(task)
    head = KINDS[system_kind(system)].head
    return spec.cvt_score_key if head == "cvt" and spec.cvt_score_key else spec.score_key


def component(task: str, system: str) -> str:
    """The trained component's name in the system's config for the task."""
    head = KINDS[system_kind(system)].head
    spec = known_task(task)
    return f"cvt_{spec.cvt_head}" if head == "cvt" else spec.spacy_head


def tunes_decoding(task: str, system: str) -> bool:
    """Whether `train` chooses the system's `outside_weight` on dev after training: for all of
    cvt, bilstm and the taught systems on a span task alike, so that no tuned system is compared
    with an untuned one that could have been tuned (spaCy's `ner` and the taggers have no such
    setting)."""
    return component(task, system) in SPAN_TAGGERS


def config_path(task: str, system: str) -> str:
    """The config the system trains for the task, relative to the project."""
    spec = known_task(task)
    return f"configs/{KINDS[system_kind(system)].config.format(cvt_head=spec.cvt_head, spacy_head=spec.spacy_head)}.cfg"


def encoder_vars(encoder: str) -> Dict[str, str]:
    """The project vars that train `encoder`'s runs, as `--vars.NAME VALUE` passes them."""
    enc = ENCODERS[encoder]
    return {"encoder": encoder, "trf_system": enc.trf_system, "taught_system": enc.taught_system}


def encoder_args(encoder: str) -> str:
    """`--vars.encoder E --vars.trf_system ... --vars.taught_system ...`: what runs `encoder`'s systems."""
    return " ".join(f"--vars.{name} {value}" for name, value in encoder_vars(encoder).items())
