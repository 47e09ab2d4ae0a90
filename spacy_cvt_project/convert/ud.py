"""UD English EWT (CoNLL-U) -> corpus/pos/{train,dev,test}.spacy, with spaCy's own converter.

`spacy convert -c conllu -n 1` is right for this data (multiword-token lines are skipped
with the surface spacing kept, empty nodes dropped; token.tag_ = XPOS, token.pos_ = UPOS,
one sentence a doc). This script only runs it for the three splits and names the outputs
the way the project expects, without shell commands (mkdir, mv) that not every platform has.

    python -m spacy_cvt_project convert-ud ../shared/data/ud_english_ewt corpus/pos
"""

from pathlib import Path

import typer
from spacy.cli.convert import convert
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from ..data import find_file, plain_copy

SPLITS = {"train": "en_ewt-ud-train.conllu", "dev": "en_ewt-ud-dev.conllu", "test": "en_ewt-ud-test.conllu"}


def main(
    input_dir: Path = typer.Argument(..., help="Folder with the en_ewt-ud-*.conllu files."),
    output_dir: Path = typer.Argument(..., help="Writes train.spacy, dev.spacy, test.spacy here."),
) -> None:
    """Convert UD English EWT (CoNLL-U) to .spacy files: XPOS in token.tag_, UPOS in token.pos_."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for split, name in SPLITS.items():
        found = find_file(input_dir, name)
        if found is None:
            raise SystemExit(f"{input_dir / name} not found (nor compressed): expected {', '.join(SPLITS.values())} "
                             f"in {input_dir}.")
        with plain_copy(found) as source:
            convert(source, output_dir, file_type="spacy", n_sents=1, converter="conllu")
        target = output_dir / f"{split}.spacy"
        (output_dir / f"{Path(name).stem}.spacy").replace(target)
        docs = list(DocBin().from_disk(target).get_docs(Vocab()))
        print(f"{split}: {found} -> {target}: {len(docs):,} sentences, {sum(len(d) for d in docs):,} tokens")
