"""Each task's data set as spaCy's .spacy train/dev/test files (corpus/TASK/), one converter a
data set, each surviving its source files' quirks (../shared/data/README.md lists them)."""

from __future__ import annotations

from pathlib import Path
from typing import Union

import typer

from .. import catalog
from ..data import find_dataset
from ..own_corpus import adopt
from . import conll2000, semeval14, ud, wnut17


def convert_task(task: str, data_dir: Union[str, Path], output_dir: Path) -> None:
    """Convert the task's data set, found under the data_dir search list ("data,../shared/data"),
    into output_dir."""
    source = find_dataset(catalog.known_task(task).dataset, data_dir)
    if task == "ner":
        wnut17.main(source, output_dir, wnut17.WNUT_FILES["train"], wnut17.WNUT_FILES["dev"],
                    wnut17.WNUT_FILES["test"], ",".join(wnut17.WNUT_LABELS))
    elif task == "pos":
        ud.main(source, output_dir)
    elif task == "chunk":
        # CoNLL-2000 has no dev split: 1,000 train sentences, chosen with seed 0, are held out
        conll2000.main(source, output_dir, dev_size=1000, seed=0)
    elif task == "aspect":
        semeval14.main(source, output_dir, semeval14.Domain.both)
    else:  # a task added to catalog.TASKS needs its converter here
        raise ValueError(f"task {task!r} has no converter in spacy_cvt_project/convert/__init__.py")


def main(
    task: str = typer.Argument(..., help=f"one of {', '.join(catalog.TASKS)}, or your own task's name with --corpus"),
    data_dir: str = typer.Option("data,../shared/data", help="the folders holding the data sets' folders, searched in order"),
    corpus: str = typer.Option("", help="your own corpus: a folder with train/dev/test.spacy (then TASK names it)"),
    head: str = typer.Option("", help="with --corpus: ner or tagger, where the files annotate both"),
    output: Path = typer.Option(None, help="where train/dev/test.spacy go (default corpus/TASK)"),
) -> None:
    """Convert a task's data set (or adopt your own corpus) to corpus/TASK/{train,dev,test}.spacy."""
    try:
        if corpus:
            spec = adopt(task, Path(corpus), output or Path("corpus") / task, head or None)
            typer.echo(f"{corpus}: {spec.cvt_head} and {spec.spacy_head} heads, scored by {spec.score_key} "
                       f"-> {output or Path('corpus') / task}")
        else:
            convert_task(task, data_dir, output or Path("corpus") / task)
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"convert: {err}", err=True)
        raise typer.Exit(1)
