"""Peak memory of CVT and supervised training over many steps: `spacy project run bench-memory`.

Runs `spacy train` for each config (one after the other: two torch processes on a small machine
slow each other many times over) with spacy-cvt's logger writing a JSONL record every
`--every` steps, and prints the peak resident memory (`peak_rss_mib`) at each record and at the
steps asked for. The logs stay next to the pipelines (`OUTPUT/<config>.jsonl`).

    python scripts/bench_memory.py --config configs/cvt_ner.cfg --config configs/bilstm_ner.cfg \\
        --steps 10000 --paths.train corpus/ner/train.spacy ...

Options it does not know (`--paths.train ...`) go to `spacy train`, as spaCy's CLI passes them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List, Optional

import typer
from logged_train import logged_train


def train(config: Path, output: Path, steps: int, every: int, overrides: List[str], raw: Optional[Path]) -> List[Dict]:
    from spacy.util import load_config

    if raw is not None and "raw" in load_config(config)["paths"]:  # the supervised configs have none
        overrides = [*overrides, "--paths.raw", str(raw)]
    shutil.rmtree(output / config.stem, ignore_errors=True)
    return logged_train(config, output / config.stem, steps, every, ["--training.patience", "0", *overrides])


app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    configs: List[Path] = typer.Option(..., "--config", help="A training config; repeat for several."),
    steps: int = typer.Option(10_000, help="Training steps of each run."),
    every: int = typer.Option(500, help="A record (and a dev evaluation) every this many steps."),
    report: List[int] = typer.Option([1000, 10_000], help="Steps whose peak RSS the summary gives; repeat."),
    output: Path = typer.Option(Path("training/memory"), help="Folder for the pipelines and the JSONL logs."),
    raw: Optional[Path] = typer.Option(None, help="Raw text for the configs that have [paths] raw."),
) -> None:
    """Train each config and print its peak RSS over the steps."""
    output.mkdir(parents=True, exist_ok=True)
    summary = {}
    for config in configs:
        records = train(config, output, steps, every, ctx.args, raw)
        print(f"\n{config.stem}: step, seconds, peak RSS (MiB)")
        for record in records:
            print(f"  {record['step']:>6}  {record['seconds']:>6}  {record['peak_rss_mib']:>8}")
        summary[config.stem] = {r["step"]: r["peak_rss_mib"] for r in records if r["step"] in report}
    print("\npeak RSS (MiB) at steps " + ", ".join(map(str, report)))
    for name, at in summary.items():
        print(f"  {name}: " + ", ".join(str(at.get(step, "-")) for step in report))


if __name__ == "__main__":
    app()
