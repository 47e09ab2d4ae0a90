"""Run a command once per seed; with --record, each run under codecarbon's energy tracker.

The comparison reports mean ± sd over seeds, and training cost is half of its question, but
`spacy project` has no loop and `spacy train` no energy meter. So the project's training steps run

    python -m spacy_cvt_project per-seed --seeds 3 --record metrics/ner/cvt/seed{seed}/train.json -- \\
        python -m spacy train configs/cvt_ner.cfg --output training/ner/cvt/seed{seed} --system.seed {seed} ...

Every `{seed}` after `--` and in --record becomes 0, 1, ... seeds-1. A leading `python` is this
interpreter, as in `spacy project run`. The runs stop at the first failing seed and this script
exits with its code (its record is written all the same).

With --record, codecarbon's OfflineEmissionsTracker watches each run in machine mode (the
command is a child process, which process mode would not see; so other work on the machine
counts too) and writes no files of its own. The record holds the wall time, the energy in kWh
and codecarbon's whole emissions data. codecarbon reads a CPU energy counter only through
Linux's RAPL (`codecarbon.core.cpu.is_rapl_available()`, the check it makes itself); without
one it models CPU power from load and a TDP table, and RAM power is always modelled, so the
energy is then flagged as an estimate (also, conservatively, on macOS and Windows). The wall
time is the command's alone, from after the tracker has started to before it stops (its start
takes seconds). The record also keeps where the run trained (`provenance`: the date, the git
commit and whether tracked files were edited, spacy_cvt's TRAINING_VERSION, the versions of
spaCy, thinc, torch and spacy-transformers; spacy_cvt_project/results.py), which `spacy project run record`
copies into results/ and `report` checks the run against.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer

SEED = "{seed}"


def with_seed(command: List[str], seed: int) -> List[str]:
    """The command for one seed; `python` first means this interpreter."""
    command = [arg.replace(SEED, str(seed)) for arg in command]
    if command[0] in ("python", "python3"):
        command[0] = sys.executable
    return command


def run(command: List[str]) -> int:
    """Exit code of the command, its output streaming through: 128+N if killed by signal N,
    as a shell reports it; 127 if it cannot start."""
    try:
        code = subprocess.run(command).returncode
    except OSError as err:
        print(f"per-seed: cannot run {command[0]!r}: {err}", file=sys.stderr)
        return 127
    return code if code >= 0 else 128 - code


def energy_basis(cpu_counter: bool, gpu_count: int) -> str:
    """What codecarbon's kWh rest on, in words."""
    cpu = "CPU from the RAPL counter" if cpu_counter else "CPU modelled from load and TDP (no RAPL counter)"
    gpus = f"{gpu_count} GPU(s) read through NVML" if gpu_count else "no GPU"
    return f"{cpu}, RAM modelled, {gpus}; whole machine"


def tracked_run(command: List[str]) -> Dict[str, Any]:
    """Run the command under codecarbon's tracker; the record of its cost."""
    from codecarbon import OfflineEmissionsTracker
    from codecarbon.core.cpu import is_rapl_available
    from .results import provenance

    # log_level="error" applies only after codecarbon's first INFO and WARNING lines
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    # Energy in kWh does not depend on the country; codecarbon needs one for its CO2 figure.
    tracker = OfflineEmissionsTracker(
        country_iso_code="USA", tracking_mode="machine", output_methods=[], log_level="error"
    )
    started = provenance()
    tracker.start()
    try:
        start = time.perf_counter()
        returncode = run(command)
        seconds = time.perf_counter() - start
    finally:
        tracker.stop()
    data = getattr(tracker, "final_emissions_data", None)  # set by stop(), which logs and swallows its errors
    record: Dict[str, Any] = {"command": command, "returncode": returncode, "seconds": seconds, "provenance": started}
    if data is None:
        return {**record, "energy_kwh": None, "energy_is_estimate": None,
                "energy_basis": "codecarbon's tracker returned no data (its stop() failed)", "codecarbon": None}
    counter = sys.platform == "linux" and is_rapl_available()
    return {**record, "energy_kwh": data.energy_consumed, "energy_is_estimate": not counter,
            "energy_basis": energy_basis(counter, int(data.gpu_count or 0)), "codecarbon": dict(data.values)}


def require_codecarbon() -> None:
    """Stop with how to install codecarbon where a record is asked for and it is missing."""
    try:
        import codecarbon  # noqa: F401
    except ImportError:
        raise SystemExit("per-seed: --record needs codecarbon: pip install -e '.[project]' (or pip install codecarbon)")


def run_seed(command: List[str], seed: int, record: Optional[str] = None) -> int:
    """Run `command` for one seed ({seed} replaced), under codecarbon's tracker with a record
    where `record` (a path with {seed}) is given; its exit code. The grid (grid.py) runs each
    seed through this, as run_seeds does here."""
    seeded = with_seed(command, seed)
    if not record:
        return run(seeded)
    require_codecarbon()
    result = {"seed": seed, **tracked_run(seeded)}
    path = Path(record.replace(SEED, str(seed)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result["returncode"]


def run_seeds(command: List[str], seeds: int, record: Optional[str] = None) -> int:
    """Run `command` for seeds 0 .. seeds-1 (run_seed); stop at the first failing seed and
    return its exit code."""
    if record:
        require_codecarbon()
    for seed in range(seeds):
        code = run_seed(command, seed, record)
        if code != 0:
            print(f"per-seed: seed {seed} exited with {code}; seeds after it were not run", file=sys.stderr)
            return code
    return 0


def main(
    ctx: typer.Context,
    seeds: int = typer.Option(..., min=1, help="run seeds 0 .. SEEDS-1"),
    record: Optional[str] = typer.Option(None, help="JSON record per seed, e.g. metrics/ner/cvt/seed{seed}/train.json"),
) -> None:
    """Run the command after `--` once per seed ({seed} replaced); with --record, each run under
    codecarbon's energy tracker."""
    if not ctx.args:
        raise typer.BadParameter("give the command to run after `--`")
    raise typer.Exit(run_seeds(list(ctx.args), seeds, record))
