"""Keep a finished run's small files in results/, so that docs/results.md can be regenerated.

    python -m spacy_cvt_project record ner --seeds 3 [--gpu-id -1] [--systems cvt,trf] [--keep-shared]
        [--metrics metrics] [--training training] [--results results]

(`spacy project run record --vars.task ner --vars.seeds 3`, after `all` with the same vars.) For
each system, by default the ones compare.py would show, it first reads every file as compare.py
does (a missing file or a failed run is an error that names the command to run) and then
replaces results/<task>/<system>/ with

    seed<k>/evaluate.json, train.json (+ tune.json)   from metrics/<task>/<system>/seed<k>/
    seed<k>/log.jsonl (where the run wrote one)       from metrics/<task>/<system>/seed<k>/
    seed<k>/config.cfg, meta.json                     from training/<task>/<system>/seed<k>/model-best/
    size.json                                         from metrics/<task>/<system>/
    record.json                                       {"evaluate_gpu_id": the device evaluate ran on}

and, for a system taught by another (cvt-teacher), the records of the steps that made its
lessons (results/<task>/augment/run.json, results/<task>/trf/teacher-corpus/apply.json, ...), with its
teacher in the same call, so that its cost sums the teacher's recorded run (and a teacher is not
recorded again without the system it taught, whose cost would then be another teacher's). A step
every teacher shares (augment's rewrites: the same output from the same seed) is refused when it
differs from the recorded one that another recorded taught system cost, unless --keep-shared
keeps the recorded one, which the new system's cost then counts too (e.g. when the other was
recorded on another machine and is not retrained). The seeds' train.json carry their provenance
(commit, machine, TRAINING_VERSION; spacy_cvt_project/per_seed.py writes it): a record without one is
refused. The pipelines themselves stay in training/ (too large to track).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import typer

from . import catalog, compare
from . import results

# each dev evaluation of `spacy train` (spacy-cvt.ConsoleLogger.v1's JSONL: the project's train
# commands write it beside train.json), for the dev curve and peak memory of a recorded run
LOG = "log.jsonl"


def run_files(metrics_run: Path, training_run: Path, records: Sequence[str]) -> List[Tuple[Path, str]]:
    """(source, name) of every file kept of one run: its records and its dev log (where it wrote
    one) from its metrics folder, model-best's config and meta from its training folder."""
    pairs = [(metrics_run / name, name) for name in records]
    if (metrics_run / LOG).is_file():  # runs trained before the train commands named it have none
        pairs.append((metrics_run / LOG, LOG))
    return pairs + [(training_run / "model-best" / name, name) for name in results.MODEL_FILES]


def seed_files(task: str, system: str, seed: int, metrics: Path, training: Path) -> List[tuple]:
    """(source, path under results/<task>/) of every file kept for one seed of a system."""
    run = Path(system) / f"seed{seed}"
    records = ("evaluate.json", *compare.own_records(task, system))
    return [(source, run / name) for source, name in run_files(metrics / task / run, training / task / run, records)]


def files_of(task: str, system: str, seeds: int, metrics: Path, training: Path) -> List[tuple]:
    """(source, path under results/<task>/) of every file kept for a system."""
    pairs = [(metrics / task / system / "size.json", Path(system) / "size.json")]
    for seed in range(seeds):
        pairs += seed_files(task, system, seed, metrics, training)
    if system in compare.TAUGHT:
        teacher = compare.TAUGHT[system]
        pairs += [(metrics / task / name, Path(name)) for step in teacher.steps for name in step.paths(teacher.system)]
    return pairs


def shared_records(teacher: compare.Teacher) -> List[str]:
    """The step records every teacher's taught system shares (augment's), under results/<task>/."""
    return [record for step in teacher.steps for record in step.records if "{teacher}" not in record]


def check(task: str, system: str, seeds: int, systems: Sequence[str], metrics: Path, training: Path,
          results_dir: Path, keep_shared: bool = False) -> None:
    """Refuse a taught system without its teacher, a teacher without the system it taught
    where results_dir holds that one, a shared step record (augment's) that would change what
    another recorded taught system cost (unless keep_shared: then it is kept), what compare.py
    would refuse, a model without its config and a training record without provenance."""
    teacher = compare.TAUGHT.get(system)
    if teacher and teacher.system not in systems:
        raise ValueError(f"{system} learned from {teacher.system}: record both in one call "
                         f"(--systems {teacher.system},{system})")
    for taught, its_teacher in compare.TAUGHT.items():
        if its_teacher.system == system and taught not in systems and (results_dir / task / taught).is_dir():
            raise ValueError(f"{results_dir / task / taught} learned from the recorded {system}, whose folder this "
                             f"would replace: record both in one call (--systems {system},{taught})")
    if teacher and not keep_shared:  # a step record every teacher shares must stay what the other taught systems cost
        others = [other for other in compare.TAUGHT if other not in systems and (results_dir / task / other).is_dir()]
        for name in shared_records(teacher):
            kept, new = results_dir / task / name, metrics / task / name
            if others and kept.is_file() and new.is_file() and kept.read_bytes() != new.read_bytes():
                raise ValueError(f"{kept}, which the recorded {', '.join(others)} also cost, differs from {new}: "
                                 f"record them in this call too (--systems ...,{','.join(others)}), or keep the "
                                 f"recorded one with --keep-shared ({system}'s cost then counts it)")
    compare.system_row(metrics / task, task, system, seeds)
    for seed in range(seeds):
        check_trained(task, system, seed, metrics, training)


