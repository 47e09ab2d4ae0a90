"""The teacher over a sharded unlabeled corpus on Ray Data: a pool of actors, each loading the teacher
once, works through the shards in parallel, on one machine's cores or a cluster's.

Distillation learns more from a larger transfer set, and the transfer set is bounded by the
teacher's speed (MPNet-base annotates a few hundred words a second on a CPU core). The shards
(the files of UNLABELED: a file, a folder or a glob, .gz/.bz2/.xz, as PlainTextCorpus takes them)
are the unit of work: each is one row of a Ray Dataset, and `map_batches` with a callable class
and ``concurrency=workers`` hands them to the actors, Ray Data showing the progress. Two jobs:

- ``annotate_shards``: OUTPUT_DIR/NNNNN-NAME.spacy for shard number NNNNN, its lines annotated
  as `spacy apply` annotates them (one doc a line, user data kept but a transformer's output, as
  spacy_cvt.cli.distill.annotate writes the project's teacher corpus). A shard's file is written
  whole or not at all (to NAME.partial, renamed when done), a shard that fails is retried
  (``retries`` times, in its actor), and a rerun skips the shards already written: an interrupted
  annotation resumes. spaCy reads the folder as one corpus (`[paths] teacher_corpus = OUTPUT_DIR`).
- ``vector_sums``: for `cvt-trf-vectors --workers`: each GloVe word's transformer states summed
  over its occurrences in every shard (trf_vectors.occurrence_sums per shard, added up here),
  what the serial path sums over the first --max-words words.
"""
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from .ray_cluster import ray_session
from .unlabeled import read_lines, text_files


class Shard(NamedTuple):
    """One file of the unlabeled corpus and the file its annotation goes to."""

    source: Path
    output: Path


def shards(unlabeled: Union[str, Path], output_dir: Path) -> List[Shard]:
    """Every file of UNLABELED, in PlainTextCorpus's order, with its output in ``output_dir``:
    NNNNN-NAME.spacy, numbered so that the folder reads in UNLABELED's order."""
    return [Shard(path, output_dir / f"{i:05d}-{path.name}.spacy") for i, path in enumerate(text_files(unlabeled, "UNLABELED"))]


def annotate_shard(nlp: Any, shard: Shard, batch_size: int) -> Tuple[int, int]:
    """Annotate one shard's lines (one doc a line, as `spacy apply` reads JSONL) and write them as
    a DocBin, whole or not at all; (docs, words)."""
    from spacy.tokens import DocBin

    from .cli.distill import finished, without_transformer_output

    docs = DocBin(store_user_data=True)
    n_words = 0
    for doc in nlp.pipe(read_lines(shard.source, "utf-8", "strict"), batch_size=batch_size):
        docs.add(without_transformer_output(doc))
        n_words += len(doc)
    data = docs.to_bytes()  # the annotation is done before a byte is written
    with finished(shard.output) as scratch:
        scratch.write_bytes(data)
    return len(docs), n_words


def load_on_device(teacher: str, gpu: bool, code: Optional[str] = None) -> Any:
    """The teacher pipeline, on the GPU Ray gave this actor (device 0 of what it sees) or the CPU,
    after importing ``code`` (its custom components, as `spacy apply --code` does)."""
    import spacy
    from spacy.cli._util import import_code

    import_code(Path(code) if code else None)
    if gpu:
        spacy.require_gpu(0)
    return spacy.load(teacher)


class ShardAnnotator:
    """A Ray Data actor: loads the teacher once, then annotates the shards of each batch."""

    def __init__(self, teacher: str, gpu: bool, batch_size: int, code: Optional[str] = None):
        self.nlp = load_on_device(teacher, gpu, code)
        self.batch_size = batch_size

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        counts = [annotate_shard(self.nlp, Shard(Path(source), Path(output)), self.batch_size)
                  for source, output in zip(batch["source"], batch["output"])]
        return {"output": batch["output"], "docs": np.array([c[0] for c in counts]),
                "words": np.array([c[1] for c in counts])}


class ShardVectorSums:
    """A Ray Data actor: loads the transformer once, then sums each GloVe word's states over its
    occurrences in the shards of each batch (trf_vectors.occurrence_sums). Only the rows a shard
    shows travel back: (rows, sums, counts) as one .npy-packed column each."""

    def __init__(self, transformer: str, words: Sequence[str], layer: int, batch_size: int, gpu: bool):
        from .cli.trf_vectors import load_encoder

        self.encoder, self.tokenizer = load_encoder(transformer)
        self.encoder.to("cuda:0" if gpu else "cpu")
        self.words, self.layer, self.batch_size = list(words), layer, batch_size

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        from .cli.trf_vectors import occurrence_sums, read_sentences

        rows, sums, counts, n_words = [], [], [], []
        for source in batch["source"]:
            sentences = read_sentences(source, max_words=0)
            shard_sums, shard_counts = occurrence_sums(self.words, sentences, self.encoder, self.tokenizer,
                                                       self.layer, self.batch_size)
            seen = np.flatnonzero(shard_counts)
            rows.append(seen)
            sums.append(shard_sums[seen])
            counts.append(shard_counts[seen])
            n_words.append(sum(map(len, sentences)))
        return {"source": batch["source"], "rows": packed(rows), "sums": packed(sums), "counts": packed(counts),
                "words": np.array(n_words)}


