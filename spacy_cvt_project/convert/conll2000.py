"""Convert CoNLL-2000 chunking (`word POS chunk`, space-separated) to spaCy DocBin files.

Each sentence becomes one Doc with `token.tag_` = the POS column and the chunks in
`doc.spans["chunks"]` (span label = phrase type, e.g. NP). The same chunks are also written to
`doc.ents`, so spaCy's `ner` head (the cnn and trf systems of the comparison) can learn chunking
from the same files that `cvt_chunker` reads; both are scored by exact-span P/R/F. CoNLL-2000 has no dev split, so a
dev set is carved out of train with a seeded random sample (reproducible; the remaining train
sentences keep their original order).

Chunk tags are read with spaCy's `iob_to_biluo`, so an ill-formed sequence such as `I-VP`
right after `B-NP` (or after `O`) is *not* an error: like IOB1, the I- tag starts a new
chunk. The converter prints how many chunks started that way (0 in the official files).
A tag that is not O/B-TYPE/I-TYPE with one of the 11 CoNLL-2000 types (e.g. `X-NP`) raises
ValueError naming the file and line.

    python -m spacy_cvt_project convert-conll2000 ../shared/data/conll2000 corpus/conll2000 --dev-size 1000 --seed 0
"""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import List, Tuple

import typer
from spacy.tokens import Doc, DocBin
from spacy.training import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from .wnut17 import check_iob_tags, describe, read_conll_sentences

CHUNK_TYPES = ("ADJP", "ADVP", "CONJP", "INTJ", "LST", "NP", "PP", "PRT", "SBAR", "UCP", "VP")
SPANS_KEY = "chunks"


def conll2000_to_docs(path: Path, vocab: Vocab) -> Tuple[List[Doc], int]:
    """Read a CoNLL-2000 file into one Doc per sentence.

    Returns the docs and the number of chunks that began with an I- tag (ill-formed IOB2,
    treated as a new chunk the way `iob_to_biluo` does).
    """
    docs, n_repaired = [], 0
    for rows in read_conll_sentences(path):
        for line_no, cols in rows:
            if len(cols) != 3:
                raise ValueError(
                    f"{path}:{line_no}: expected 3 space-separated columns 'word POS chunk' "
                    f"but got {len(cols)}: {cols!r}."
                )
        words, pos, chunks = (list(col) for col in zip(*(cols for _, cols in rows)))
        check_iob_tags(chunks, [n for n, _ in rows], path, CHUNK_TYPES)
        prev = "O"
        for tag in chunks:
            n_repaired += tag.startswith("I-") and prev[2:] != tag[2:]
            prev = tag
        doc = Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False], tags=pos)
        doc.spans[SPANS_KEY] = biluo_tags_to_spans(doc, iob_to_biluo(chunks))
        doc.ents = list(doc.spans[SPANS_KEY])
        docs.append(doc)
    return docs, n_repaired


def split_train_dev(n: int, dev_size: int, seed: int) -> Tuple[List[int], List[int]]:
    """Return (train indices, dev indices) for n sentences, both sorted; same seed, same split.

    Indices rather than docs so a caller can check the split is a partition: CoNLL-2000
    train holds 55 repeated sentences, so comparing texts would not prove disjointness.
    """
    if not 0 <= dev_size < n:
        raise ValueError(f"--dev-size must be between 0 and {n - 1} (the train set has {n}), got {dev_size}.")
    dev = sorted(random.Random(seed).sample(range(n), dev_size))
    dev_set = set(dev)
    return [i for i in range(n) if i not in dev_set], dev


def main(
    input_dir: Path = typer.Argument(..., help="Folder with train.txt and test.txt."),
    output_dir: Path = typer.Argument(..., help="Writes train.spacy, dev.spacy, test.spacy here."),
    dev_size: int = typer.Option(1000, help="Sentences moved from train to dev (0: no dev file)."),
    seed: int = typer.Option(0, help="Random seed for choosing the dev sentences."),
) -> None:
    """Convert CoNLL-2000 to .spacy files, holding out a dev split from train."""
    output_dir.mkdir(parents=True, exist_ok=True)
    vocab = Vocab()
    start = time.perf_counter()
    loaded = {}
    for name in ("train", "test"):
        path = input_dir / f"{name}.txt"
        if not path.exists() and path.with_suffix(".txt.gz").exists():
            path = path.with_suffix(".txt.gz")  # the official download, not unpacked
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found; expected CoNLL-2000 train.txt and test.txt (or .txt.gz) in {input_dir}."
            )
        loaded[name], n_repaired = conll2000_to_docs(path, vocab)
        if n_repaired:
            print(f"{path}: {n_repaired} chunks began with I- and were read as new chunks (IOB1-style).")
    train_idx, dev_idx = split_train_dev(len(loaded["train"]), dev_size, seed)
    splits = {
        "train": [loaded["train"][i] for i in train_idx],
        "dev": [loaded["train"][i] for i in dev_idx],
        "test": loaded["test"],
    }
    for split, docs in splits.items():
        if not docs:
            continue
        out = output_dir / f"{split}.spacy"
        DocBin(docs=docs, store_user_data=False).to_disk(out)
        print(f"{split}: -> {out}: {describe(docs, SPANS_KEY, 'chunks')}")
    print(f"dev = {len(dev_idx)} train sentences chosen with seed {seed}. [{time.perf_counter() - start:.1f}s]")
