"""Stop a run whose heads do not fit its task, before anything trains.

weasel cannot look a var up by another, so `--vars.task pos` alone leaves the heads at the
default task's (`cvt_head`/`spacy_head` = ner): cvt_ner would then train on data without
entities, and for chunk the systems would quietly learn doc.ents instead of the chunks. The
task's own command (`spacy project run pos`) sets both; this check says so when they differ.
With --teacher (the first step of `all`) it also checks that the cvt head has a cvt-teacher
config: `all` trains cvt-teacher last, and a missing config would stop it after the other
systems' hours of training. With --budget it checks that every step budget is a multiple of
--eval-frequency: spaCy evaluates on dev every eval_frequency steps and not at the last one, so
the steps after the last multiple would train a model that is never evaluated, and model-best
would be an earlier checkpoint than the budget says. With --encoder it checks that the
transformer and the CVT it teaches train under that encoder's names (results.ENCODERS:
trf-base and cvt-teacher-base for mpnet-base), so that MPNet-base's runs do not overwrite
MiniLM's folders and are not compared with MiniLM's recorded references as trf; with
--trf-learn-rate it warns (and goes on) when the transformer's rate is not its encoder's: such a
run, once recorded, is a stale row in compare's and report's tables.

    python scripts/check_task.py TASK --cvt-head HEAD --spacy-head HEAD [--teacher]
        [--eval-frequency N --budget trf_steps=300 ...]
        [--encoder minilm --trf-system trf --taught-system cvt-teacher --trf-learn-rate 5e-5]
"""

import math
from pathlib import Path
from typing import Annotated, Dict, List, Optional

import typer

from results import ENCODERS, encoder_args, task_vars


def head_mismatch(project: Path, task: str, cvt_head: str, spacy_head: str) -> Optional[str]:
    """What to tell the user when the heads are not those of the task's own command; else None."""
    expected = task_vars(project, task)
    given = {"vars.cvt_head": cvt_head, "vars.spacy_head": spacy_head}
    wrong = {key: value for key, value in given.items() if key in expected and expected[key] != value}
    if not wrong:
        return None
    fix = " ".join(f"--{key} {expected[key]}" for key in given if key in expected)
    return (
        f"Task '{task}' trains its systems with {fix.replace('--vars.', '')}, but this run has "
        + ", ".join(f"{key[5:]} = {value}" for key, value in wrong.items())
        + f". Run `python -m spacy project run {task}` (it sets the task and its heads), "
        f"or pass {fix} with --vars.task {task}."
    )


def missing_teacher(project: Path, task: str, cvt_head: str) -> Optional[str]:
    """What to tell the user when the cvt head has no cvt-teacher config; else None."""
    config = project / "configs" / f"cvt-teacher_{cvt_head}.cfg"
    if config.is_file():
        return None
    heads = sorted(path.stem.split("_", 1)[1] for path in (project / "configs").glob("cvt-teacher_*.cfg"))
    return (
        f"`all` trains cvt-teacher, and {config} does not exist: task '{task}' trains the {cvt_head} head, "
        f"and cvt-teacher configs exist for {', '.join(heads) or 'no head'}. Run `python -m spacy project run "
        f"{task}` (for a task without a teacher config it runs `all-but-teacher`: the four systems "
        f"without cvt-teacher), or `all-but-teacher` with the same vars, or write that config."
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
    expected = ENCODERS[encoder].systems if encoder in ENCODERS else None
    if expected is None or expected == (trf_system, taught_system):
        return None
    clash = next((name for name, runs in ENCODERS.items()
                  if name != encoder and {trf_system, taught_system} & set(runs.systems)), None)
    why = (f"those are {clash}'s, so its runs would replace {clash}'s in training/ and metrics/ and be compared "
           f"with {clash}'s recorded references" if clash else
           "compare, record and report know each encoder's runs by its names (scripts/results.py, ENCODERS)")
    base = "`python -m spacy project run base` (after `all`, for a task with a teacher config), or " if encoder == "mpnet-base" else ""
    return (
        f"encoder = {encoder} trains as {expected[0]} and {expected[1]}, but this run names them trf_system = "
        f"{trf_system} and taught_system = {taught_system}: {why}. Run {base}the task's command with "
        f"{encoder_args(encoder)}."
    )


def other_learn_rate(encoder: str, trf_learn_rate: float) -> Optional[str]:
    """A warning when the transformer trains at another peak rate than its encoder's; else None."""
    if encoder not in ENCODERS or math.isclose(trf_learn_rate, ENCODERS[encoder].trf_learn_rate, rel_tol=1e-9):
        return None
    runs = ENCODERS[encoder]
    return (
        f"trf_learn_rate = {trf_learn_rate!r}, but {encoder}'s transformer ({runs.trf_system}) trains at "
        f"{runs.trf_learn_rate!r} (scripts/results.py, ENCODERS): `compare` shows this run beside the recorded "
        f"{runs.trf_system}, but once recorded it is a stale row. To train as recorded, pass {encoder_args(encoder)}."
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
    cvt_head: str = typer.Option(..., help="vars.cvt_head"),
    spacy_head: str = typer.Option(..., help="vars.spacy_head"),
    project: Path = typer.Option(Path("."), help="the project folder (its project.yml)"),
    teacher: bool = typer.Option(False, help="also require configs/cvt-teacher_CVT_HEAD.cfg (`all` trains cvt-teacher)"),
    eval_frequency: Annotated[int, typer.Option(help="vars.eval_frequency: with --budget, each budget must be a multiple")] = 0,
    budget: Annotated[Optional[List[str]], typer.Option(help="NAME=STEPS, a step budget (vars.cvt_steps ...); repeat it")] = None,
    encoder: Annotated[Optional[str], typer.Option(help="vars.encoder: with it, the two names below must be its")] = None,
    trf_system: Annotated[str, typer.Option(help="vars.trf_system")] = "trf",
    taught_system: Annotated[str, typer.Option(help="vars.taught_system")] = "cvt-teacher",
    trf_learn_rate: Annotated[Optional[float], typer.Option(help="vars.trf_learn_rate: with --encoder, warn unless it is the encoder's")] = None,
) -> None:
    if encoder and trf_learn_rate is not None:
        warning = other_learn_rate(encoder, trf_learn_rate)
        if warning:
            typer.echo(f"Warning: {warning}", err=True)
    message = head_mismatch(project, task, cvt_head, spacy_head)
    if not message and teacher:
        message = missing_teacher(project, task, cvt_head)
    if not message and budget:
        message = unevaluated_budgets(parse_budgets(budget), eval_frequency)
    if not message and encoder:
        message = misnamed_systems(encoder, trf_system, taught_system)
    if message:
        typer.echo(message, err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
