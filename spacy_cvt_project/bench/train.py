"""Training speed and memory of CVT against the supervised model: `spacy project run bench-train`.

Runs `spacy train` for each config on the same data for 10·N steps (one after the other: two
torch processes on a small machine slow each other many times over), with spacy-cvt's logger
writing a JSONL record every N steps, and prints for each run:
- labeled words/s and its ratio to the first config's (the price of CVT's unlabeled steps),
- unlabeled sentences/s (the docs CVT steps read),
- peak resident memory at step N and at step 10·N.
Speeds are taken between the records at N and 10·N, so start-up and the first steps do not count;
they include one evaluation per record, which `--corpora.dev.limit` keeps small.

    python -m spacy_cvt_project bench-train --config configs/cvt_ner.cfg \\
        --steps 100 --unlabeled corpus/unlabeled.txt --paths.train corpus/ner/train.spacy ...

Options it does not know (`--paths.train ...`) go to `spacy train`, as spaCy's CLI passes them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List, Optional

import typer
from .logged_train import logged_train


def train(config: Path, output: Path, steps: int, overrides: List[str], unlabeled: Optional[Path]) -> List[Dict]:
    """10·steps of `spacy train`, a record every `steps`."""
    from spacy.util import load_config

    if unlabeled is not None and "unlabeled" in load_config(config)["paths"]:  # the supervised configs have none
        overrides = [*overrides, "--paths.unlabeled", str(unlabeled)]
    shutil.rmtree(output / config.stem, ignore_errors=True)
    return logged_train(config, output / config.stem, 10 * steps, steps, ["--training.patience", "0", *overrides])


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
    configs: List[Path] = typer.Option(..., "--config", help="A training config; repeat. The first is the reference."),
    steps: int = typer.Option(100, help="N: each run trains 10·N steps, a record every N."),
    output: Path = typer.Option(Path("training/bench"), help="Folder for the pipelines and the JSONL logs."),
    unlabeled: Optional[Path] = typer.Option(None, help="Unlabeled text for the configs that have [paths] unlabeled."),
) -> None:
    """Train each config and print its training speed and peak RSS."""
    output.mkdir(parents=True, exist_ok=True)
    results = {config.stem: summarize(train(config, output, steps, ctx.args, unlabeled), steps) for config in configs}
    reference = next(iter(results.values()))["words_per_second"]
    print(f"\nsteps {steps}..{10 * steps}: labeled words/s, ratio to {configs[0].stem}, unlabeled sentences/s, "
          f"peak RSS (MiB) at step {steps} and {10 * steps}")
    for name, result in results.items():
        print(f"  {name:<14} {result['words_per_second']:>8,.0f}  {result['words_per_second'] / reference:>5.2f}x"
              f"  {result['unlabeled_sentences_per_second']:>7,.1f}"
              f"  {result['peak_rss_mib_at_n']:>7,.0f}  {result['peak_rss_mib_at_10n']:>7,.0f}")
