"""`python -m spacy cvt-annotate`: a teacher annotates a sharded unlabeled corpus on Ray Data, a pool of
workers each loading it once (spacy_cvt.ray_teacher.annotate_shards), on this machine's cores or
a Ray cluster's. The output is a folder of .spacy files, one per shard, each what `spacy apply`
writes for the shard's lines; a rerun skips the shards already written.

    python -m spacy cvt-annotate training/model-best unlabeled/ teacher_corpus/ --workers 8 --address auto

Ray is imported only when the command runs (pip install -e ".[ray]").
"""
from pathlib import Path
from typing import Optional

from spacy.cli._util import Arg, Opt, app
from wasabi import Printer


@app.command("cvt-annotate")
def annotate_cli(
    # fmt: off
    teacher: str = Arg(..., help="The trained teacher pipeline: a folder or an installed package, the same path on every node of a cluster."),
    unlabeled: str = Arg(..., help="Unlabeled text, one text a line, in shards: a folder of files, a glob or a file (.gz, .bz2, .xz), as [paths] unlabeled takes."),
    output_dir: Path = Arg(..., help="Folder for the annotated shards (NNNNN-NAME.spacy); a rerun skips those already there.", file_okay=False),
    workers: int = Opt(2, "--workers", "-w", min=1, help="Ray actors, each loading the teacher once."),
    address: Optional[str] = Opt(None, "--address", envvar="RAY_ADDRESS", help="A running Ray cluster (default: a local Ray with this machine's cores)."),
    batch_size: int = Opt(128, "--batch-size", min=1, help="Docs per nlp.pipe batch in each worker."),
    cpus_per_worker: float = Opt(1, "--cpus-per-worker", help="CPUs Ray reserves for each worker (its torch threads)."),
    gpu: bool = Opt(False, "--gpu", help="Each worker asks Ray for one GPU and annotates on it."),
    retries: int = Opt(2, "--retries", min=0, help="Times a shard whose annotation failed is tried again."),
    code: Optional[Path] = Opt(None, "--code", "-c", help="Python file each worker imports first: the teacher's custom components (as spacy apply --code)."),
    # fmt: on
):
    """
    Annotate every shard of UNLABELED with the teacher on Ray Data, each shard's lines as `spacy
    apply` annotates them, into OUTPUT_DIR/NNNNN-NAME.spacy (written whole or not at all). Shards
    already annotated are skipped, so an interrupted run resumes. Read the folder as one corpus,
    e.g. `[paths] teacher_corpus = OUTPUT_DIR`.
    """
    from ..ray_teacher import annotate_shards

    msg = Printer()
    done = annotate_shards(teacher, unlabeled, output_dir, workers=workers, address=address, batch_size=batch_size,
                           cpus_per_worker=cpus_per_worker, gpu=gpu, retries=retries, code=code, echo=msg.text)
    if done.skipped:
        msg.info(f"{len(done.skipped)} shards were annotated before, skipped")
    msg.good(f"{len(done.annotated)} shards annotated by {workers} workers: {done.docs:,} docs, {done.words:,} words "
             f"in {done.seconds:.0f} s ({done.words / max(done.seconds, 1e-9):,.0f} words/s) -> {output_dir}")
