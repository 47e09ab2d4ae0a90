"""Dev score against training time, per task: who leads at which budget, and where each curve flattens.

A recorded run keeps `spacy train`'s dev evaluations (results/TASK/SYSTEM/seedK/log.jsonl, the JSONL of
spacy-cvt.ConsoleLogger.v1: each evaluation's `score`, spaCy's weighted dev score, and the `seconds` since
training began). `report` draws each task's curves, one colour per system and a line per seed, on a log
time axis: a table at one budget says who leads there; the curves say whether the order would hold
with more time. A taught system's time is its own training, without its teacher's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

from .record import LOG


Curve = List[Tuple[float, float]]  # (seconds of training, dev score ×100)


class Evaluation(NamedTuple):
    """One dev evaluation of a run's log: its step, the seconds since training began, and spaCy's
    weighted dev score (what picks model-best)."""

    step: int
    seconds: float
    score: float


def evaluations(path: Path) -> List[Evaluation]:
    """The dev evaluations of a run's log (log.jsonl), in order; a line that is not one is an error
    naming it."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            found.append(Evaluation(int(entry["step"]), float(entry["seconds"]), float(entry["score"])))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}, line {number}: not an evaluation of spacy-cvt.ConsoleLogger.v1 "
                             f"(needs step, seconds, score): {err}") from err
    return found


def curve(path: Path) -> Curve:
    """One run's (seconds, dev score ×100) at each evaluation after the first step (at step 0 the
    model is untrained and no time has passed: a log axis has no place for it)."""
    return [(e.seconds, 100 * e.score) for e in evaluations(path) if e.step > 0 and e.seconds > 0]


def task_curves(task_folder: Path, systems: List[str]) -> Dict[str, List[Curve]]:
    """Each system's runs that kept their log, seed by seed, in the order given; systems without one are left out."""
    found = {}
    for system in systems:
        runs = sorted((task_folder / system).glob(f"seed*/{LOG}"), key=lambda p: int(p.parent.name[len("seed"):]))
        curves = [points for points in map(curve, runs) if points]
        if curves:
            found[system] = curves
    return found


def plot(title: str, curves: Dict[str, List[Curve]], colours: Dict[str, str], path: Path) -> None:
    """One line per run, a colour per system (the colours of the task's other chart), log time axis."""
    import matplotlib

    matplotlib.use("Agg")  # headless: CI, servers
    import matplotlib.pyplot as plt

    from .compare import plain_log_ticks

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for system, runs in curves.items():
        for i, points in enumerate(runs):
            seconds, scores = zip(*points)
            ax.plot(seconds, scores, "-o", markersize=3, color=colours[system], alpha=0.8,
                    label=f"{system} ({len(runs)} seed{'s' if len(runs) > 1 else ''})" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_xlabel("training time, seconds, log (a taught system's own, without its teacher's)")
    ax.set_ylabel("dev score ×100 (spaCy's weighted score)")
    ax.grid(True, alpha=0.3)
    plain_log_ticks(ax.xaxis)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
