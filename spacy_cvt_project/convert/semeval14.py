"""Convert SemEval-2014 Task 4 aspect terms (BERT-E2E-ABSA `*.txt` files) to spaCy DocBin files.

Input lines look like `raw sentence####tok=TAG tok=TAG ...` with TAG in O/T-POS/T-NEG/T-NEU.
We build the Doc from the TOKEN side: the original authors normalised the tokens (dropped
brackets, changed "-" to ",", ...), so they do not always re-join to the raw sentence before
`####`. A token may itself contain "=" (e.g. `==O`), so each item is split at its LAST "=".

Aspect terms go to `doc.ents` with the label ASP; the same spans labelled POS/NEG/NEU go to
`doc.spans["polarity"]` so the sentiment is not lost. An aspect term is a maximal run of T-*
tags WITH THE SAME POLARITY: the tags are IO-style, so two adjacent terms can only be told
apart when their polarity differs (e.g. `price=T-POS congee=T-NEU` gives two terms, 8 cases
in the data); adjacent terms with the same polarity merge into one. This matches the
`*.bio.conll` files shipped beside the data.

Some laptop14 tokens still hold placeholders such as `becaASPECT0` (left over from the
authors' preprocessing, the aspect term is lost there); they are kept as-is, counted, and
reported.

    python -m spacy_cvt_project convert-semeval14 ../shared/data/semeval14 corpus/semeval14 --domain both
"""
from __future__ import annotations

import re
import time
from enum import Enum
from pathlib import Path
from typing import List, Tuple

import typer
from spacy.tokens import Doc, DocBin, Span
from spacy.training import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from .wnut17 import describe

ASPECT_LABEL = "ASP"
POLARITY_KEY = "polarity"
TAGS = {"O", "T-POS", "T-NEG", "T-NEU"}
SPLITS = ("train", "dev", "test")
PLACEHOLDER = re.compile(r"ASPECT\d")


class Domain(str, Enum):
    laptop14 = "laptop14"
    rest14 = "rest14"
    both = "both"


def parse_line(line: str, path: Path, line_no: int) -> Tuple[List[str], List[str]]:
    """Split one `sentence####tok=TAG ...` line into tokens and tags (token side only)."""
    raw, sep, tagged = line.rpartition("####")
    if not sep or not tagged.strip():
        raise ValueError(
            f"{path}:{line_no}: expected 'sentence####tok=TAG tok=TAG ...' but found no "
            f"'####' followed by tokens: {line[:80]!r}"
        )
    words, tags = [], []
    for item in tagged.split():
        word, eq, tag = item.rpartition("=")
        if not eq or not word or tag not in TAGS:
            raise ValueError(
                f"{path}:{line_no}: bad item {item!r}; expected TOKEN=TAG with TAG one of "
                f"{sorted(TAGS)}."
            )
        words.append(word)
        tags.append(tag)
    return words, tags


def aspect_spans(doc: Doc, tags: List[str]) -> List[Span]:
    """Spans for maximal runs of identical T-* tags, labelled with the polarity (POS/NEG/NEU).

    Read as IOB1 (`T-POS` as `I-POS`): spaCy's `iob_to_biluo` then starts a new span where the
    polarity changes and continues one where it stays."""
    return biluo_tags_to_spans(doc, iob_to_biluo([tag.replace("T-", "I-", 1) for tag in tags]))


def semeval_to_docs(path: Path, vocab: Vocab) -> Tuple[List[Doc], int]:
    """Read one `*.txt` file: one Doc per sentence. Returns docs and the number of tokens
    holding an `ASPECTn` placeholder."""
    docs, n_placeholders = [], 0
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            words, tags = parse_line(line, path, line_no)
            n_placeholders += sum(bool(PLACEHOLDER.search(w)) for w in words)
            doc = Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False])
            polar = aspect_spans(doc, tags)
            doc.ents = [Span(doc, s.start, s.end, label=ASPECT_LABEL) for s in polar]
            doc.spans[POLARITY_KEY] = polar
            docs.append(doc)
    return docs, n_placeholders


def main(
    input_dir: Path = typer.Argument(..., help="The semeval14 folder (holds laptop14/ and rest14/)."),
    output_dir: Path = typer.Argument(..., help="Writes train.spacy, dev.spacy, test.spacy here."),
    domain: Domain = typer.Option(Domain.both, help="Which domain(s); 'both' concatenates them."),
) -> None:
    """Convert SemEval-2014 aspect-term data (train/dev/test) to .spacy files."""
    domains = ["laptop14", "rest14"] if domain == Domain.both else [domain.value]
    output_dir.mkdir(parents=True, exist_ok=True)
    vocab = Vocab()
    for split in SPLITS:
        start = time.perf_counter()
        docs: List[Doc] = []
        for name in domains:
            path = input_dir / name / f"{split}.txt"
            if not path.exists():
                raise FileNotFoundError(f"{path} not found; expected {name}/{{train,dev,test}}.txt in {input_dir}.")
            part, n_placeholders = semeval_to_docs(path, vocab)
            if n_placeholders:
                print(f"warning: {path}: {n_placeholders} token(s) hold an ASPECTn placeholder (source data damage).")
            docs.extend(part)
        out = output_dir / f"{split}.spacy"
        DocBin(docs=docs, store_user_data=False).to_disk(out)
        print(f"{split} ({'+'.join(domains)}): -> {out}: {describe(docs)} [{time.perf_counter() - start:.1f}s]")
