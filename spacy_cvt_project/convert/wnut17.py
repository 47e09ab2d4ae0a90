"""Convert WNUT-17 (or any CoNLL-style `token<TAB>tag` NER file) to spaCy DocBin files.

Why not `python -m spacy convert -c ner`: in `wnut17train.conll` 2,394 of the 3,394 sentence
breaks are a line holding a single TAB, not an empty line. `spacy convert` only splits on empty
lines, so it makes 1,000 docs, one of them 46,486 tokens long. Here any whitespace-only line is a
sentence break. The reader also accepts CoNLL-2003-style files (space-separated columns, tag in
the last column, IOB1 tags where entities start with I-, `-DOCSTART-` lines), so one script
serves a user's own NER data too.

Output: one sentence per Doc (what our taggers expect), entities in `doc.ents`.

    python -m spacy_cvt_project convert-wnut17 ../shared/data/wnut17 corpus/wnut17
    python -m spacy_cvt_project convert-wnut17 data/conll03 corpus/conll03 \
        --train eng.train --dev eng.testa --test eng.testb --labels any
"""
from __future__ import annotations

import gzip
import re
import time
from collections import Counter
from pathlib import Path
from typing import Collection, Iterator, List, Optional, Sequence, Tuple

import typer
from spacy.tokens import Doc, DocBin
from spacy.training import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from ..data import find_file

WNUT_FILES = {
    "train": "wnut17train.conll",
    "dev": "emerging.dev.conll",
    # The gold test file; `emerging.test.conll` has multi-label tags such as
    # "B-creative-work,B-person" and is not the standard test set.
    "test": "emerging.test.annotated",
}
# Known sentence counts: a mismatch means a reader bug or a different file, so we refuse it.
EXPECTED_SENTENCES = {
    "wnut17train.conll": 3394,
    "emerging.dev.conll": 1009,
    "emerging.test.annotated": 1287,
}
WNUT_LABELS = ("person", "location", "group", "creative-work", "corporation", "product")
# spaCy's iob_to_biluo silently accepts garbage such as "X-NP" (it reads it as "U-NP"), so
# every tag is checked against this pattern first.
IOB_TAG = re.compile(r"^(O|[BI]-\S+)$")

Row = Tuple[int, List[str]]  # (1-based line number, columns)


def read_conll_sentences(path: Path) -> Iterator[List[Row]]:
    """Yield each sentence of a CoNLL-style file as a list of (line number, columns).

    A whitespace-only line ends a sentence, not only an empty one (the WNUT-17 train file
    uses a lone TAB). `-DOCSTART-` lines (CoNLL-2003 document markers) are dropped and
    also end a sentence. Columns are split on TABs if the line has one (so a token may
    contain a space), otherwise on whitespace.
    """
    rows: List[Row] = []
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                cols = [c.strip() for c in line.split("\t")] if "\t" in line else line.split()
                if not line.strip() or cols[0] == "-DOCSTART-":
                    if rows:
                        yield rows
                        rows = []
                    continue
                rows.append((line_no, cols))
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not valid UTF-8 ({err}). Re-encode it, e.g. "
            f"`iconv -f latin1 -t utf-8 {path} > fixed.txt`."
        ) from err
    if rows:
        yield rows


def check_iob_tags(
    tags: Sequence[str],
    line_nos: Sequence[int],
    path: Path,
    labels: Optional[Collection[str]] = None,
) -> None:
    """Raise ValueError naming file and line for a tag that is not O / B-TYPE / I-TYPE,
    or whose TYPE is not in `labels` (when given)."""
    for tag, line_no in zip(tags, line_nos):
        if not IOB_TAG.match(tag):
            raise ValueError(
                f"{path}:{line_no}: unknown tag {tag!r}; expected 'O', 'B-TYPE' or 'I-TYPE' "
                "(IOB1 or IOB2) in the last column. Fix or remove that line."
            )
        if labels is not None and tag != "O" and tag[2:] not in labels:
            raise ValueError(
                f"{path}:{line_no}: unknown entity type {tag[2:]!r} in tag {tag!r}; expected one "
                f"of {sorted(labels)}. (WNUT-17: `emerging.test.conll` has multi-label tags, use "
                "`emerging.test.annotated`.) Pass `--labels any` to accept every type."
            )


def conll_ner_to_docs(
    path: Path, vocab: Vocab, labels: Optional[Collection[str]] = None
) -> List[Doc]:
    """Read a token/tag NER file into one Doc per sentence with `doc.ents` set.

    The token is the first column and the tag the last, so both WNUT-17 (2 columns) and
    CoNLL-2003 (4 columns) work. IOB1 and IOB2 are both handled by spaCy's `iob_to_biluo`:
    an I- tag after O or after a different type starts a new entity.
    """
    docs = []
    for rows in read_conll_sentences(path):
        for line_no, cols in rows:
            if len(cols) < 2 or not cols[0]:
                raise ValueError(
                    f"{path}:{line_no}: expected 'token<TAB>tag' (token first, tag last) but "
                    f"got {cols!r}."
                )
        words = [cols[0] for _, cols in rows]
        tags = [cols[-1] for _, cols in rows]
        check_iob_tags(tags, [n for n, _ in rows], path, labels)
        doc = Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False])
        doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(tags))
        docs.append(doc)
    return docs


def describe(docs: Sequence[Doc], key: Optional[str] = None, what: str = "entities") -> str:
    """One-line summary: sentences, tokens, longest doc, spans (doc.ents or doc.spans[key])."""
    spans = [s for d in docs for s in (d.ents if key is None else d.spans.get(key, []))]
    by_label = Counter(s.label_ for s in spans)
    return (
        f"{len(docs):,} sentences, {sum(len(d) for d in docs):,} tokens "
        f"(longest {max((len(d) for d in docs), default=0)}), {len(spans):,} {what}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_label.items()))
    )


def main(
    input_dir: Path = typer.Argument(..., help="Folder holding the three input files."),
    output_dir: Path = typer.Argument(..., help="Writes train.spacy, dev.spacy, test.spacy here."),
    train: str = typer.Option(WNUT_FILES["train"], help="Train file name in input_dir."),
    dev: str = typer.Option(WNUT_FILES["dev"], help="Dev file name in input_dir."),
    test: str = typer.Option(WNUT_FILES["test"], help="Test file name in input_dir."),
    labels: str = typer.Option(
        ",".join(WNUT_LABELS), help="Comma-separated allowed entity types, or 'any'."
    ),
) -> None:
    """Convert a token/tag NER data set (WNUT-17 by default) to .spacy files."""
    allowed = None if labels.strip().lower() == "any" else {x.strip() for x in labels.split(",")}
    output_dir.mkdir(parents=True, exist_ok=True)
    vocab = Vocab()
    for split, name in (("train", train), ("dev", dev), ("test", test)):
        path = find_file(input_dir, name)
        if path is None:
            raise FileNotFoundError(f"{input_dir / name} not found (nor compressed); pass --{split} NAME for another file name.")
        start = time.perf_counter()
        docs = conll_ner_to_docs(path, vocab, allowed)
        expected = EXPECTED_SENTENCES.get(name)  # the file's plain name
        if expected is not None and len(docs) != expected:
            raise ValueError(
                f"{path}: read {len(docs)} sentences but WNUT-17 {name} has {expected}; "
                "the file differs from the official release or a sentence break was missed."
            )
        DocBin(docs=docs, store_user_data=False).to_disk(output_dir / f"{split}.spacy")
        print(
            f"{split}: {path} -> {output_dir / f'{split}.spacy'}: {describe(docs)} "
            f"[{time.perf_counter() - start:.1f}s]"
        )
