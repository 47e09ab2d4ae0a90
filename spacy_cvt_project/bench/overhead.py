"""Per-step overhead of CVT training: `spacy project run bench-overhead`.

Trains a CVT config in this process with spaCy's own training loop
(`spacy.training.loop.train_while_improving`, evaluation stubbed out) after shrinking every width
of its CVT models to a few units (`TINY`): the arithmetic is then near zero, and what a step still
costs is per-step work: reading and tokenizing unlabeled text, featurizing Docs, Example and gold
handling, torch's dispatch of many small ops, the optimizer's per-parameter calls. It prints:
- ms per step, per labeled step (the step without its CVT steps) and per CVT step (the component's
  `unlabeled_step`), as wall time and as the training thread's CPU time: other processes on a
  shared machine stretch the wall time, not the CPU time, and the thread that reads unlabeled text ahead
  is not counted (with a free core it runs beside the step; on a busy one, or while the step
  holds Python's GIL, it still slows the wall time);
- the split of both by stage, from a window of steps under torch.profiler: spacy-cvt marks its
  stages with `torch.profiler.record_function("spacy_cvt.<stage>")` (featurize, to_device,
  forward, backward, optimizer, unlabeled_text); what no stage covers is spaCy's Example handling, gold
  alignment and the losses. Times under the profiler are larger than without it.

    python -m spacy_cvt_project bench-overhead configs/cvt_ner.cfg --paths.train corpus/ner/train.spacy \\
        --paths.dev corpus/ner/dev.spacy --paths.unlabeled corpus/unlabeled.txt

Options it does not know (`--paths.train ...`) are config overrides, as with `spacy train`.
`--widths config` keeps the config's widths (the arithmetic of the real model).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import typer

TINY = {  # CVTTagger.v1 widths of a few units: arithmetic near zero, every per-step cost kept
    "hidden_size1": 8,
    "projection_size1": 0,
    "hidden_size2": 8,
    "projection_size2": 0,
    "module_width": 8,
    "char_width": 4,
    "char_filters": 4,
    "hash_width": 4,
}
STAGE_PREFIX = "spacy_cvt."  # the names spacy-cvt gives its torch.profiler ranges
CVT_STEP = "bench.cvt_step"  # the range this script puts around each CVT step
STEP = "bench.step"
REST = "rest: Examples, gold, losses"


def cvt_components(config: Dict[str, Any]) -> List[str]:
    """The components whose model is a spacy-cvt tagger."""
    return [
        name
        for name, component in config["components"].items()
        if str(component.get("model", {}).get("@architectures", "")).startswith("spacy-cvt.CVTTagger")
    ]


def tiny_overrides(config: Dict[str, Any]) -> Dict[str, Any]:
    return {
        f"components.{name}.model.{key}": value for name in cvt_components(config) for key, value in TINY.items()
    }


def training_loop(config_path: Path, overrides: Dict[str, Any], tiny: bool, seed: int) -> Tuple[List[Any], Iterator[Any]]:
    """The config's CVT components and spaCy's training loop over it (a generator: one step a ``next``)."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import create_train_batches, train_while_improving
    from spacy.util import load_config, registry, resolve_dot_names

    import spacy_cvt  # noqa: F401  (registers the architectures and readers)

    config = load_config(config_path, overrides=overrides, interpolate=False)
    if tiny:
        config = load_config(config_path, overrides={**overrides, **tiny_overrides(config)}, interpolate=False)
    config["training"]["seed"] = seed
    nlp = init_nlp(config)
    interpolated = nlp.config.interpolate()
    training = registry.resolve(interpolated["training"], schema=None)
    train_corpus = resolve_dot_names(interpolated, [training["train_corpus"]])[0]
    batches = create_train_batches(nlp, train_corpus, training["batcher"], training["max_epochs"])
    steps = train_while_improving(
        nlp, training["optimizer"], batches, lambda: (0.0, {}),
        dropout=training["dropout"], eval_frequency=10**9, accumulate_gradient=1, patience=0,
        max_steps=0, exclude=[], annotating_components=[], before_update=None,
    )
    return [nlp.get_pipe(name) for name in cvt_components(interpolated)], steps


class CVTStepTimer:
    """Wraps each component's ``unlabeled_step`` to time it and mark it for the profiler."""

    def __init__(self, components: List[Any]):
        self.wall = self.cpu = 0.0
        for component in components:
            component.unlabeled_step = self._timed(component.unlabeled_step)

    def _timed(self, step: Callable) -> Callable:
        import torch

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            with torch.profiler.record_function(CVT_STEP):
                losses = step(*args, **kwargs)
            self.wall += time.perf_counter() - wall
            self.cpu += time.thread_time() - cpu
            return losses

        return timed


