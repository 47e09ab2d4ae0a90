"""The experiment grid on Ray: every seed of every system on every task trained, evaluated and
recorded as one Ray task, the runs results/ already holds skipped.

    python -m spacy_cvt_project grid ner,pos --systems cvt,bilstm --seeds 3 \\
        --budgets cvt_steps=800,bilstm_steps=800 [--address auto | RAY_ADDRESS=...] [--gpu-id 0]

(`spacy project run grid` with the project's vars.) A run is a (task, system, seed): in a Ray
worker it runs runs.train_seed and runs.evaluate_seed, what `train` and `evaluate` run for each
seed (the same `spacy train` and `spacy evaluate` command lines, each recorded by per_seed.py),
and when it finishes the driver records it as `record` does (record.record_seed: the seed's files
in results/TASK/SYSTEM/seedK/). A run is skipped when results/ holds its seed trained with its
choices (data, seed, budget, vectors: runs.chosen_overrides), so a grid that was cut off resumes
where it stopped, and one that finished starts nothing.

Without --address (or RAY_ADDRESS) it starts a local Ray with this machine's cores, and each run
asks for all of them (--cpus 0): one training at a time, as the serial path. With --address it
joins a running cluster (`ray start --head` and workers: README, "Scaling out with Ray"), whose
nodes must see this project folder at the same path (a shared file system): the runs train in
it and write metrics/ and training/ there. With --gpu-id >= 0 each run asks Ray for one GPU and
trains on the one Ray gives it. codecarbon measures a run's energy for the whole machine
(per_seed.py), so runs that share a node (--cpus below its cores) each count the others' too:
where the recorded energy matters, give each run a node's cores.

The taught systems (cvt-teacher) are not grid runs: their teacher's steps (`augment`, `teacher-corpus`,
`teacher-vectors`) come first, and `record` records them with their teacher.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import typer

from . import catalog, check, compare, record, results, runs


@dataclass(frozen=True)
class Run:
    """One cell of the grid: a seed of a system, trained with the task's choices."""

    system: str
    seed: int
    choices: runs.Choices

    @property
    def task(self) -> str:
        return self.choices.task

    @property
    def name(self) -> str:
        return f"{self.task}/{self.system}/seed{self.seed}"


@dataclass
class Outcome:
    """What a grid did: the runs it recorded, those it skipped as recorded, and the failed ones
    with their exit codes."""

    recorded: List[str]
    skipped: List[str]
    failed: Dict[str, int]


def plan(tasks: Sequence[str], systems: Sequence[str], seeds: int, budgets: Dict[str, int], eval_frequency: int,
         vectors: str, transformer: str, encoder: str) -> List[Run]:
    """Every (task, system, seed) of the grid, tasks outermost; a usage error for an unknown task
    or system, a taught one, a system whose budget is not given, or a budget dev never scores."""
    unscored = check.unevaluated_budgets(budgets, eval_frequency)
    if unscored:
        raise typer.BadParameter(unscored, param_hint="--budgets")
    planned = []
    for task in tasks:
        for system in systems:
            kind = runs.known_system(task, system)
            runs.check_encoder(system, encoder)
            if system in compare.TAUGHT:
                raise typer.BadParameter(
                    f"{system} learns from {compare.TAUGHT[system].system}'s annotation, which the `teacher` "
                    f"workflow makes first: train it with `spacy project run teacher`", param_hint="--systems")
            budget = catalog.BUDGETS[kind]
            if budget not in budgets:
                raise typer.BadParameter(f"{system} trains with {budget}: add {budget}=STEPS", param_hint="--budgets")
            choices = runs.Choices(task, budgets[budget], eval_frequency, vectors, transformer)
            planned += [Run(system, seed, choices) for seed in range(seeds)]
    return planned


def chosen(run: Run) -> Dict[str, Any]:
    """The run's choices as `spacy train` parses them from its command line, but the log's path."""
    args = runs.override_args(runs.chosen_overrides(run.system, run.choices, run.seed))
    return {key: value for key, value in results.parse_overrides(args).items() if not results.IGNORED_KEYS.match(key)}


def is_recorded(run: Run, results_dir: Path) -> bool:
    """Whether results_dir holds the run's seed, evaluated, trained with the run's choices (its
    recorded `spacy train` command's) and with each record of its own cost (a span tagger's
    tune.json: a run recorded before `train` tuned it is run again)."""
    folder = results_dir / run.task / run.system / f"seed{run.seed}"
    records = ("evaluate.json", *compare.own_records(run.task, run.system))
    if not all((folder / name).is_file() for name in records):
        return False
    command = results.read_json(folder / "train.json")["command"]
    recorded = results.parse_overrides(results.split_train_args(results.train_args(command))[1])
    return all(recorded.get(key) == value for key, value in chosen(run).items())


def missing_inputs(planned: Sequence[Run]) -> List[str]:
    """The files the runs read that are not there (data, unlabeled text, vectors, the transformer)."""
    paths = set()
    for run in planned:
        paths.add(f"corpus/{run.task}/test.spacy")
        overrides = runs.chosen_overrides(run.system, run.choices, run.seed)
        paths.update(str(value) for key, value in overrides.items() if key.startswith("paths.") and value)
    return sorted(path for path in paths if not Path(path).exists())


