"""Stop a run whose heads do not fit its task, before anything trains.

weasel cannot look a var up by another, so `--vars.task pos` alone leaves the heads at the
default task's (`cvt_head`/`spacy_head` = ner): cvt_ner would then train on data without
entities, and for chunk the systems would quietly learn doc.ents instead of the chunks. The
task's own command (`spacy project run pos`) sets both; this check says so when they differ.
With --teacher (the first step of `all`) it also checks that the cvt head has a cvt-teacher
config: `all` trains cvt-teacher last, and a missing config would stop it after the other
systems' hours of training.

    python scripts/check_task.py TASK --cvt-head HEAD --spacy-head HEAD [--teacher]
"""

from pathlib import Path
from typing import Optional

import typer

from results import task_vars


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


def main(
    task: str = typer.Argument(..., help="vars.task"),
    cvt_head: str = typer.Option(..., help="vars.cvt_head"),
    spacy_head: str = typer.Option(..., help="vars.spacy_head"),
    project: Path = typer.Option(Path("."), help="the project folder (its project.yml)"),
    teacher: bool = typer.Option(False, help="also require configs/cvt-teacher_CVT_HEAD.cfg (`all` trains cvt-teacher)"),
) -> None:
    message = head_mismatch(project, task, cvt_head, spacy_head)
    if not message and teacher:
        message = missing_teacher(project, task, cvt_head)
    if message:
        typer.echo(message, err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
