"""Readers for unlabeled raw text, and the endless shuffled stream CVT trains on.

The readers are registered like spaCy's own (``[corpora.unlabeled]`` with
``@readers = "spacy-cvt.PlainTextCorpus.v1"``) and return Examples whose
predicted and reference docs are the same unannotated doc, as
``spacy.JsonlCorpus.v1`` does, so either can feed a CVT component. They read a
line at a time and never hold a whole file in memory: unlabeled corpora are
large (the paper uses the 1B-word benchmark).
"""

import itertools
import random
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

UNDECODABLE_POLICIES = ("strict", "replace", "ignore")


def text_files(path: Union[str, Path, None], reader: str) -> List[Path]:
    """The file at ``path``, or every file below a folder, sorted; an error if none."""
    if path is None:
        raise ValueError(
            f"{reader}: no path given. Set the corpus path in the config, e.g. "
            "`--paths.raw assets/raw.txt` on the `spacy train` command line."
        )
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{reader}: the unlabeled text '{path}' does not exist. Check [paths] raw "
            "(or the path of your unlabeled corpus) in the config."
        )
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise ValueError(f"{reader}: the folder '{path}' holds no files of unlabeled text.")
        return files
    return [path]


def read_lines(path: Path, encoding: str, errors: str) -> Iterator[str]:
    """Yield the non-blank lines of a file, decoded one line at a time.

    Decoding per line lets an undecodable byte be reported with its line number.
    CRLF and CR line ends are accepted.
    """
    with path.open("rb") as file:
        for line_number, raw in enumerate(file, start=1):
            try:
                line = raw.decode(encoding, errors=errors)
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}, line {line_number}: cannot decode byte "
                    f"{raw[error.start:error.start + 1]!r} at column {error.start + 1} as "
                    f"{encoding}. Convert the file to UTF-8, or set `encoding` (e.g. "
                    f'"latin-1") or `errors = "replace"` on the reader in the config.'
                ) from None
            line = line.strip()
            if line:
                yield line


class RawTextCorpus:
    """Iterate unlabeled docs, one per non-blank line, from a file or folder.

    Long lines are cut into consecutive docs of at most ``max_length`` tokens
    rather than skipped: nothing a user gives is silently dropped.
    """

    reader_name = "spacy-cvt.PlainTextCorpus.v1"

    def __init__(
        self,
        path: Union[str, Path, None],
        *,
        max_length: int = 100,
        limit: int = 0,
        encoding: str = "utf-8",
        errors: str = "strict",
    ):
        if errors not in UNDECODABLE_POLICIES:
            raise ValueError(
                f"{self.reader_name}: errors must be one of {UNDECODABLE_POLICIES}, got '{errors}'."
            )
        if max_length < 0 or limit < 0:
            raise ValueError(f"{self.reader_name}: max_length and limit must be >= 0 (0 = no limit).")
        self.files = text_files(path, self.reader_name)
        self.max_length = max_length
        self.limit = limit
        self.encoding = encoding
        self.errors = errors

    def make_doc(self, nlp: Language, line: str) -> Doc:
        return nlp.make_doc(line)

    def docs(self, nlp: Language) -> Iterator[Doc]:
        lines = itertools.chain.from_iterable(
            read_lines(path, self.encoding, self.errors) for path in self.files
        )
        if self.limit:
            lines = itertools.islice(lines, self.limit)
        for line in lines:
            yield from split_long(self.make_doc(nlp, line), self.max_length)

    def __call__(self, nlp: Language) -> Iterator[Example]:
        for doc in self.docs(nlp):
            yield Example(doc, doc.copy())


class PretokenizedTextCorpus(RawTextCorpus):
    """One sentence a line, tokens separated by whitespace (the 1B-word benchmark format)."""

    reader_name = "spacy-cvt.PretokenizedCorpus.v1"

    def make_doc(self, nlp: Language, line: str) -> Doc:
        words = line.split()
        return Doc(nlp.vocab, words=words, spaces=[True] * (len(words) - 1) + [False])


def split_long(doc: Doc, max_length: int) -> Iterator[Doc]:
    """The doc itself, or consecutive pieces of at most ``max_length`` tokens."""
    if not max_length or len(doc) <= max_length:
        yield doc
        return
    for start in range(0, len(doc), max_length):
        yield doc[start : start + max_length].as_doc()


@registry.readers("spacy-cvt.PlainTextCorpus.v1")
def create_plain_text_reader(
    path: Optional[Path],
    max_length: int = 100,
    limit: int = 0,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> Callable[[Language], Iterable[Example]]:
    """Raw text, one text a line, tokenized by the pipeline's tokenizer.

    path: a file, or a folder whose files are all read (sorted by name).
    max_length: cut longer texts into pieces of this many tokens (0 = never).
    limit: read at most this many lines (0 = all).
    encoding, errors: how bytes are decoded; errors = "strict" stops at the first
        undecodable line and names it, "replace" or "ignore" decode anyway.
    """
    return RawTextCorpus(path, max_length=max_length, limit=limit, encoding=encoding, errors=errors)


@registry.readers("spacy-cvt.PretokenizedCorpus.v1")
def create_pretokenized_reader(
    path: Optional[Path],
    max_length: int = 100,
    limit: int = 0,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> Callable[[Language], Iterable[Example]]:
    """One sentence a line with whitespace between tokens; settings as PlainTextCorpus."""
    return PretokenizedTextCorpus(
        path, max_length=max_length, limit=limit, encoding=encoding, errors=errors
    )


def unlabeled_batches(
    corpus: Callable[[Language], Iterable[Example]],
    nlp: Language,
    *,
    batch_size: int,
    shuffle_window: int,
    seed: int,
    corpus_name: str,
) -> Iterator[List[Doc]]:
    """Endless batches of docs: read ``shuffle_window`` docs, shuffle them, batch them.

    When the corpus ends it is read again from the start. A pass over the corpus
    that yields no non-empty doc raises instead of looping forever.
    """
    rng = random.Random(seed)
    while True:
        n_docs = 0
        docs = (eg.predicted for eg in corpus(nlp))
        for window in _chunks((doc for doc in docs if len(doc)), shuffle_window):
            n_docs += len(window)
            rng.shuffle(window)
            for start in range(0, len(window), batch_size):
                yield window[start : start + batch_size]
        if n_docs == 0:
            raise ValueError(
                f"The unlabeled corpus '{corpus_name}' yielded no documents with any tokens. "
                "Check that its file is not empty and that the reader's path is right."
            )


def _chunks(items: Iterable[Doc], size: int) -> Iterator[List[Doc]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