def train_and_evaluate(run: Run, project: str, gpu_id: int) -> int:
    """One run, in a Ray worker: runs.train_seed, then runs.evaluate_seed, in the project folder.
    Its exit code. Ray shows a task only the GPU it gave it, as device 0."""
    os.chdir(project)
    device = 0 if gpu_id >= 0 else -1
    return runs.train_seed(run.system, run.choices, run.seed, device) or \
        runs.evaluate_seed(run.system, run.task, run.seed, device)


def run_grid(planned: Sequence[Run], *, address: Optional[str] = None, cpus: int = 0, gpu_id: int = -1,
             results_dir: Path = Path("results")) -> Outcome:
    """Run every planned run that results_dir lacks as a Ray task asking for `cpus` CPUs (0: this
    machine's cores), and one GPU with gpu_id >= 0; record each as it finishes. Ray is started
    only where a run is left to do, and shut down after."""
    outcome = Outcome([], [run.name for run in planned if is_recorded(run, results_dir)], {})
    todo = [run for run in planned if run.name not in outcome.skipped]
    for name in outcome.skipped:
        typer.echo(f"grid: {name} is recorded in {results_dir}, skipped")
    if not todo:
        return outcome
    missing = missing_inputs(todo)
    if missing:
        typer.echo(f"grid: the runs read files that are not there: {', '.join(missing)}. Make them first: "
                   "`spacy project run` vectors, unlabeled and convert (and transformer for trf), with the "
                   "same --vars.task", err=True)
        raise typer.Exit(1)
    from spacy_cvt.ray_cluster import ray_session  # here: importing spacy_cvt imports torch, which `compare` does without

    with ray_session("grid", address) as ray:
        task = ray.remote(train_and_evaluate).options(
            num_cpus=cpus or os.cpu_count(), num_gpus=1 if gpu_id >= 0 else 0,
            max_retries=1)  # a worker lost with its node runs again; a training that fails would fail again
        pending = {task.remote(run, os.getcwd(), gpu_id): run for run in todo}
        while pending:
            [done], _ = ray.wait(list(pending), num_returns=1)
            run, code = pending.pop(done), ray.get(done)
            if code == 0:
                folder = record.record_seed(run.task, run.system, run.seed, Path("metrics"), Path("training"),
                                            results_dir, gpu_id)
                outcome.recorded.append(run.name)
                typer.echo(f"grid: {run.name} recorded in {folder} "
                           f"({len(outcome.recorded) + len(outcome.failed)} of {len(todo)} runs done)")
            else:
                outcome.failed[run.name] = code
                typer.echo(f"grid: {run.name} exited with {code} (its output is above; metrics/{run.name}/ "
                           "holds its records)", err=True)
    return outcome


def names(value: str) -> List[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def main(
    tasks: str = typer.Argument(..., help=f"comma-separated, of {', '.join(catalog.TASKS)} (or your own corpus's)"),
    systems: Optional[str] = typer.Option(None, help="comma-separated (default: cvt, bilstm, cnn and the encoder's trf)"),
    seeds: int = typer.Option(1, min=1, help="seeds 0 .. SEEDS-1 of each system"),
    budgets: str = typer.Option(..., help="NAME=STEPS,...: each system's budget var (cvt_steps, bilstm_steps, "
                                "cnn_steps, trf_steps; cvt-teacher trains cvt_steps)"),
    eval_frequency: int = typer.Option(100, min=1, help="steps between dev evaluations"),
    vectors: str = typer.Option("corpus/vectors", help="the word vectors of cvt, bilstm and cnn"),
    transformer: str = typer.Option("assets/minilm", help="the transformer trf fine-tunes"),
    encoder: str = typer.Option(catalog.DEFAULT_ENCODER, help="the encoder behind `transformer`"),
    gpu_id: int = typer.Option(-1, help="-1: CPU; >= 0: each run asks Ray for one GPU"),
    address: Optional[str] = typer.Option(None, envvar="RAY_ADDRESS", help="a running Ray cluster (e.g. auto, or "
                                          "HEAD:6379); without it, a local Ray with this machine's cores"),
    cpus: int = typer.Option(0, min=0, help="CPUs each run asks for (0: this machine's cores: one run at a time here)"),
    results_dir: Path = typer.Option(Path("results"), "--results", help="where runs are recorded, and looked up to skip"),
) -> None:
    """Train, evaluate and record every seed of each system on each task as Ray tasks, skipping
    the runs results/ holds (an interrupted grid resumes)."""
    if encoder not in catalog.ENCODERS:
        raise typer.BadParameter(f"{encoder!r} is not one of {', '.join(catalog.ENCODERS)}", param_hint="--encoder")
    chosen_systems = names(systems) if systems else [*catalog.SYSTEMS[:3], catalog.ENCODERS[encoder].trf_system]
    planned = plan(names(tasks), chosen_systems, seeds, check.parse_budgets(names(budgets)), eval_frequency,
                   vectors, transformer, encoder)
    outcome = run_grid(planned, address=address, cpus=cpus, gpu_id=gpu_id, results_dir=results_dir)
    typer.echo(f"grid: {len(outcome.recorded)} runs recorded, {len(outcome.skipped)} skipped as recorded, "
               f"{len(outcome.failed)} failed{': ' + ', '.join(outcome.failed) if outcome.failed else ''}")
    raise typer.Exit(1 if outcome.failed else 0)
