"""Collect evaluation and cost metrics into one comparison per task.

This is the last step of the project workflow and the one that answers its
question: does CVT match a fine-tuned transformer at a fraction of the cost?
It reads, from one folder:

* ``<task>-<system>.json``: ``spacy evaluate --output`` (scores as 0-1
  fractions, ``speed`` in words/s);
* ``<task>-<system>-bench*.json``: ``scripts/benchmark.py`` (words/s, params,
  disk size); a file whose ``device`` starts with "gpu" fills the GPU column,
  so ``-bench.json`` and e.g. ``-bench-gpu.json`` can sit side by side;
* ``<task>-<system>-train.json``: ``scripts/timed.py`` (wall time, energy),

and writes ``comparison.md``, ``comparison.json`` and ``comparison.png``.

Missing pieces never crash the step: a system without files is shown with
"–", a missing score key is reported in the table's notes. Only a folder
without any evaluation file is an error, because then there is nothing to
compare. This module deliberately imports nothing else from ``spacy_cvt`` so
it runs without torch or the CVT model code.

Usage::

    python -m spacy_cvt.compare metrics --output-dir metrics [--tasks ner,pos]
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import typer

DASH = "–"

# Main score per task, in order of preference. The first key present in a
# system's evaluation file is used; any other key than the first is flagged.
MAIN_SCORE_KEYS: Dict[str, Tuple[str, ...]] = {
    "ner": ("ents_f",),
    "aspect": ("ents_f",),
    "pos": ("tag_acc", "pos_acc"),
    "chunk": ("spans_chunks_f", "ents_f"),
}
# Tried for tasks not in MAIN_SCORE_KEYS.
FALLBACK_SCORE_KEYS: Tuple[str, ...] = ("ents_f", "tag_acc", "pos_acc", "spans_chunks_f")

TASK_ORDER: Tuple[str, ...] = ("ner", "pos", "chunk", "aspect")
SYSTEM_ORDER: Tuple[str, ...] = ("cvt", "bilstm", "cnn", "trf")

FILE_RE = re.compile(
    r"^(?P<task>[^-]+)-(?P<system>.+?)(?:-(?P<kind>bench|train)(?:-(?P<variant>[^.]+))?)?\.json$"
)


class NoMetricsError(FileNotFoundError):
    """Raised when a folder holds no ``<task>-<system>.json`` evaluation file."""


@dataclass
class SystemFiles:
    """Everything found on disk for one (task, system) pair."""

    task: str
    system: str
    metrics: Optional[Dict[str, Any]] = None
    metrics_path: Optional[Path] = None
    bench_cpu: Optional[Dict[str, Any]] = None
    bench_cpu_path: Optional[Path] = None
    bench_gpu: Optional[Dict[str, Any]] = None
    bench_gpu_path: Optional[Path] = None
    train: Optional[Dict[str, Any]] = None
    train_path: Optional[Path] = None
    problems: List[str] = field(default_factory=list)


Records = Dict[str, Dict[str, SystemFiles]]


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def parse_filename(name: str) -> Optional[Tuple[str, str, str]]:
    """Split a metrics file name into (task, system, kind).

    kind is "metrics", "bench" or "train"; None for unrelated files such as
    ``comparison.json``.
    """
    match = FILE_RE.match(name)
    if not match:
        return None
    return match["task"], match["system"], match["kind"] or "metrics"


def _read_json(path: Path) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except (OSError, json.JSONDecodeError) as err:
        return None, f"could not read {path} ({err}); treated as missing"
    if not isinstance(data, dict):
        return None, f"{path} does not contain a JSON object; treated as missing"
    return data, None


def load_metrics(metrics_dir: Path) -> Records:
    """Read every metrics, benchmark and training file in ``metrics_dir``.

    Returns ``{task: {system: SystemFiles}}``. Unreadable files are recorded
    as problems on their system rather than raised, so one truncated JSON
    does not hide every other result. Raises :class:`NoMetricsError` naming
    the folder if it holds no evaluation file at all.
    """
    metrics_dir = Path(metrics_dir)
    if not metrics_dir.is_dir():
        raise NoMetricsError(
            f"Metrics folder {metrics_dir} does not exist. Run the evaluate steps "
            "first (`spacy evaluate PIPELINE TEST.spacy --output "
            f"{metrics_dir}/<task>-<system>.json`) or pass the right folder."
        )
    records: Records = {}
    for path in sorted(metrics_dir.glob("*.json")):
        parsed = parse_filename(path.name)
        if parsed is None:
            continue
        task, system, kind = parsed
        entry = records.setdefault(task, {}).setdefault(system, SystemFiles(task, system))
        data, problem = _read_json(path)
        if problem:
            entry.problems.append(problem)
            continue
        if kind == "metrics":
            entry.metrics, entry.metrics_path = data, path
        elif kind == "train":
            entry.train, entry.train_path = data, path
        else:
            _add_bench(entry, data, path)
    if not any(e.metrics is not None for systems in records.values() for e in systems.values()):
        found = sum(len(s) for s in records.values())
        raise NoMetricsError(
            f"No evaluation metrics found in {metrics_dir}: expected files named "
            "<task>-<system>.json written by `spacy evaluate ... --output`"
            + (f" (found {found} benchmark/training file set(s) only)" if found else "")
            + ". Run the evaluate steps first."
        )
    return records


def _add_bench(entry: SystemFiles, data: Dict[str, Any], path: Path) -> None:
    """File a benchmark result under the CPU or GPU slot by its ``device``."""
    slot = "gpu" if str(data.get("device", "cpu")).startswith("gpu") else "cpu"
    current = getattr(entry, f"bench_{slot}_path")
    if current is not None:
        entry.problems.append(
            f"several {slot.upper()} benchmark files ({current.name}, {path.name}); "
            f"using {current.name}"
        )
        return
    setattr(entry, f"bench_{slot}", data)
    setattr(entry, f"bench_{slot}_path", path)


# --------------------------------------------------------------------------
# Building the table
# --------------------------------------------------------------------------


ScoreKeys = Dict[str, Tuple[str, ...]]


def score_keys_for(task: str, overrides: Optional[ScoreKeys] = None) -> Tuple[str, ...]:
    """Candidate main-score keys for ``task``, most preferred first.

    ``overrides`` (from ``--score-key TASK=KEY``) come first, so e.g. the
    seqeval F1 can be made the headline number without editing code.
    """
    default = MAIN_SCORE_KEYS.get(task, FALLBACK_SCORE_KEYS)
    extra = tuple((overrides or {}).get(task, ()))
    return extra + tuple(k for k in default if k not in extra)


def parse_score_keys(values: Optional[Sequence[str]]) -> ScoreKeys:
    """Parse ``["ner=ents_seqeval_f", ...]`` into ``{"ner": ("ents_seqeval_f",)}``."""
    out: Dict[str, Tuple[str, ...]] = {}
    for value in values or []:
        task, sep, key = value.partition("=")
        if not sep or not task.strip() or not key.strip():
            raise ValueError(f"--score-key expects TASK=KEY (e.g. ner=ents_f), got {value!r}")
        out[task.strip()] = out.get(task.strip(), ()) + (key.strip(),)
    return out


def seqeval_f(metrics: Dict[str, Any], score_key: Optional[str]) -> Optional[float]:
    """The seqeval F1 matching the main score, if the scorer wrote one.

    Prefers ``<prefix>_seqeval_f`` for a ``<prefix>_f`` score key, else the
    only ``*_seqeval_f`` key present; None when absent or ambiguous.
    """
    if score_key and score_key.endswith("_f"):
        value = _number(metrics.get(score_key[:-2] + "_seqeval_f"))
        if value is not None:
            return value
    keys = [k for k in metrics if k.endswith("_seqeval_f") and _number(metrics[k]) is not None]
    return _number(metrics[keys[0]]) if len(keys) == 1 else None


def pick_score(
    task: str, metrics: Dict[str, Any], overrides: Optional[ScoreKeys] = None
) -> Tuple[Optional[str], Optional[float], Optional[float], Optional[float], Optional[str]]:
    """Return (key, score, precision, recall, note) for one evaluation file.

    Precision/recall come from the sibling ``_p``/``_r`` keys of an ``_f``
    score (``ents_f`` -> ``ents_p``, ``ents_r``). A null value counts as
    missing (spaCy writes null when e.g. the gold data has no entities).
    """
    candidates = score_keys_for(task, overrides)
    for key in candidates:
        value = metrics.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            precision = recall = None
            if key.endswith("_f"):
                precision = _number(metrics.get(key[:-2] + "_p"))
                recall = _number(metrics.get(key[:-2] + "_r"))
            note = None
            if key != candidates[0]:
                note = f"used {key} because {candidates[0]} is missing"
            return key, float(value), precision, recall, note
    present = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)))
    note = (
        f"no score: none of {', '.join(candidates)} in the evaluation file "
        f"(numeric keys present: {', '.join(present) or 'none'})"
    )
    return None, None, None, None, note


def _number(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (isinstance(value, float) and math.isnan(value)):
            return float(value)
    return None


def order_systems(found: Iterable[str], expected: Sequence[str] = SYSTEM_ORDER) -> List[str]:
    """Expected systems in their fixed order, then any others alphabetically."""
    found = set(found)
    return list(expected) + sorted(found - set(expected))


def order_tasks(found: Iterable[str]) -> List[str]:
    found = set(found)
    return [t for t in TASK_ORDER if t in found] + sorted(found - set(TASK_ORDER))


def build_row(
    task: str,
    system: str,
    files: Optional[SystemFiles],
    overrides: Optional[ScoreKeys] = None,
) -> Dict[str, Any]:
    """One table row; every value is None when its source file is missing."""
    row: Dict[str, Any] = {
        "system": system,
        "score_key": None,
        "score": None,
        "precision": None,
        "recall": None,
        "seqeval_f": None,
        "eval_words_per_second": None,
        "train_seconds": None,
        "energy_kwh": None,
        "energy_is_estimate": None,
        "energy_note": None,
        "words_per_second_cpu": None,
        "words_per_second_gpu": None,
        "gpu_device": None,
        "params": None,
        "vectors_params": None,
        "disk_bytes": None,
        "files": {"metrics": None, "bench_cpu": None, "bench_gpu": None, "train": None},
        "notes": [],
    }
    if files is None:
        row["notes"].append("no files for this system")
        return row
    row["notes"].extend(files.problems)
    if files.metrics is None:
        row["notes"].append(f"no evaluation file {task}-{system}.json")
    else:
        key, score, precision, recall, note = pick_score(task, files.metrics, overrides)
        row.update(score_key=key, score=score, precision=precision, recall=recall)
        if key is None or "seqeval" not in key:
            row["seqeval_f"] = seqeval_f(files.metrics, key)
        row["eval_words_per_second"] = _number(files.metrics.get("speed"))
        row["files"]["metrics"] = str(files.metrics_path)
        if note:
            row["notes"].append(note)
    for slot in ("cpu", "gpu"):
        bench = getattr(files, f"bench_{slot}")
        if bench is None:
            continue
        row[f"words_per_second_{slot}"] = _number(bench.get("words_per_second"))
        row["files"][f"bench_{slot}"] = str(getattr(files, f"bench_{slot}_path"))
        if slot == "gpu":
            row["gpu_device"] = bench.get("device")
    # Model size does not depend on the device: take it from either benchmark.
    for bench in (files.bench_cpu, files.bench_gpu):
        if bench is not None:
            for key in ("params", "vectors_params", "disk_bytes"):
                if row[key] is None and isinstance(bench.get(key), int):
                    row[key] = bench[key]
    # Prefer the -train.json; a benchmark run with --train-log carries a copy.
    train_sources = [
        (files.train, files.train_path),
        (files.bench_cpu, files.bench_cpu_path),
        (files.bench_gpu, files.bench_gpu_path),
    ]
    for source, path in train_sources:
        if source is None or source.get("train_seconds") is None:
            continue
        row["train_seconds"] = _number(source.get("train_seconds"))
        row["energy_kwh"] = _number(source.get("energy_kwh"))
        row["energy_is_estimate"] = source.get("energy_is_estimate")
        row["energy_note"] = source.get("energy_note")
        if path == files.train_path:
            row["files"]["train"] = str(path)
        code = source.get("returncode", source.get("train_returncode"))
        if isinstance(code, int) and code != 0:
            row["notes"].append(f"training command exited with code {code}")
        break
    return row


def build_table(
    records: Records,
    tasks: Optional[Sequence[str]] = None,
    systems: Sequence[str] = SYSTEM_ORDER,
    score_keys: Optional[ScoreKeys] = None,
) -> Dict[str, Dict[str, Any]]:
    """Rows per task, systems in a fixed order, ready to render or dump.

    ``tasks`` restricts (and orders) the output; a requested task without
    files still gets a table of dashes and a note, so a typo is visible.
    """
    task_list = list(tasks) if tasks else order_tasks(records)
    tables: Dict[str, Dict[str, Any]] = {}
    for task in task_list:
        by_system = records.get(task, {})
        rows = [
            build_row(task, system, by_system.get(system), score_keys)
            for system in order_systems(by_system, systems)
        ]
        notes = [] if by_system else [f"no files for task {task!r}"]
        used = sorted({r["score_key"] for r in rows if r["score_key"]})
        tables[task] = {
            "task": task,
            "score_keys": list(score_keys_for(task, score_keys)),
            "score_keys_used": used,
            "rows": rows,
            "notes": notes,
        }
    return tables


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def fmt_pct(value: Optional[float]) -> str:
    return DASH if value is None else f"{value * 100:.1f}"


def fmt_seconds(value: Optional[float]) -> str:
    if value is None:
        return DASH
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def fmt_rate(value: Optional[float]) -> str:
    return DASH if value is None else f"{value:,.0f}"


def fmt_millions(value: Optional[int]) -> str:
    if value is None:
        return DASH
    millions = value / 1e6
    return f"{millions:.1f}" if millions >= 10 else f"{millions:.2f}"


def fmt_mb(value: Optional[int]) -> str:
    return DASH if value is None else f"{value / 1e6:.1f}"


def fmt_energy(value: Optional[float], is_estimate: Optional[bool]) -> str:
    if value is None:
        return DASH
    text = f"{value:.3g}"
    return text + " (est.)" if is_estimate else text


def _columns(rows: List[Dict[str, Any]], score_label: str) -> List[Tuple[str, str, Any]]:
    """(header, alignment, formatter) for the columns worth showing.

    P/R, GPU and vectors columns only appear when some row has a value, so
    POS tables do not carry two columns of dashes.
    """
    def has(key: str) -> bool:
        return any(r[key] not in (None, 0) for r in rows)

    cols: List[Tuple[str, str, Any]] = [
        ("system", "l", lambda r: r["system"]),
        (score_label, "r", lambda r: fmt_pct(r["score"])),
    ]
    if has("precision") or has("recall"):
        cols += [("P", "r", lambda r: fmt_pct(r["precision"])), ("R", "r", lambda r: fmt_pct(r["recall"]))]
    if has("seqeval_f"):
        cols.append(("F1 (seqeval)", "r", lambda r: fmt_pct(r["seqeval_f"])))
    cols += [
        ("train time", "r", lambda r: fmt_seconds(r["train_seconds"])),
        ("words/s CPU", "r", lambda r: fmt_rate(r["words_per_second_cpu"])),
    ]
    if has("words_per_second_gpu"):
        cols.append(("words/s GPU", "r", lambda r: fmt_rate(r["words_per_second_gpu"])))
    cols.append(("params (M)", "r", lambda r: fmt_millions(r["params"])))
    if has("vectors_params"):
        cols.append(("vectors (M)", "r", lambda r: fmt_millions(r["vectors_params"])))
    cols += [
        ("disk (MB)", "r", lambda r: fmt_mb(r["disk_bytes"])),
        ("energy (kWh)", "r", lambda r: fmt_energy(r["energy_kwh"], r["energy_is_estimate"])),
    ]
    return cols


def render_task(table: Dict[str, Any]) -> str:
    """Markdown section (heading, table, notes) for one task."""
    rows = table["rows"]
    used = table["score_keys_used"] or [table["score_keys"][0]]
    score_label = f"score ({'/'.join(used)}) ×100"
    cols = _columns(rows, score_label)
    lines = [f"## {table['task']}", ""]
    lines.append("| " + " | ".join(c[0] for c in cols) + " |")
    lines.append("|" + "|".join("---:" if c[1] == "r" else "---" for c in cols) + "|")
    for row in rows:
        lines.append("| " + " | ".join(str(c[2](row)) for c in cols) + " |")
    notes = list(table["notes"])
    notes += [f"{r['system']}: {n}" for r in rows for n in r["notes"]]
    gpus = sorted({r["gpu_device"] for r in rows if r["gpu_device"]})
    if gpus:
        notes.append(f"GPU: {', '.join(gpus)}")
    estimates = {r["energy_note"] for r in rows if r["energy_is_estimate"] and r["energy_note"]}
    for note in sorted(estimates):
        notes.append(f"energy (est.): {note}")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def write_markdown(tables: Dict[str, Dict[str, Any]], path: Path, source: Optional[Path] = None) -> Path:
    """Write ``comparison.md``: one table per task, scores ×100."""
    header = [
        "# Accuracy vs. cost",
        "",
        "Scores are ×100 on the test set (`spacy evaluate --gold-preproc`); "
        "words/s from `scripts/benchmark.py`; train time and energy from "
        f"`scripts/timed.py`. {DASH} = not available.",
    ]
    if source is not None:
        header.append(f"Source folder: `{source}`.")
    text = "\n".join(header) + "\n\n" + "\n".join(render_task(t) for t in tables.values())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf8")
    return path


def write_json(tables: Dict[str, Dict[str, Any]], path: Path, source: Optional[Path] = None) -> Path:
    """Write ``comparison.json`` (same data as the markdown, raw units)."""
    payload = {
        "schema_version": 1,
        "source_dir": str(source) if source is not None else None,
        "units": {
            "score": "fraction 0-1",
            "words_per_second_cpu": "words/s",
            "words_per_second_gpu": "words/s",
            "train_seconds": "s",
            "energy_kwh": "kWh",
            "params": "count",
            "disk_bytes": "bytes",
        },
        "tasks": tables,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    return path


def _cost_axis(rows: List[Dict[str, Any]]) -> Tuple[Optional[str], Optional[str]]:
    """Pick the x axis: CPU words/s if any system has it, else params."""
    if any(r["words_per_second_cpu"] for r in rows):
        return "words_per_second_cpu", "inference speed, CPU (words/s, log)"
    if any(r["params"] for r in rows):
        return "params", "parameters (log)"
    return None, None


def plot(tables: Dict[str, Dict[str, Any]], path: Path) -> Path:
    """Write ``comparison.png``: per task, score against inference cost.

    One subplot per task, one labelled point per system with both a score
    and a cost; systems that cannot be placed are listed in the subplot. The
    Agg backend is forced so this runs on headless machines and in CI.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(tables), 1)
    ncols = min(n, 2)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 4.5 * nrows), squeeze=False)
    flat = list(axes.flat)
    # One colour per system across all subplots, so systems are easy to follow.
    all_systems = list(dict.fromkeys(r["system"] for t in tables.values() for r in t["rows"]))
    palette = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    colours = {name: palette[i % len(palette)] for i, name in enumerate(all_systems)}
    for ax, table in zip(flat, tables.values()):
        rows = table["rows"]
        key, label = _cost_axis(rows)
        used = table["score_keys_used"] or [table["score_keys"][0]]
        ax.set_title(f"{table['task']}")
        ax.set_ylabel(f"{'/'.join(used)} ×100")
        placed, skipped = [], []
        for row in rows:
            x = row[key] if key else None
            if row["score"] is None or not x:
                skipped.append(row["system"])
                continue
            placed.append(row)
            ax.scatter([x], [row["score"] * 100], s=40, color=colours[row["system"]])
            ax.annotate(row["system"], (x, row["score"] * 100), textcoords="offset points", xytext=(5, 5))
        if key:
            ax.set_xlabel(label)
            if placed:
                ax.set_xscale("log")
                ax.margins(x=0.15, y=0.1)  # room for the labels
        if skipped:
            ax.text(
                0.02, 0.02, "not plotted: " + ", ".join(skipped),
                transform=ax.transAxes, fontsize=8, color="gray",
            )
        if not placed:
            ax.text(0.5, 0.5, "no system with both score and cost", ha="center",
                    va="center", transform=ax.transAxes, color="gray")
        ax.grid(True, alpha=0.3)
    for ax in flat[len(tables):]:
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def split_list(values: Optional[List[str]]) -> Optional[List[str]]:
    """Accept both ``--tasks ner --tasks pos`` and ``--tasks ner,pos``."""
    if not values:
        return None
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


