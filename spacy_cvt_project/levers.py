"""What lifts a taught student most, measured on dev, one seed a lever: the teacher's silver and
vectors are made once (`spacy project run teacher`), and each lever trains the taught system as
`train` does, with one thing changed.

    python -m spacy_cvt_project lever converged --task ner --steps 800 [--system cvt-teacher] [--seed 0]
    spacy project run lever . --vars.lever converged --vars.task ner

trains into training/levers/TASK/SYSTEM/LEVER/seedK/, chooses its `outside_weight` on dev as
`train` does, and keeps the run's small files in results/levers/TASK/SYSTEM/LEVER/seedK/
(train.json, tune.json, log.jsonl, config.cfg, meta.json: results/README.md). `report` turns
them into the lever table of docs/experiments.md: each lever's dev score beside `recipe`'s, the
system as `train` trains it at the same budget and seed. A lever is measured on seed 0 (its table
shows mean ± sd where other seeds were kept too, `--seed K`): one seed on a small dev set says
where to spend a 3-seed recording, not what that recording will show.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import typer

from . import catalog, compare, results, runs
from .per_seed import SEED, run_seed
from .curves import evaluations
from .record import LOG, run_files


@dataclass(frozen=True)
class Input:
    """A file a lever trains from instead of the recipe's, and the commands that make it from the
    teacher (`teacher`'s outputs), {task} and {teacher} filled in."""

    override: str  # the config key it sets, e.g. paths.vectors
    path: str
    build: Tuple[str, ...]


@dataclass(frozen=True)
class Lever:
    """One change to the taught system's recipe: its budget, overrides ({component}: the cvt head's
    component) or inputs."""

    change: str  # in words, the lever table's second column
    steps: Optional[int] = None  # the budget, where the lever is the budget
    overrides: Dict[str, Any] = field(default_factory=dict)
    inputs: Tuple[Input, ...] = ()
    tasks: Tuple[str, ...] = ()  # the tasks it means something for (none: every task with a teacher)


RECIPE = "recipe"
# twice every width of ModelSettings' defaults (spacy_cvt/model/model_settings.py)
WIDER = {"hidden_size1": 512, "projection_size1": 256, "hidden_size2": 256, "module_width": 256}
WIDE_VECTORS = 128  # transformer columns, against cvt-trf-vectors' default 64
# SemEval-14's domain (restaurants, laptops): the review text of ../shared/data/reviews (research use,
# read from there; its SOURCE.txt says where each file comes from), as docs/experiments.md's cvt runs read it
REVIEWS = "../shared/data/reviews"
REVIEW_FILES = ("hatn_electronics.txt", "subjqa_electronics.txt", "subjqa_restaurants.txt", "tripadvisor_restaurants.txt")

LEVERS: Dict[str, Lever] = {
    RECIPE: Lever("none: the system as `train` trains it, at the budget given"),
    "converged": Lever("budget 3,000 steps, until dev stops improving (the config's patience, 2,000 steps)",
                       steps=3000),
    "wider": Lever("student twice as wide: " + ", ".join(f"{k} {v}" for k, v in WIDER.items()),
                   overrides={f"components.{{component}}.model.{key}": value for key, value in WIDER.items()}),
    "vectors-128": Lever(
        f"the teacher's vectors with {WIDE_VECTORS} transformer columns instead of 64 (GloVe's 50 + {WIDE_VECTORS})",
        inputs=(Input("paths.vectors", f"corpus/{{task}}/{{teacher}}_teacher_vectors_{WIDE_VECTORS}", (
            "python -m spacy cvt-trf-vectors training/{task}/{teacher}/seed0/model-best corpus/unlabeled.txt "
            f"corpus/{{task}}/{{teacher}}_teacher_vectors_{WIDE_VECTORS}.txt --layer -1 --dims {WIDE_VECTORS}",
            f"python -m spacy init vectors en corpus/{{task}}/{{teacher}}_teacher_vectors_{WIDE_VECTORS}.txt "
            f"corpus/{{task}}/{{teacher}}_teacher_vectors_{WIDE_VECTORS}")),)),
    "in-domain": Lever(
        f"the teacher annotates review sentences ({REVIEWS}) instead of books, news and tweets: as many words, "
        "train's sentences and the rewrites as `augment` makes them",
        inputs=(Input("paths.teacher_corpus", "corpus/{task}/{teacher}_reviews_teacher_corpus.spacy", (
            # project.yml's `unlabeled`, `augment` and `teacher-corpus` with its default vars, on the reviews
            "python -m spacy_cvt_project unlabeled-text " + " ".join(f"{REVIEWS}/{name}" for name in REVIEW_FILES)
            + " -o corpus/reviews_unlabeled.txt --max-words 1000000 --jsonl corpus/reviews_teacher_input.jsonl "
            "--jsonl-max-words 100000",
            "python -m spacy cvt-augment corpus/{task}/train.spacy corpus/reviews_teacher_input.jsonl "
            "corpus/{task}/reviews_teacher_input.spacy --vectors corpus/vectors --copies 4",
            "python -m spacy_cvt_project annotate training/{task}/{teacher}/seed0/model-best "
            "corpus/{task}/reviews_teacher_input.spacy corpus/{task}/{teacher}_reviews_teacher_corpus.spacy")),),
        tasks=("aspect",)),
}
# the records kept of a lever's run, beside its dev log and model-best's files (record.run_files)
RECORDS = ("train.json", "tune.json")


def lever_folder(task: str, system: str, lever: str) -> str:
    """Where a lever's run lives under training/, metrics/ and results/."""
    return f"levers/{task}/{system}/{lever}"


def lever_for(name: str, task: str) -> Lever:
    """The lever, after checking that it means something for the task (a usage error otherwise)."""
    if name not in LEVERS:
        raise typer.BadParameter(f"unknown lever {name!r}: the project knows {', '.join(LEVERS)} "
                                 "(spacy_cvt_project/levers.py, LEVERS)", param_hint="LEVER")
    lever = LEVERS[name]
    if lever.tasks and task not in lever.tasks:
        raise typer.BadParameter(f"lever {name} is measured on {', '.join(lever.tasks)}, not {task}: "
                                 f"{lever.change}", param_hint="--task")
    return lever


def taught_system(task: str, system: str) -> str:
    """The system, after checking that it is a taught one the task can train (a usage error otherwise)."""
    if runs.known_system(task, system) != "cvt-teacher" or not catalog.known_task(task).teacher:
        taught = ", ".join(enc.taught_system for enc in catalog.ENCODERS.values())
        teaching = ", ".join(name for name, spec in catalog.TASKS.items() if spec.teacher)
        raise typer.BadParameter(f"levers measure a taught system ({taught}) on a task with a teacher ({teaching}); "
                                 f"got {system} on {task}", param_hint="--system")
    return system


def lever_overrides(lever: Lever, task: str, system: str) -> Dict[str, Any]:
    """The config overrides the lever adds to the system's train command, its inputs' included."""
    component = catalog.component(task, system)
    teacher = catalog.teacher_of(system)
    overrides = {key.format(component=component): value for key, value in lever.overrides.items()}
    overrides.update({i.override: i.path.format(task=task, teacher=teacher) for i in lever.inputs})
    return overrides


def missing_inputs(lever: Lever, task: str, system: str, project: Path = Path(".")) -> List[str]:
    """The commands that build the lever's inputs not yet there (none when all are)."""
    teacher = catalog.teacher_of(system)
    return [command.format(task=task, teacher=teacher) for i in lever.inputs
            if not (project / i.path.format(task=task, teacher=teacher)).exists() for command in i.build]


def lever_command(name: str, choices: runs.Choices, system: str, gpu_id: int) -> List[str]:
    """`spacy train` for one seed ({seed}) of the system with the lever applied, into its lever folder."""
    lever = LEVERS[name]
    if lever.steps is not None:
        choices = replace(choices, steps=lever.steps)
    folder = lever_folder(choices.task, system, name)
    return runs.train_command(system, choices, SEED, gpu_id, folder, lever_overrides(lever, choices.task, system))


def keep(task: str, system: str, name: str, seed: int, metrics: Path, training: Path, results_dir: Path) -> Path:
    """Copy the run's small files into results_dir/levers/...; the seed's folder there."""
    folder = Path(lever_folder(task, system, name)) / f"seed{seed}"
    target = results_dir / folder
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for source, n in run_files(metrics / folder, training / folder, RECORDS):
        shutil.copyfile(source, target / n)
    return target


# --------------------------------------------------------------------------- the lever table


def best_and_last_step(log: Path) -> Tuple[float, int, int]:
    """The best dev evaluation's score (spaCy's weighted score, what picks model-best: the
    decoding before tuning) and step, and the last evaluation's step."""
    found = evaluations(log)
    if not found:
        raise ValueError(f"{log} holds no dev evaluation: train the lever again")
    best = max(found, key=lambda e: (e.score, -e.step))  # the first of equal scores, as spaCy keeps
    return best.score, best.step, found[-1].step


def lever_rows(results_dir: Path, task: str, system: str) -> List[Dict[str, Any]]:
    """Each recorded lever's runs, in LEVERS' order: their dev scores (tuned), steps, decoding, time
    and machines. A run recorded for a lever the project no longer knows is an error."""
    folder = results_dir / "levers" / task / system
    found = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    unknown = [name for name in found if name not in LEVERS]
    if unknown:
        raise ValueError(f"{folder} holds {', '.join(unknown)}, which spacy_cvt_project/levers.py no longer defines: "
                         "remove those folders or define the levers again")
    rows = []
    for name in (n for n in LEVERS if n in found):
        command = f"python -m spacy_cvt_project lever {name} --task {task} --system {system}"
        remedy = f"train the missing seeds (`{command} --seed K`) or remove the later ones"
        seeds = [folder / name / f"seed{k}" for k in range(results.seed_count(folder / name, remedy))]
        devs, untuned, steps, weights, seconds, where = [], [], [], [], [], set()
        for run in seeds:
            dev = results.dev_score(run, catalog.score_key(task, system))
            if dev is None:
                raise ValueError(f"{run / 'meta.json'} holds no dev {catalog.score_key(task, system)}: run `{command}` again")
            train = results.read_json(run / "train.json")
            devs.append(dev)
            score, best, last = best_and_last_step(run / LOG)
            untuned.append(score)
            steps.append((best, last))
            weights.append(results.outside_weight(results.trained_config(run)))
            seconds.append((compare.cost(run / "train.json", command) + compare.cost(run / "tune.json", command)).seconds)
            where.add((results.machine(train), results.commit(train)))
        rows.append({"lever": name, "n": len(seeds), "dev": compare.stat(devs), "untuned": compare.stat(untuned),
                     "steps": steps, "outside_weight": weights,
                     "seconds": compare.stat(seconds), "where": where})
    return rows


def lever_table(task: str, system: str, rows: List[Dict[str, Any]]) -> List[str]:
    """The markdown of one task's lever table, each lever's dev score beside the recipe's (means over
    the seeds recorded, seed 0 alone as a rule)."""
    recipe = next((row["dev"].mean for row in rows if row["lever"] == RECIPE), None)
    lines = [f"**{task}, {system}** (dev ×100 with `outside_weight` chosen on dev; untuned: model-best's before "
             "tuning, the best evaluation in its log; mean ± sd where n > 1):", "",
             "| lever | what it changes | n | dev | against the recipe | dev untuned | best step / last | outside_weight "
             "| train time |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        delta = compare.DASH if recipe is None or row["lever"] == RECIPE else f"{100 * (row['dev'].mean - recipe):+.1f}"
        steps = ", ".join(f"{best:,} / {last:,}" for best, last in row["steps"])
        lines.append(f"| {row['lever']} | {LEVERS[row['lever']].change} | {row['n']} | {compare.spread(row['dev'], 100)} | "
                     f"{delta} | {compare.spread(row['untuned'], 100)} | {steps} | {', '.join(map(str, row['outside_weight']))} | "
                     f"{compare.fmt_time(row['seconds'])} |")
    commits: Dict[str, List[str]] = {}
    for machine, commit in sorted(set().union(*(row["where"] for row in rows))):
        commits.setdefault(machine, []).append(commit)
    where = "; ".join(f"{machine}, commit{'s' if len(c) > 1 else ''} {', '.join(c)}" for machine, c in commits.items())
    return lines + ["", f"Trained on {where}.", ""]


def levers_markdown(results_dir: Path) -> str:
    """The lever tables of every task and taught system with recorded levers (docs/experiments.md's block)."""
    lines = ["Generated by `spacy project run report` from results/levers/ (spacy_cvt_project/levers.py); "
             "`spacy project run lever . --vars.lever LEVER` adds a row.", ""]
    for task in catalog.TASKS:
        for system in (enc.taught_system for enc in catalog.ENCODERS.values()):
            rows = lever_rows(results_dir, task, system)
            if rows:
                lines += lever_table(task, system, rows)
    if len(lines) == 2:
        lines += ["No lever recorded yet.", ""]
    return "\n".join(lines).rstrip("\n")


def main(
    lever: str = typer.Argument(..., help=f"one of {', '.join(LEVERS)}"),
    task: str = typer.Option(catalog.DEFAULT_TASK, help="a task with a teacher: " + ", ".join(
        name for name, spec in catalog.TASKS.items() if spec.teacher)),
    system: str = typer.Option(catalog.ENCODERS[catalog.DEFAULT_ENCODER].taught_system, help="the taught system"),
    steps: int = typer.Option(..., min=1, help="the recipe's budget (project.yml's cvt_steps); a lever may set its own"),
    eval_frequency: int = typer.Option(100, min=1, help="steps between dev evaluations"),
    seed: int = typer.Option(0, min=0),
    gpu_id: int = typer.Option(-1, help="-1: CPU"),
    results_dir: Path = typer.Option(Path("results"), "--results", help="where the run's small files are kept"),
) -> None:
    """Train a taught system with one lever of its recipe changed, choose its outside_weight on dev
    and keep the run in results/levers/: `report` puts each lever's dev score beside the recipe's."""
    spec, system = lever_for(lever, task), taught_system(task, system)
    build = missing_inputs(spec, task, system)
    if build:
        typer.echo(f"lever {lever} trains from files not made yet; after `spacy project run teacher` (with this "
                   "task and encoder), run:\n  " + "\n  ".join(build), err=True)
        raise typer.Exit(1)
    folder = lever_folder(task, system, lever)
    record = f"metrics/{folder}/seed{SEED}/"
    command = lever_command(lever, runs.Choices(task, steps, eval_frequency), system, gpu_id)
    code = run_seed(command, seed, record + "train.json")
    if code == 0:
        code = run_seed(runs.tune_command(system, task, SEED, gpu_id, folder), seed, record + "tune.json")
    runs.stop_at_failure(seed, code)
    kept = keep(task, system, lever, seed, Path("metrics"), Path("training"), results_dir)
    dev = results.dev_score(kept, catalog.score_key(task, system))
    typer.echo(f"Kept {kept}: dev {compare.DASH if dev is None else f'{100 * dev:.1f}'} (tuned); "
               "`spacy project run report` puts it in docs/experiments.md's lever table")
