"""The command lines a system's runs execute: `spacy train` with the system's config and
overrides for a task and seed, a span tagger's decoding tuned on dev, and `spacy evaluate`.

One function composes each command, so that what `train` runs and what the stale check of
recorded runs (results.py) compares against are the same composition. The overrides come in
two kinds: *fixed* ones make the system what it is (bilstm is the cvt config without unlabeled text,
trf trains at its encoder's learning rate) and are always today's; *chosen* ones are a run's
choices (data, seed, budget, vectors, where the log goes), which a recorded run keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer

from . import catalog
from .model_size import write_size
from .per_seed import SEED, run_seed


@dataclass(frozen=True)
class Choices:
    """A run's choices, as project.yml's vars pass them."""

    task: str
    steps: int
    eval_frequency: int
    vectors: str = "corpus/vectors"
    transformer: str = "assets/minilm"
    unlabeled: str = "corpus/unlabeled.txt"


def fixed_overrides(task: str, system: str) -> Dict[str, Any]:
    """The overrides that make `system` what it is on `task` (today's, always)."""
    kind = catalog.system_kind(system)
    name = catalog.component(task, system)
    fixed = {key.format(component=name): value for key, value in catalog.KINDS[kind].fixed.items()}
    if kind == "trf":
        fixed["training.optimizer.learn_rate.initial_rate"] = catalog.ENCODERS[catalog.system_encoder(system)].trf_learn_rate
    return fixed


def corpus_overrides(task: str) -> Dict[str, Any]:
    """The task's train and dev files, as `convert` writes them."""
    return {"paths.train": f"corpus/{task}/train.spacy", "paths.dev": f"corpus/{task}/dev.spacy"}


def input_overrides(system: str, choices: Choices) -> Dict[str, Any]:
    """The files the system trains from beyond train and dev (catalog's `inputs`), as the run chose them."""
    teacher = catalog.teacher_of(system)
    inputs = {
        "unlabeled": {"paths.unlabeled": choices.unlabeled},
        "vectors": {"paths.vectors": choices.vectors},
        "transformer": {"paths.transformer": choices.transformer},
        "teacher": {"paths.teacher_corpus": f"corpus/{choices.task}/{teacher}_teacher_corpus.spacy",
                    "paths.vectors": f"corpus/{choices.task}/{teacher}_teacher_vectors"},
    }
    chosen: Dict[str, Any] = {}
    for name in catalog.KINDS[catalog.system_kind(system)].inputs:
        chosen.update(inputs[name])
    return chosen


def run_folder(task: str, system: str) -> str:
    """Where a system's runs live under training/ and metrics/ (a lever's elsewhere: levers.py)."""
    return f"{task}/{system}"


def chosen_overrides(system: str, choices: Choices, seed: Any, folder: Optional[str] = None) -> Dict[str, Any]:
    """The overrides that are the run's choices: its data and inputs, seed, budget and log (in
    metrics/FOLDER, by default the system's run_folder)."""
    task, spec = choices.task, catalog.KINDS[catalog.system_kind(system)]
    chosen = {**corpus_overrides(task), "system.seed": seed, **input_overrides(system, choices)}
    chosen["training.max_steps"] = choices.steps
    if spec.schedule:
        chosen["training.optimizer.learn_rate.total_steps"] = choices.steps
    chosen["training.eval_frequency"] = choices.eval_frequency
    chosen["training.logger.output_file"] = f"metrics/{folder or run_folder(task, system)}/seed{seed}/log.jsonl"
    return chosen


def override_args(overrides: Dict[str, Any]) -> List[str]:
    """Overrides as `spacy train` takes them on its command line (None as null)."""
    args: List[str] = []
    for key, value in overrides.items():
        args += [f"--{key}", "null" if value is None else (repr(value) if isinstance(value, float) else str(value))]
    return args


def train_command(system: str, choices: Choices, seed: Any, gpu_id: int, folder: Optional[str] = None,
                  extra: Optional[Dict[str, Any]] = None) -> List[str]:
    """`python -m spacy train` for one seed of the system ({seed} for a template), into
    training/FOLDER (by default the system's run_folder); `extra` overrides come last (a lever's)."""
    folder = folder or run_folder(choices.task, system)
    output = f"training/{folder}/seed{seed}"
    overrides = {**chosen_overrides(system, choices, seed, folder), **fixed_overrides(choices.task, system),
                 **(extra or {})}
    return ["python", "-m", "spacy", "train", catalog.config_path(choices.task, system), "--output", output,
            *override_args(overrides), "--gpu-id", str(gpu_id)]


def tune_command(system: str, task: str, seed: Any, gpu_id: int, folder: Optional[str] = None) -> List[str]:
    """Choosing a span tagger's `outside_weight` on dev, in its model-best (`spacy cvt-tune-decoding`)."""
    folder = folder or run_folder(task, system)
    return ["python", "-m", "spacy", "cvt-tune-decoding", f"training/{folder}/seed{seed}/model-best",
            f"corpus/{task}/dev.spacy", "--gpu-id", str(gpu_id)]


def evaluate_command(system: str, task: str, seed: Any, gpu_id: int) -> List[str]:
    """`spacy evaluate` of one seed on the test set, on the very tokens of the gold data."""
    return ["python", "-m", "spacy", "evaluate", f"training/{task}/{system}/seed{seed}/model-best",
            f"corpus/{task}/test.spacy", "--output", f"metrics/{task}/{system}/seed{seed}/evaluate.json",
            "--gold-preproc", "--gpu-id", str(gpu_id)]


def check_encoder(system: str, encoder: str) -> None:
    """Refuse a transformer system (or one it taught) trained with another encoder than its own."""
    own = catalog.system_encoder(system)
    if own is not None and own != encoder:
        raise typer.BadParameter(
            f"{system} is {own}'s system, but this run's encoder is {encoder}: its runs would be recorded and "
            f"compared as {own}'s. Pass {catalog.encoder_args(encoder)} (or --vars.encoder {own}).",
            param_hint="--encoder")


def known_system(task: str, system: str) -> str:
    """The system's kind, after checking that the task and the system exist: a usage error naming
    what the project knows otherwise."""
    try:
        catalog.known_task(task)
        return catalog.system_kind(system)
    except ValueError as err:
        raise typer.BadParameter(str(err))


def train_seed(system: str, choices: Choices, seed: int, gpu_id: int) -> int:
    """Train one seed of the system, recorded (wall time, energy, provenance) in
    metrics/TASK/SYSTEM/seedK/train.json, and tune a span tagger's decoding on dev (tune.json,
    catalog.tunes_decoding):
    what `train` runs for each seed and the grid (grid.py) runs as one Ray task. Its exit code."""
    record = f"metrics/{choices.task}/{system}/seed{SEED}/"
    code = run_seed(train_command(system, choices, SEED, gpu_id), seed, record + "train.json")
    if code == 0 and catalog.tunes_decoding(choices.task, system):
        # with the training, so that the hash spacy project keeps of model-best is the tuned one's
        code = run_seed(tune_command(system, choices.task, SEED, gpu_id), seed, record + "tune.json")
    return code


def evaluate_seed(system: str, task: str, seed: int, gpu_id: int) -> int:
    """`spacy evaluate` one seed on the test set (metrics/TASK/SYSTEM/seedK/evaluate.json), and for
    seed 0 its parameters and size on disk (metrics/TASK/SYSTEM/size.json): what `evaluate` runs
    for each seed and the grid after each training. Its exit code."""
    code = run_seed(evaluate_command(system, task, SEED, gpu_id), seed)
    if code == 0 and seed == 0:
        write_size(Path(f"training/{task}/{system}/seed0/model-best"), Path(f"metrics/{task}/{system}/size.json"))
    return code


def stop_at_failure(seed: int, code: int) -> None:
    """Exit with a failed seed's code: the seeds after it are not run."""
    if code != 0:
        typer.echo(f"seed {seed} exited with {code}; seeds after it were not run", err=True)
        raise typer.Exit(code)


def train(
    system: str = typer.Argument(..., help=f"one of {', '.join(catalog.ORDER)}"),
    task: str = typer.Option(catalog.DEFAULT_TASK, help=f"one of {', '.join(catalog.TASKS)}"),
    seeds: int = typer.Option(1, min=1, help="train seeds 0 .. SEEDS-1"),
    steps: int = typer.Option(..., min=1, help="the training budget in optimizer steps"),
    eval_frequency: int = typer.Option(100, min=1, help="steps between dev evaluations"),
    vectors: str = typer.Option("corpus/vectors", help="the word vectors of cvt, bilstm and cnn"),
    transformer: str = typer.Option("assets/minilm", help="the transformer trf fine-tunes"),
    encoder: str = typer.Option(catalog.DEFAULT_ENCODER, help="the encoder behind `transformer`"),
    unlabeled: str = typer.Option("corpus/unlabeled.txt", help="cvt's unlabeled text, one sentence a line "
                                  "(`unlabeled-text` makes one from your files)"),
    gpu_id: int = typer.Option(-1, help="-1: CPU"),
) -> None:
    """Train a system on a task once per seed, each run recorded (wall time, energy, provenance)
    in metrics/TASK/SYSTEM/seedK/train.json; a span tagger's decoding (cvt_ner, cvt_chunker) is then
    tuned on dev."""
    known_system(task, system)
    check_encoder(system, encoder)
    choices = Choices(task, steps, eval_frequency, vectors, transformer, unlabeled)
    for seed in range(seeds):
        stop_at_failure(seed, train_seed(system, choices, seed, gpu_id))


def evaluate(
    systems: List[str] = typer.Argument(..., help=f"of {', '.join(catalog.ORDER)}"),
    task: str = typer.Option(catalog.DEFAULT_TASK, help=f"one of {', '.join(catalog.TASKS)}"),
    seeds: int = typer.Option(1, min=1, help="evaluate seeds 0 .. SEEDS-1"),
    gpu_id: int = typer.Option(-1, help="-1: CPU"),
) -> None:
    """`spacy evaluate` every seed of each system on the test set (metrics/TASK/SYSTEM/seedK/
    evaluate.json), and seed 0's parameters and size on disk (metrics/TASK/SYSTEM/size.json)."""
    for system in systems:
        known_system(task, system)
        for seed in range(seeds):
            stop_at_failure(seed, evaluate_seed(system, task, seed, gpu_id))


def annotate(
    teacher: Path = typer.Argument(..., help="the teacher pipeline, e.g. training/ner/trf/seed0/model-best"),
    docs: Path = typer.Argument(..., help="the sentences to annotate (.spacy: `augment`'s output)"),
    output: Path = typer.Argument(..., help="the teacher corpus to write (.spacy)"),
    batch_size: int = typer.Option(128, help="nlp.pipe batch size (spacy apply's default of 1 is about 3x slower)"),
    gpu_id: int = typer.Option(-1, help="-1: CPU"),
) -> None:
    """The teacher's annotation of the transfer set, by the code `spacy cvt-distill` runs
    (spacy_cvt.cli.distill.annotate: `spacy apply`'s output without the transformer's tensors)."""
    import spacy
    from spacy.cli._util import setup_gpu

    from spacy_cvt.cli.distill import annotate as annotate_docs

    setup_gpu(gpu_id)
    count = annotate_docs(spacy.load(teacher), docs, output, batch_size=batch_size, silent=False)
    typer.echo(f"{teacher} annotated {count:,} docs -> {output}")