def packed(arrays: List[np.ndarray]) -> np.ndarray:
    """Arrays of any shape as one column of bytes (np.save's format) for Ray Data's blocks."""
    import io

    column = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        column[i] = buffer.getvalue()
    return column


def unpacked(data: bytes) -> np.ndarray:
    import io

    return np.load(io.BytesIO(data), allow_pickle=False)


def shard_dataset(ray: Any, rows: List[Dict[str, str]]) -> Any:
    """A Ray Dataset with one block per shard, so that each shard is a task of its own."""
    return ray.data.from_items(rows, override_num_blocks=len(rows))


def retrying(ray: Any, retries: int) -> None:
    """Ray Data retries a batch whose function raised, ``retries`` times, in its actor."""
    context = ray.data.DataContext.get_current()
    context.retried_map_errors = retries > 0
    context.max_map_retries = retries


class Annotated(NamedTuple):
    """What ``annotate_shards`` did: the shards annotated now, those written before (skipped), the
    docs and words annotated now, and the seconds it took."""

    annotated: List[Path]
    skipped: List[Path]
    docs: int
    words: int
    seconds: float


def annotate_shards(teacher: Union[str, Path], unlabeled: Union[str, Path], output_dir: Path, *, workers: int = 2,
                    address: Optional[str] = None, batch_size: int = 128, cpus_per_worker: float = 1,
                    gpu: bool = False, retries: int = 2, code: Optional[Path] = None, echo=print) -> Annotated:
    """Annotate every shard of UNLABELED whose output ``output_dir`` lacks with the teacher, on
    ``workers`` Ray actors (each with ``cpus_per_worker`` CPUs, or one GPU with ``gpu``, and
    importing ``code`` first, for a teacher with custom components); see the module's docstring."""
    every = shards(unlabeled, output_dir)
    todo = [shard for shard in every if not shard.output.exists()]
    skipped = [shard.output for shard in every if shard.output.exists()]
    output_dir.mkdir(parents=True, exist_ok=True)
    start, annotated, n_docs, n_words = time.perf_counter(), [], 0, 0
    if todo:
        with ray_session("cvt-annotate", address) as ray:
            retrying(ray, retries)
            dataset = shard_dataset(ray, [{"source": str(s.source), "output": str(s.output)} for s in todo])
            done = dataset.map_batches(
                ShardAnnotator, fn_constructor_kwargs={"teacher": str(teacher), "gpu": gpu, "batch_size": batch_size,
                                                       "code": str(code) if code else None},
                batch_size=1, concurrency=min(workers, len(todo)), num_cpus=cpus_per_worker, num_gpus=1 if gpu else 0)
            for row in done.iter_rows():
                annotated.append(Path(row["output"]))
                n_docs, n_words = n_docs + int(row["docs"]), n_words + int(row["words"])
                echo(f"{row['output']}: {int(row['docs']):,} docs, {int(row['words']):,} words "
                     f"({len(annotated)} of {len(todo)} shards)")
    return Annotated(annotated, skipped, n_docs, n_words, time.perf_counter() - start)


def vector_sums(transformer: str, unlabeled: Union[str, Path], words: Sequence[str], *, layer: int,
                batch_size: int, workers: int = 2, address: Optional[str] = None, cpus_per_worker: float = 1,
                gpu: bool = False, retries: int = 2) -> Tuple[np.ndarray, np.ndarray, int]:
    """(sums, counts, words read): each of ``words``' layer-``layer`` states summed over its
    occurrences in every shard of UNLABELED, on ``workers`` Ray actors; trf_vectors turns them into
    vectors as it does the serial path's sums."""
    sums: Optional[np.ndarray] = None
    counts = np.zeros(len(words), dtype=np.int64)
    n_words = 0
    sources = [{"source": str(path)} for path in text_files(unlabeled, "UNLABELED")]
    workers = min(workers, len(sources))
    with ray_session("cvt-trf-vectors", address) as ray:
        retrying(ray, retries)
        done = shard_dataset(ray, sources).map_batches(
            ShardVectorSums, fn_constructor_kwargs={"transformer": transformer, "words": list(words), "layer": layer,
                                                    "batch_size": batch_size, "gpu": gpu},
            batch_size=1, concurrency=workers, num_cpus=cpus_per_worker, num_gpus=1 if gpu else 0)
        for row in done.iter_rows():
            rows, shard_sums = unpacked(row["rows"]), unpacked(row["sums"])
            if sums is None:  # the transformer's width, known from its first shard
                sums = np.zeros((len(words), shard_sums.shape[1]), dtype=np.float64)
            sums[rows] += shard_sums
            counts[rows] += unpacked(row["counts"])
            n_words += int(row["words"])
    return sums, counts, n_words