def timed_steps(steps: Iterator[Any], timer: CVTStepTimer, n: int) -> Dict[str, float]:
    """Mean ms per step over ``n`` steps: whole step, labeled part, CVT steps; wall and CPU."""
    timer.wall = timer.cpu = 0.0
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(n):
        next(steps)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    per_step = lambda seconds: 1000 * seconds / n  # noqa: E731
    return {
        "step_wall": per_step(wall), "step_cpu": per_step(cpu),
        "labeled_wall": per_step(wall - timer.wall), "labeled_cpu": per_step(cpu - timer.cpu),
        "cvt_wall": per_step(timer.wall), "cvt_cpu": per_step(timer.cpu),
    }


def profiled_split(steps: Iterator[Any], n: int) -> Dict[str, Dict[str, float]]:
    """ms per step by stage, for the labeled part and the CVT steps, under torch.profiler."""
    from torch.profiler import ProfilerActivity, profile, record_function

    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(n):
            with record_function(STEP):
                next(steps)
    split: Dict[str, Dict[str, float]] = {"labeled": defaultdict(float), "cvt": defaultdict(float)}
    step_total = cvt_total = 0.0
    for event in profiler.events():
        if event.name == STEP:
            step_total += event.cpu_time_total
        elif event.name == CVT_STEP:
            cvt_total += event.cpu_time_total
        elif event.name.startswith(STAGE_PREFIX):
            split["cvt" if inside(event, CVT_STEP) else "labeled"][event.name[len(STAGE_PREFIX):]] += (
                event.cpu_time_total
            )
    totals = {"labeled": step_total - cvt_total, "cvt": cvt_total}
    result = {}
    for phase, stages in split.items():
        stages[REST] = totals[phase] - sum(stages.values())
        stages["total"] = totals[phase]
        result[phase] = {stage: microseconds / 1000 / n for stage, microseconds in stages.items()}
    return result


def inside(event: Any, name: str) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if parent.name == name:
            return True
        parent = parent.cpu_parent
    return False


def report(times: Dict[str, float], split: Optional[Dict[str, Dict[str, float]]], n: int, n_profiled: int) -> None:
    print(f"\nms per step, mean of {n} steps: wall (CPU of the training thread)")
    for part, label in (("step", "whole step"), ("labeled", "labeled part"), ("cvt", "CVT steps")):
        print(f"  {label:<14} {times[part + '_wall']:>8.1f} ({times[part + '_cpu']:.1f})")
    if split is None:
        return
    print(f"\nsplit by stage, CPU ms per step under torch.profiler ({n_profiled} steps)")
    print(f"  {'stage':<30} {'labeled':>8} {'CVT':>8}")
    stages = sorted(set(split["labeled"]) | set(split["cvt"]), key=lambda s: (s == "total", s == REST, s))
    for stage in stages:
        print(f"  {stage:<30} {split['labeled'].get(stage, 0.0):>8.1f} {split['cvt'].get(stage, 0.0):>8.1f}")


def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="A CVT training config, e.g. configs/cvt_ner.cfg."),
    steps: int = typer.Option(200, help="Steps to time, after the warm-up."),
    warmup: int = typer.Option(20, help="Steps run first and not timed."),
    profile_steps: int = typer.Option(30, help="Steps under torch.profiler for the split by stage (0: none)."),
    widths: str = typer.Option("tiny", help="tiny: every width a few units (overhead only); config: as configured."),
    seed: int = typer.Option(0, help="[training] seed."),
    output: Optional[Path] = typer.Option(None, help="Also write the numbers to this JSON file."),
) -> None:
    """Time CVT training steps with (near) zero arithmetic and split them by stage."""
    from spacy.cli._util import parse_config_overrides

    if widths not in ("tiny", "config"):
        raise typer.BadParameter(f"--widths is 'tiny' or 'config', got '{widths}'.")
    overrides = parse_config_overrides(ctx.args)
    components, training = training_loop(config, overrides, widths == "tiny", seed)
    if not components:
        raise typer.BadParameter(f"{config} has no spacy-cvt.CVTTagger component to time.")
    timer = CVTStepTimer(components)
    for _ in range(warmup):
        next(training)
    times = timed_steps(training, timer, steps)
    split = profiled_split(training, profile_steps) if profile_steps else None
    report(times, split, steps, profile_steps)
    if output is not None:
        output.write_text(json.dumps({"config": str(config), "widths": widths, "steps": steps, "times": times,
                                      "split": split}, indent=2), encoding="utf-8")
