"""Stop a run whose choices do not fit together, before anything trains.

With --teacher (the first step of `all`) it checks that the task has a teacher config: `all`
trains cvt-teacher last, and a missing config would stop it after the other systems' hours of
training. With --budget it checks that every step budget is a multiple of --eval-frequency:
spaCy evaluates on dev every eval_frequency steps and not at the last one, so the steps after
the last multiple would train a model that is never evaluated, and model-best would be an
earlier checkpoint than the budget says. With --encoder it checks that the transformer and the
CVT it teaches train under that encoder's names (catalog.ENCODERS: trf-base and
cvt-teacher-base for mpnet-base), so that MPNet-base's runs do not overwrite MiniLM's folders
and are not compared with MiniLM's recorded references as trf.

    python -m spacy_cvt_project check TASK [--teacher] [--eval-frequency N --budget trf_steps=300 ...]
        [--encoder minilm --trf-system trf --taught-system cvt-teacher]
"""

from pathlib import Path
from typing import Annotated, Dict, List, Optional

import typer

from . import catalog, own_corpus
from .catalog import Task


def missing_teacher(task: str, spec: Task, corpus: str = "") -> Optional[str]:
    """What to tell the user when the task's cvt head has no teacher config; else None. `corpus`:
    the user's corpus folder the task runs on, for the command to run instead."""
    if spec.teacher:
        return None
    with_teacher = [name for name, other in catalog.TASKS.items() if other.teacher]
    return (
        f"`all` trains cvt-teacher, and task '{task}' trains the {spec.cvt_head} head, which has no teacher config "
        f"(configs/cvt-teacher_{spec.cvt_head}.cfg; the tasks with one: {', '.join(with_teacher)}). Run "
        f"`python -m spacy project run all-but-teacher . --vars.task {task}{f' --vars.corpus {corpus}' if corpus else ''}` "
        "(the four systems without cvt-teacher)."
    )


def unevaluated_budgets(budgets: Dict[str, int], eval_frequency: int) -> Optional[str]:
    """What to tell the user when a budget ends between two dev evaluations; else None."""
    if eval_frequency <= 0:
        return f"vars.eval_frequency is {eval_frequency}; it must be a positive number of steps."
    off = {name: steps for name, steps in budgets.items() if steps % eval_frequency}
    if not off:
        return None
    return (
        "spaCy evaluates on dev every eval_frequency steps and not at the last step, so model-best would "
        "be an earlier checkpoint than the budget: "
        + "; ".join(f"{name} = {steps} last evaluates at step {steps - steps % eval_frequency}" for name, steps in off.items())
        + f" (eval_frequency = {eval_frequency}). Pass budgets that are multiples of --vars.eval_frequency, "
        f"e.g. " + " ".join(f"--vars.{name} {-(-steps // eval_frequency) * eval_frequency}" for name, steps in off.items()) + "."
    )


def misnamed_systems(encoder: str, trf_system: str, taught_system: str) -> Optional[str]:
    """What to tell the user when the transformer's systems are not named for its encoder; else
    None (also for an encoder the project does not install, which `transformer` refuses)."""
    expected = catalog.ENCODERS[encoder].systems if encoder in catalog.ENCODERS else None
    if expected is None or expected == (trf_system, taught_system):
        return None
    clash = next((name for name, enc in catalog.ENCODERS.items()
                  if name != encoder and {trf_system, taught_system} & set(enc.systems)), None)
    why = (f"those are {clash}'s, so its runs would replace {clash}'s in training/ and metrics/ and be compared "
           f"with {clash}'s recorded references" if clash else
           "compare, record and report know each encoder's runs by its names (spacy_cvt_project/catalog.py, ENCODERS)")
    base = "`python -m spacy project run base` (after `all`, for a task with a teacher config), or " if encoder == "mpnet-base" else ""
    return (
        f"encoder = {encoder} trains as {expected[0]} and {expected[1]}, but this run names them trf_system = "
        f"{trf_system} and taught_system = {taught_system}: {why}. Run {base}the workflow with "
        f"{catalog.encoder_args(encoder)}."
    )


def parse_budgets(budgets: List[str]) -> Dict[str, int]:
    """["trf_steps=300", ...] as {"trf_steps": 300}; a clear error on anything else."""
    parsed = {}
    for budget in budgets:
        name, _, steps = budget.partition("=")
        if not name or not steps.strip().isdigit():
            raise typer.BadParameter(f"{budget!r} is not NAME=STEPS (e.g. trf_steps=300)", param_hint="--budget")
        parsed[name] = int(steps)
    return parsed


def main(
    task: str = typer.Argument(..., help="vars.task"),
    teacher: Annotated[bool, typer.Option(help="also require a teacher config for the task (`all` trains cvt-teacher)")] = False,
    corpus: Annotated[str, typer.Option(help="vars.corpus: your own corpus folder (train/dev/test.spacy)")] = "",
    head: Annotated[str, typer.Option(help="vars.head: with --corpus, what the systems learn where the files annotate several: ner, tagger, spans or spans:KEY")] = "",
    eval_frequency: Annotated[int, typer.Option(help="vars.eval_frequency: with --budget, each budget must be a multiple")] = 0,
    budget: Annotated[Optional[List[str]], typer.Option(help="NAME=STEPS, a step budget (vars.cvt_steps ...); repeat it")] = None,
    encoder: Annotated[Optional[str], typer.Option(help="vars.encoder: with it, the two names below must be its")] = None,
    trf_system: Annotated[str, typer.Option(help="vars.trf_system")] = "trf",
    taught_system: Annotated[str, typer.Option(help="vars.taught_system")] = "cvt-teacher",
) -> None:
    """Stop a run whose choices do not fit together, before anything trains."""
    try:  # a user's corpus is checked whole here, before anything trains (`all` runs this before `convert`)
        spec = own_corpus.task_of(task, Path(corpus), head or None) if corpus else catalog.known_task(task)
    except ValueError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1)
    message = missing_teacher(task, spec, corpus) if teacher else None
    if not message and budget:
        message = unevaluated_budgets(parse_budgets(budget), eval_frequency)
    if not message and encoder:
        message = misnamed_systems(encoder, trf_system, taught_system)
    if message:
        typer.echo(message, err=True)
        raise typer.Exit(1)