def compare(
    metrics_dir: Path,
    output_dir: Optional[Path] = None,
    tasks: Optional[Sequence[str]] = None,
    systems: Sequence[str] = SYSTEM_ORDER,
    score_keys: Optional[ScoreKeys] = None,
) -> Dict[str, Path]:
    """Load, tabulate and write all three outputs; return their paths."""
    metrics_dir = Path(metrics_dir)
    output_dir = Path(output_dir) if output_dir is not None else metrics_dir
    records = load_metrics(metrics_dir)
    tables = build_table(records, tasks=tasks, systems=systems, score_keys=score_keys)
    if tasks and not any(
        r["files"]["metrics"] for t in tables.values() for r in t["rows"]
    ):
        raise NoMetricsError(
            f"None of the requested tasks ({', '.join(tasks)}) has an evaluation file "
            f"in {metrics_dir}; tasks found there: {', '.join(order_tasks(records))}."
        )
    return {
        "markdown": write_markdown(tables, output_dir / "comparison.md", source=metrics_dir),
        "json": write_json(tables, output_dir / "comparison.json", source=metrics_dir),
        "png": plot(tables, output_dir / "comparison.png"),
    }


app = typer.Typer(add_completion=False)


@app.command()
def main(
    metrics_dir: Path = typer.Argument(..., help="Folder with <task>-<system>[-bench|-train].json"),
    output_dir: Optional[Path] = typer.Option(
        None, "--output-dir", "-o", help="Where to write comparison.{md,json,png} (default: METRICS_DIR)"
    ),
    tasks: Optional[List[str]] = typer.Option(
        None, "--tasks", "-t", help="Tasks to include, e.g. --tasks ner,pos (default: all found)"
    ),
    systems: Optional[List[str]] = typer.Option(
        None, "--systems", "-s", help="Systems always shown, in order (default: cvt,bilstm,cnn,trf)"
    ),
    score_key: Optional[List[str]] = typer.Option(
        None, "--score-key", "-k", help="TASK=KEY main score override, e.g. ner=ents_seqeval_f"
    ),
) -> None:
    """Write comparison.md/json/png from evaluation, benchmark and training metrics."""
    try:
        overrides = parse_score_keys(split_list(score_key))
    except ValueError as err:
        typer.echo(f"compare: {err}", err=True)
        raise typer.Exit(code=2)
    try:
        paths = compare(
            metrics_dir,
            output_dir,
            tasks=split_list(tasks),
            systems=split_list(systems) or SYSTEM_ORDER,
            score_keys=overrides,
        )
    except NoMetricsError as err:
        typer.echo(f"compare: {err}", err=True)
        raise typer.Exit(code=1)
    typer.echo(paths["markdown"].read_text(encoding="utf8"))
    for kind, path in paths.items():
        typer.echo(f"Saved {kind}: {path}")


if __name__ == "__main__":
    app()
