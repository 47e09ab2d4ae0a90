"""Training speed and memory of CVT against the supervised model: `spacy project run bench-train`.

Runs `spacy train` for each system (its config and the overrides that make it what it is, as
`train` composes them: runs.py) on the same data for 10·N steps (one after the other: two
torch processes on a small machine slow each other many times over), with spacy-cvt's logger
writing a JSONL record every N steps, and prints for each run:
- labeled words/s and its ratio to the first system's (the price of CVT's unlabeled steps),
- unlabeled sentences/s (the docs CVT steps read),
- peak resident memory at step N and at step 10·N.
Speeds are taken between the records at N and 10·N, so start-up and the first steps do not count;
they include one evaluation per record, which `--corpora.dev.limit` keeps small.

    python -m spacy_cvt_project bench-train bilstm cvt --task ner --steps 100 --corpora.dev.limit 20

Options it does not know (`--corpora.dev.limit 20`) go to every `spacy train`, as spaCy's CLI passes them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List, Tuple

import typer

from .. import catalog, runs
from .logged_train import logged_train


def system_args(system: str, task: str, vectors: str, unlabeled: str) -> Tuple[Path, List[str]]:
    """The system's config and `spacy train` overrides on the task's corpus/ files: what makes it
    the system (bilstm: the cvt config without unlabeled text) and its inputs, nothing of a run's
    budget, seed or log, which the benchmark sets."""
    choices = runs.Choices(task, steps=1, eval_frequency=1, vectors=vectors, unlabeled=unlabeled)  # budget unused
    overrides = {**runs.corpus_overrides(task), **runs.input_overrides(system, choices), **runs.fixed_overrides(task, system)}
    return Path(catalog.config_path(task, system)), runs.override_args(overrides)


def train(system: str, task: str, output: Path, steps: int, inputs: Tuple[str, str], extra: List[str]) -> List[Dict]:
    """10·steps of `spacy train` of the system, a record every `steps`."""
    config, overrides = system_args(system, task, *inputs)
    shutil.rmtree(output / system, ignore_errors=True)
    return logged_train(config, output / system, 10 * steps, steps, ["--training.patience", "0", *overrides, *extra])


def summarize(records: List[Dict], steps: int) -> Dict[str, float]:
    """Speeds between the records at `steps` and 10·`steps`, and the peak RSS at both."""
    at = {record["step"]: record for record in records}
    first, last = at[steps], at[10 * steps]
    seconds = last["seconds"] - first["seconds"]
    return {
        "words_per_second": (last["words"] - first["words"]) / seconds,
        "unlabeled_sentences_per_second": (last["unlabeled_docs_seen"] - first["unlabeled_docs_seen"]) / seconds,
        "peak_rss_mib_at_n": first["peak_rss_mib"],
        "peak_rss_mib_at_10n": last["peak_rss_mib"],
    }


def main(
    ctx: typer.Context,
    systems: List[str] = typer.Argument(..., help=f"Systems to train, of {', '.join(catalog.ORDER)}; the first is the reference."),
    task: str = typer.Option(catalog.DEFAULT_TASK, help=f"One of {', '.join(catalog.TASKS)}: its corpus/TASK/ train and dev."),
    steps: int = typer.Option(100, min=1, help="N: each run trains 10·N steps, a record every N."),
    vectors: str = typer.Option("corpus/vectors", help="The word vectors of cvt, bilstm and cnn."),
    unlabeled: str = typer.Option("corpus/unlabeled.txt", help="cvt's unlabeled text."),
    output: Path = typer.Option(Path("training/bench"), help="Folder for the pipelines and the JSONL logs."),
) -> None:
    """Train each system and print its training speed and peak RSS, beside the first's."""
    for system in systems:
        runs.known_system(task, system)
    output.mkdir(parents=True, exist_ok=True)
    results = {system: summarize(train(system, task, output, steps, (vectors, unlabeled), ctx.args), steps)
               for system in systems}
    reference = results[systems[0]]["words_per_second"]
    print(f"\nsteps {steps}..{10 * steps}: labeled words/s, ratio to {systems[0]}, unlabeled sentences/s, "
          f"peak RSS (MiB) at step {steps} and {10 * steps}")
    for name, result in results.items():
        print(f"  {name:<14} {result['words_per_second']:>8,.0f}  {result['words_per_second'] / reference:>5.2f}x"
              f"  {result['unlabeled_sentences_per_second']:>7,.1f}"
              f"  {result['peak_rss_mib_at_n']:>7,.0f}  {result['peak_rss_mib_at_10n']:>7,.0f}")
