"""The teacher's annotation throughput on Ray Data with 1, 2, ... workers on this machine, beside
the same annotation in one process: `python -m spacy_cvt_project bench-annotate`.

    python -m spacy_cvt_project bench-annotate training/ner/trf/seed0/model-best corpus/unlabeled.txt \\
        --lines 2000 --shards 8 --workers 1,2 --output results/scaling/annotate.json

The first LINES lines of UNLABELED are cut into SHARDS files. `serial` annotates them in this process
(spacy_cvt.ray_teacher.annotate_shard, shard after shard, torch on its default threads): the
path without Ray. Then each worker count annotates them all (annotate_shards) on one local Ray,
started before the first count so that its start counts for none; a count's time does include
its workers loading the teacher, as a user's run would. Every output is checked against the
serial one (tokens, tags, entities). The record (JSON, and the same as a markdown table beside
it) keeps the machine, its load when the runs started and the threads each path used: on a
shared machine the numbers are only as quiet as it was.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List

import typer


def cut(unlabeled: Path, lines: int, shards: int, folder: Path) -> List[Path]:
    """The first `lines` non-blank lines of `unlabeled` (as PlainTextCorpus reads them) in `shards`
    files of about equal size."""
    from itertools import islice

    from spacy_cvt.unlabeled import PlainTextCorpus

    texts = list(islice(PlainTextCorpus(unlabeled).texts(), lines))
    size = -(-len(texts) // shards)
    paths = []
    for i in range(0, len(texts), size):
        path = folder / f"shard{i // size:03d}.txt"
        path.write_text("\n".join(texts[i:i + size]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def annotations(folder: Path) -> List[tuple]:
    """Every doc's tokens, tags and entities in a folder of annotated shards, in shard order."""
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    return [([t.text for t in doc], [t.tag_ for t in doc], [(e.start, e.end, e.label_) for e in doc.ents])
            for path in sorted(folder.glob("*.spacy")) for doc in DocBin().from_disk(path).get_docs(vocab)]


def serial(teacher: Path, unlabeled: Path, output: Path, batch_size: int) -> Dict[str, Any]:
    """The shards annotated one after another in this process: the time and words."""
    import spacy
    import torch

    from spacy_cvt.ray_teacher import annotate_shard, shards

    output.mkdir(parents=True)
    start = time.perf_counter()
    nlp = spacy.load(teacher)
    words = sum(annotate_shard(nlp, shard, batch_size)[1] for shard in shards(unlabeled, output))
    seconds = time.perf_counter() - start
    return {"workers": "serial (one process)", "torch_threads": torch.get_num_threads(), "seconds": round(seconds, 1),
            "words": words, "words_per_second": round(words / seconds, 1)}


def on_ray(teacher: Path, unlabeled: Path, output: Path, workers: int, batch_size: int) -> Dict[str, Any]:
    """The shards annotated by `workers` Ray actors of one CPU each: the time and words."""
    from spacy_cvt.ray_teacher import annotate_shards

    done = annotate_shards(teacher, unlabeled, output, workers=workers, batch_size=batch_size, echo=lambda line: None)
    return {"workers": workers, "torch_threads": 1, "seconds": round(done.seconds, 1), "words": done.words,
            "words_per_second": round(done.words / done.seconds, 1)}


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what platform says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def markdown(record: Dict[str, Any]) -> str:
    rows = "\n".join(f"| {run['workers']} | {run['torch_threads']} | {run['seconds']} | {run['words_per_second']:,.0f} | "
                     f"{run.get('equal_to_serial', '-')} |" for run in record["runs"])
    return (f"# The teacher's annotation on Ray Data: {record['words']:,} words ({record['lines']:,} lines of "
            f"{record['unlabeled']}, {record['shards']} shards)\n\nTeacher: {record['teacher']}; {record['cpu']}, "
            f"{record['cpu_count']} cores, load {record['load_average']} when the runs started; {record['date']}. "
            "Written by `python -m spacy_cvt_project bench-annotate` (spacy_cvt_project/bench/annotate.py): a Ray "
            "count's seconds include its workers loading the teacher.\n\n"
            "| workers | torch threads each | seconds | words/s | output equal to serial |\n|---|---|---|---|---|\n"
            f"{rows}\n")


def main(
    teacher: Path = typer.Argument(..., help="the teacher pipeline, e.g. training/ner/trf/seed0/model-best"),
    unlabeled: Path = typer.Argument(..., help="unlabeled text, one text a line (corpus/unlabeled.txt)"),
    lines: int = typer.Option(2000, min=1, help="lines of UNLABELED annotated"),
    shards: int = typer.Option(8, min=1, help="files the lines are cut into"),
    workers: str = typer.Option("1,2", help="comma-separated worker counts"),
    batch_size: int = typer.Option(128, min=1, help="docs per nlp.pipe batch"),
    output: Path = typer.Option(Path("results/scaling/annotate.json"), help="the record (and .md beside it)"),
) -> None:
    """Time the teacher's annotation of the same shards in one process and on 1, 2, ... Ray workers."""
    from spacy_cvt.ray_cluster import ray_session

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "unlabeled").mkdir()
        cut(unlabeled, lines, shards, folder / "unlabeled")
        record: Dict[str, Any] = {
            "teacher": str(teacher), "unlabeled": str(unlabeled), "lines": lines, "shards": shards, "cpu": cpu_model(),
            "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "packages": {name: metadata.version(name) for name in ("ray", "spacy", "torch", "spacy-transformers")},
        }
        runs = [serial(teacher, folder / "unlabeled", folder / "serial", batch_size)]
        reference = annotations(folder / "serial")
        with ray_session("bench-annotate"):
            for count in (int(n) for n in workers.split(",")):
                out = folder / f"workers{count}"
                runs.append({**on_ray(teacher, folder / "unlabeled", out, count, batch_size),
                             "equal_to_serial": annotations(out) == reference})
                shutil.rmtree(out)
    record.update(words=runs[0]["words"], runs=runs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    output.with_suffix(".md").write_text(markdown(record), encoding="utf-8")
    typer.echo(markdown(record))