def check_trained(task: str, system: str, seed: int, metrics: Path, training: Path) -> None:
    """Refuse a seed whose model lacks its config or whose training record lacks provenance."""
    for name in results.MODEL_FILES:
        path = training / task / system / f"seed{seed}" / "model-best" / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: `spacy project run {compare.train_command(system)}` writes it")
    train = metrics / task / system / f"seed{seed}" / "train.json"
    if "provenance" not in results.read_json(train):
        raise ValueError(f"{train} has no provenance (an older spacy_cvt_project/per_seed.py wrote it): "
                         f"train again with `spacy project run {compare.train_command(system)}`")


def check_seed(task: str, system: str, seed: int, metrics: Path, training: Path) -> None:
    """Refuse to record one seed of a system alone where compare.py would refuse it (a missing
    or failed run, a score it cannot read), or check_trained would; and a taught system, which is
    recorded with its teacher (`record`)."""
    if system in compare.TAUGHT:
        raise ValueError(f"{system} learned from {compare.TAUGHT[system].system}: record both with "
                         f"`spacy project run record` (--systems {compare.TAUGHT[system].system},{system})")
    run = metrics / task / system / f"seed{seed}"
    evaluation = compare.read(run / "evaluate.json", compare.evaluate_command(system))
    compare.number(evaluation, catalog.score_key(task, system), run / "evaluate.json")
    for name in compare.own_records(task, system):  # its training, and its decoding's tuning where train tunes it
        compare.cost(run / name, compare.train_command(system))
    if seed == 0:
        compare.read(metrics / task / system / "size.json", compare.evaluate_command(system))
    check_trained(task, system, seed, metrics, training)


def record(task: str, seeds: int, metrics: Path, training: Path, results_dir: Path, gpu_id: int,
           systems: Optional[Sequence[str]] = None, keep_shared: bool = False) -> List[str]:
    """Check every system, then replace its folder in results_dir/<task>; the systems recorded.
    With keep_shared, a shared step record results_dir already holds is kept."""
    systems = list(systems or compare.default_systems(metrics / task))
    for system in systems:
        check(task, system, seeds, systems, metrics, training, results_dir, keep_shared)
    for system in systems:  # all first: a taught system's files include some in its teacher's folder
        shutil.rmtree(results_dir / task / system, ignore_errors=True)  # no seeds of an older record stay
    for system in systems:
        shared = shared_records(compare.TAUGHT[system]) if system in compare.TAUGHT else []
        for source, name in files_of(task, system, seeds, metrics, training):
            target = results_dir / task / name
            if keep_shared and str(name) in shared and target.is_file():
                print(f"Kept {target}: {system}'s cost counts it, not {source}")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        (results_dir / task / system / "record.json").write_text(
            json.dumps({"evaluate_gpu_id": gpu_id}, indent=2) + "\n", encoding="utf-8")
    return systems


def record_seed(task: str, system: str, seed: int, metrics: Path, training: Path, results_dir: Path,
                gpu_id: int) -> Path:
    """Check one finished seed of an untaught system (check_seed), then replace its folder in
    results_dir/<task>/<system>/ (and, for seed 0, size.json) and write record.json, keeping the
    other seeds recorded there: how the grid (grid.py) records each run as it finishes. The
    seed's folder."""
    check_seed(task, system, seed, metrics, training)
    folder = results_dir / task / system
    shutil.rmtree(folder / f"seed{seed}", ignore_errors=True)  # no file of an older record of the seed stays
    pairs = seed_files(task, system, seed, metrics, training)
    if seed == 0:
        pairs.append((metrics / task / system / "size.json", Path(system) / "size.json"))
    for source, name in pairs:
        target = results_dir / task / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (folder / "record.json").write_text(json.dumps({"evaluate_gpu_id": gpu_id}, indent=2) + "\n", encoding="utf-8")
    return folder / f"seed{seed}"


def main(
    task: str = typer.Argument(..., help=f"one of {', '.join(catalog.TASKS)}"),
    seeds: int = typer.Option(..., min=1, help="record seeds 0 .. SEEDS-1"),
    gpu_id: int = typer.Option(-1, help="the device evaluate ran on (the words/s column's)"),
    systems: Optional[str] = typer.Option(None, help="comma-separated (default: those compare shows)"),
    keep_shared: bool = typer.Option(False, help="keep a recorded shared step record (augment's) that differs, "
                                     "instead of refusing"),
    metrics: Path = typer.Option(Path("metrics")),
    training: Path = typer.Option(Path("training")),
    results_dir: Path = typer.Option(Path("results"), "--results"),
) -> None:
    """Keep a finished run's small files in results/TASK/: what `report` reads."""
    try:
        recorded = record(task, seeds, metrics, training, results_dir, gpu_id,
                          systems.split(",") if systems else None, keep_shared)
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"record: {err}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Recorded {', '.join(recorded)} ({seeds} seeds) in {results_dir / task}; "
               "`spacy project run report` rebuilds docs/results.md and README's table from results/")
