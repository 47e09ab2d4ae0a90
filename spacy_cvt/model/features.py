"""Turn spaCy Docs into the integer and vector arrays the torch network reads.

Kept apart from the network so that the network stays pure torch and these
small functions can be tested on their own.
"""

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import ORTH
from spacy.strings import StringStore, hash_string
from spacy.tokens import Doc
from spacy.vectors import Mode as VectorsMode
from spacy.vectors import Vectors
from spacy.vocab import Vocab
from thinc.api import get_array_module
from thinc.types import Floats2d, Ints1d, Ints2d

from .embed import CHAR_PADDING, DIRECT_CODEPOINTS
from .model_settings import ModelSettings


@dataclass
class TokenFeatures:
    """Flat per-token inputs for a batch of non-empty docs, in document order."""

    lengths: List[int]
    vectors: Floats2d  # (n_tokens, n_vector_dims); numpy or cupy, like the vocab's table
    hash_ids: Ints2d  # (n_tokens, n_hash_attrs)
    char_ids: Ints2d  # (n_tokens, max_chars)
    word_keys: Optional[Ints1d] = None  # (n_tokens,): with fine_tune_vectors, in place of vectors


DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")


def word_key(text: str) -> int:
    """The key trained word vectors are found by: the hash of ``text`` with digits as 0,
    as int64 (torch has no uint64), so "1999" and "2024" share a row, as in the authors' code."""
    return int(numpy.uint64(hash_string(text.translate(DIGITS_TO_ZERO))).astype("int64"))


def word_keys(docs: Sequence[Doc], attr: str) -> Ints1d:
    """Each token's ``word_key`` of its ``attr`` string (e.g. LOWER), in document order."""
    attr_keys = numpy.concatenate([doc.to_array([attr]).reshape(-1) for doc in docs])
    unique, inverse = numpy.unique(attr_keys, return_inverse=True)
    strings = docs[0].vocab.strings
    keys = numpy.asarray([word_key(strings[int(key)]) for key in unique], dtype="int64")
    return keys[inverse.reshape(-1)]


def vector_table_keys(vectors: Vectors, strings: StringStore) -> Tuple[Ints1d, Ints1d]:
    """The pipeline's vector table indexed by ``word_key``: sorted keys and their rows.

    Where several entries map to one key ("1999", "2024" -> "0000"), the lowest row
    wins: GloVe and ``spacy init vectors`` order rows by frequency. Keys without a
    string in the vocab cannot be mapped and are left out.
    """
    if vectors.mode == VectorsMode.floret:
        raise ValueError(
            "fine_tune_vectors works with a table of word vectors, not floret's hashed "
            "subword vectors: set fine_tune_vectors = false, or use non-floret vectors."
        )
    best = {}
    for key, row in vectors.key2row.items():
        if key not in strings:
            continue
        normalized = word_key(strings[key])
        if row < best.get(normalized, len(vectors.data)):
            best[normalized] = row
    keys = numpy.asarray(sorted(best), dtype="int64")
    rows = numpy.asarray([best[key] for key in keys.tolist()], dtype="int64")
    return keys, rows


def hash_ids(docs: Sequence[Doc], attrs: Sequence[str], n_rows: int) -> Ints2d:
    """Bucket each token's attribute hashes (NORM, PREFIX, ...) into ``n_rows`` rows."""
    hashes = numpy.concatenate([doc.to_array(list(attrs)).reshape(len(doc), len(attrs)) for doc in docs])
    return (hashes % numpy.uint64(n_rows)).astype("int64")


def char_ids(docs: Sequence[Doc], max_chars: int, n_chars: int) -> Ints2d:
    """Code points of each token's first ``max_chars`` characters, 0-padded.

    Code points below 256 keep their own row; all others share the remaining
    ``n_chars - 256`` rows by modulo, so emoji and rare scripts still get a
    (shared) embedding instead of an error or an "unknown" row.

    Computed once per distinct word of the batch, from the string store, and in
    numpy: a Python loop over tokens (``for token in doc``) costs more than the
    network's arithmetic for small widths.
    """
    orths = numpy.concatenate([doc.to_array([ORTH]).reshape(-1) for doc in docs])
    unique, inverse = numpy.unique(orths, return_inverse=True)
    strings = docs[0].vocab.strings
    texts = [strings[key][:max_chars] for key in unique.tolist()]
    lengths = numpy.fromiter(map(len, texts), dtype="int64", count=len(texts))
    ids = numpy.full((len(texts), max_chars), CHAR_PADDING, dtype="int64")
    ids[numpy.arange(max_chars) < lengths[:, None]] = numpy.frombuffer("".join(texts).encode("utf-32-le"), dtype="uint32")
    hashed = ids >= DIRECT_CODEPOINTS
    ids[hashed] = DIRECT_CODEPOINTS + ids[hashed] % (n_chars - DIRECT_CODEPOINTS)
    return ids[inverse.reshape(-1)]


def static_vectors(docs: Sequence[Doc], vocab: Vocab, attr: str, n_dims: int) -> Floats2d:
    """Look up each token's static vector by ``attr``; unknown words get zeros.

    The table stays in the vocab (as with spaCy's StaticVectors): it is not
    copied into the model, so pipelines stay small and the vectors are not trained.
    """
    n_tokens = sum(len(doc) for doc in docs)
    table = vocab.vectors
    if n_dims == 0:
        return numpy.zeros((n_tokens, 0), dtype="float32")
    if table.shape[1] != n_dims:
        raise ValueError(
            f"This CVT model was built for {n_dims}-dimensional word vectors, but the "
            f"pipeline's vocab has vectors of shape {table.shape}. Train with the same "
            "vectors you predict with ([initialize] vectors in the config)."
        )
    keys = numpy.concatenate([doc.to_array([attr]).reshape(-1) for doc in docs])
    if table.mode == VectorsMode.floret:
        return table.get_batch(keys)
    xp = get_array_module(table.data)
    rows = xp.asarray(table.find(keys=keys))
    vectors = table.data[rows]
    vectors[rows < 0] = 0
    return vectors


def featurize(docs: Sequence[Doc], settings: ModelSettings, *, n_vector_dims: int) -> TokenFeatures:
    """All of a batch's inputs. ``docs`` must be non-empty docs of one vocab.

    With ``fine_tune_vectors`` the model has its own vectors: it gets word keys, and
    the pipeline's static table is not read.
    """
    fine_tuned = settings.fine_tune_vectors
    return TokenFeatures(
        lengths=[len(doc) for doc in docs],
        vectors=static_vectors(docs, docs[0].vocab, settings.vectors_attr, 0 if fine_tuned else n_vector_dims),
        hash_ids=hash_ids(docs, settings.hash_attrs, settings.hash_rows),
        char_ids=char_ids(docs, settings.max_chars, settings.n_chars),
        word_keys=word_keys(docs, settings.vectors_attr) if fine_tuned else None,
    )
