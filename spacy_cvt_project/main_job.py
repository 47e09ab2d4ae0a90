"""Time the main job from a fresh checkout and keep what it measured, for the README's line.

    python -m spacy_cvt_project main-job [--out results/main-job.json] [-- --vars.task ner ...]

runs `python -m spacy project run all` (with any weasel arguments after `--`) in the project
folder and writes results/main-job.json: its wall time, where it ran (the CPU, its cores, whether
../shared was beside the checkout), the commit, and each system's test score beside its recorded
reference, read from the comparison that `all` ends with (metrics/TASK/comparison.json). `report`
turns the record into the README's sentence on the main job's time, so that the number a reader
sees comes from a run, not from prose.

The time only means something for a run that does every step: weasel skips steps whose outputs
it has already made (project.lock), so a checkout with a project.lock is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer

from . import results

RECORD = Path("results") / "main-job.json"
LOCK = "project.lock"  # weasel's record of finished steps


def cpu_model() -> str:
    """The CPU's name as the kernel reports it (codecarbon's name for it, without loading codecarbon)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def task_of(weasel_args: List[str]) -> str:
    """The task the run compares: --vars.task's value, else project.yml's default (ner)."""
    for i, arg in enumerate(weasel_args):
        if arg.startswith("--vars.task="):
            return arg.split("=", 1)[1]
        if arg == "--vars.task" and i + 1 < len(weasel_args):
            return weasel_args[i + 1]
    return "ner"


def scores(comparison: Dict[str, Any]) -> Dict[str, Dict[str, Optional[float]]]:
    """Each system's test score (mean over the run's seeds) beside its recorded reference, ×100."""
    references = {row["system"]: row for row in comparison["recorded"]}
    out = {}
    for row in comparison["rows"]:
        reference = references.get(row["system"])
        out[row["system"]] = {
            "score": round(100 * row["score"]["mean"], 1),
            "reference": round(100 * reference["score"]["mean"], 1) if reference else None,
            "reference_sd": (round(100 * reference["score"]["sd"], 1)
                             if reference and reference["score"]["sd"] is not None else None),
            "reference_stale": bool(reference["stale"]) if reference else None,
        }
    return out


def record(weasel_args: List[str], seconds: float, project: Path, comparison: Dict[str, Any],
           provenance: Dict[str, Any]) -> Dict[str, Any]:
    """The record of one timed run; provenance: results.provenance()'s date, commit and versions."""
    return {
        "command": ["python", "-m", "spacy", "project", "run", "all", *weasel_args],
        "task": comparison["task"],
        "seeds": comparison["seeds"],
        "wall_seconds": round(seconds, 1),
        "machine": f"{cpu_model()}, {os.cpu_count()} CPUs",
        "shared_beside": (project.resolve().parent / "shared").is_dir(),
        **provenance,
        "scores": scores(comparison),
    }


def sentence(data: Dict[str, Any]) -> str:
    """The README's line on the main job, from its record."""
    where = "with ../shared beside the checkout" if data["shared_beside"] else "from a fresh clone with nothing beside it"
    commit = (data.get("git") or {}).get("commit", "unknown")[:7]
    rows = ", ".join(
        f"{system} {s['score']:.1f}" + (f" ({s['reference']:.1f}" + (f" ± {s['reference_sd']:.1f}" if s["reference_sd"] is not None else "")
                                         + ")" if s["reference"] is not None else "")
        for system, s in data["scores"].items())
    return (f"The main job (`{' '.join(data['command'][2:])}`, {data['task']}, {data['seeds']} seed{'s' if data['seeds'] > 1 else ''}) took "
            f"{data['wall_seconds'] / 60:.0f} min on {data['machine']}, {where} (commit {commit}, "
            f"{data['date'][:10]}; results/main-job.json). Its test scores ×100 (recorded reference mean ± sd): {rows}.")


def main(
    ctx: typer.Context,
    out: Path = typer.Option(RECORD, help="where the record goes"),
    project: Path = typer.Option(Path("."), help="the project folder (a fresh checkout)"),
) -> None:
    """Run `spacy project run all` (weasel arguments after --), time it and record it for the README."""
    weasel_args = list(ctx.args)
    if (project / LOCK).exists():
        typer.echo(f"main-job: {project / LOCK} exists, so weasel would skip the steps it records as done and the "
                   f"time would not be the main job's. Run this in a fresh clone (git clone . /tmp/fresh), or "
                   f"delete {LOCK}, corpus/, training/ and metrics/ first.", err=True)
        raise typer.Exit(1)
    task = task_of(weasel_args)
    start = time.monotonic()
    code = subprocess.run([sys.executable, "-m", "spacy", "project", "run", "all", str(project), *weasel_args]).returncode
    seconds = time.monotonic() - start
    if code != 0:
        typer.echo(f"main-job: `spacy project run all` failed (exit {code}) after {seconds / 60:.0f} min; nothing recorded.", err=True)
        raise typer.Exit(code)
    comparison = results.read_json(project / "metrics" / task / "comparison.json")
    data = record(weasel_args, seconds, project, comparison, results.provenance())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    typer.echo(sentence(data))
    typer.echo(f"Saved {out}")
