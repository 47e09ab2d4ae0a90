"""Readers for unlabeled text, and the endless shuffled stream CVT trains on.

The readers are registered like spaCy's own (``[corpora.unlabeled]`` with
``@readers = "spacy-cvt.PlainTextCorpus.v1"``) and return Examples whose
predicted and reference docs are the same unannotated doc, as
``spacy.JsonlCorpus.v1`` does, so either can feed a CVT component. They read a
line at a time and never hold a whole file in memory: unlabeled corpora are
large (the paper uses the 1B-word benchmark).
"""

import atexit
import bz2
import codecs
import functools
import glob
import gzip
import itertools
import lzma
import queue
import random
import threading
import weakref
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, List, Optional, Tuple, TypeVar, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch, registry
from torch.profiler import record_function

T = TypeVar("T")

UNDECODABLE_POLICIES = ("strict", "replace", "ignore")
DECOMPRESSORS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
MAX_LINE_BYTES = 2**20  # longer lines are read in pieces of this many bytes


def text_files(path: Union[str, Path, None], reader: str) -> List[Path]:
    """The file at ``path``, every file below a folder, or every file a glob matches, sorted.

    An error if there are none: a corpus that silently reads nothing would train supervised.
    """
    if path is None:
        raise ValueError(
            f"{reader}: no path given. Set the corpus path in the config, e.g. "
            "`--paths.unlabeled assets/unlabeled.txt` on the `spacy train` command line."
        )
    if any(char in str(path) for char in "*?["):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not files:
            raise FileNotFoundError(
                f"{reader}: the pattern '{path}' matches no files. Check [paths] unlabeled (or the "
                "path of your unlabeled corpus) in the config; `**` matches sub-folders."
            )
        return files
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{reader}: the unlabeled text '{path}' does not exist. Check [paths] unlabeled "
            "(or the path of your unlabeled corpus) in the config."
        )
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise ValueError(f"{reader}: the folder '{path}' holds no files of unlabeled text.")
        return files
    return [path]


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its name ends in .gz, .bz2 or .xz."""
    return DECOMPRESSORS.get(path.suffix, open)(path, "rb")


def read_lines(path: Path, encoding: str, errors: str, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Yield the non-blank lines of a file, streamed and decoded a line at a time.

    A line longer than ``max_line_bytes`` is never held whole: it comes in pieces cut at
    the last whitespace of each ``max_line_bytes`` read (a file of one 50 MB line is
    fine). Decoding per line lets an undecodable byte or a NUL character be reported
    with its line number; ``errors`` = "replace" or "ignore" decodes anyway (NUL then
    becomes U+FFFD or is dropped). CRLF line ends are accepted.
    """
    new_decoder = codecs.getincrementaldecoder(encoding)
    with open_binary(path) as file:
        line_number, offset, pending, decoder = 1, 0, "", new_decoder(errors=errors)
        while raw := file.readline(max_line_bytes):
            line_ends = raw.endswith(b"\n") or len(raw) < max_line_bytes  # shorter: the file's last line
            try:
                text = pending + decoder.decode(raw, final=line_ends)
            except UnicodeDecodeError as error:  # error.object: bytes held from the last piece + raw
                position = offset - (len(error.object) - len(raw)) + error.start + 1
                raise ValueError(
                    f"{path}, line {line_number}: cannot decode byte "
                    f"{error.object[error.start:error.start + 1]!r} at byte {position} of the "
                    f"line as {encoding}. Convert the file to UTF-8, or set `encoding` (e.g. "
                    f'"latin-1") or `errors = "replace"` on the reader in the config.'
                ) from None
            text = without_nul(text, path, line_number, errors)
            if line_ends:
                line_number, offset, pending, decoder = line_number + 1, 0, "", new_decoder(errors=errors)
            else:  # a piece of a long line: keep its last, maybe cut, word for the next piece
                offset += len(raw)
                cut = max(text.rfind(" "), text.rfind("\t"))
                text, pending = (text[:cut], text[cut:]) if cut > 0 else (text, "")
            if text.strip():
                yield text.strip()
        try:
            pending += decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ValueError(
                f"{path}, line {line_number}: the file ends in the middle of a {encoding} character; "
                'it was cut short. Repair it, or set `errors = "replace"` on the reader in the config.'
            ) from None
        if pending.strip():
            yield pending.strip()


def without_nul(text: str, path: Path, line_number: int, errors: str) -> str:
    """NUL characters mean a binary or damaged file: an error, unless ``errors`` says otherwise."""
    if "\x00" not in text:
        return text
    if errors == "strict":
        raise ValueError(
            f"{path}, line {line_number}: a NUL character (byte 0x00); the file looks binary or "
            'damaged. Clean it, or set `errors = "replace"` (NUL becomes U+FFFD) or '
            '`errors = "ignore"` (NUL is dropped) on the reader in the config.'
        )
    return text.replace("\x00", "\ufffd" if errors == "replace" else "")


class PlainTextCorpus:
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
        # A null path fails when read, not here: a config may hold a corpus it does not use
        # (the shipped cvt configs' [corpora.unlabeled] in a run with a teacher corpus).
        self.files = text_files(path, self.reader_name) if path is not None else None
        self.max_length = max_length
        self.limit = limit
        self.encoding = encoding
        self.errors = errors

    def texts(self) -> Iterator[str]:
        """The non-blank lines, at most ``limit``: strings only, so another thread may read them."""
        files = self.files if self.files is not None else text_files(None, self.reader_name)
        lines = itertools.chain.from_iterable(read_lines(path, self.encoding, self.errors) for path in files)
        return itertools.islice(lines, self.limit) if self.limit else lines

    def make_doc(self, nlp: Language, line: str) -> Doc:
        return nlp.make_doc(line)

    def line_docs(self, nlp: Language, line: str) -> Iterator[Doc]:
        """The docs of one line: the line's doc, cut in pieces of ``max_length`` tokens."""
        return split_long(self.make_doc(nlp, line), self.max_length)

    def docs(self, nlp: Language) -> Iterator[Doc]:
        for line in self.texts():
            yield from self.line_docs(nlp, line)

    def __call__(self, nlp: Language) -> Iterator[Example]:
        for doc in self.docs(nlp):
            yield unlabeled_example(doc)


class PretokenizedTextCorpus(PlainTextCorpus):
    """One sentence a line, tokens separated by whitespace (the 1B-word benchmark format)."""

    reader_name = "spacy-cvt.PretokenizedCorpus.v1"

    def make_doc(self, nlp: Language, line: str) -> Doc:
        words = line.split()
        return Doc(nlp.vocab, words=words, spaces=[True] * (len(words) - 1) + [False])


RawTextCorpus = PlainTextCorpus  # its name before 2026-12 (issue 46), for code that imports it


def unlabeled_example(doc: Doc) -> Example:
    """An Example whose predicted and reference docs are the same unannotated doc."""
    return Example(doc, doc.copy())


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
    """Unlabeled text, one text a line, tokenized by the pipeline's tokenizer.

    path: a file, a folder whose files are all read (sorted by name), or a glob such as
        "news/news.en-*-of-00100" or "texts/**/*.txt.gz"; .gz, .bz2 and .xz files are
        decompressed as they are read.
    max_length: cut longer texts into pieces of this many tokens (0 = never).
    limit: read at most this many lines (0 = all).
    encoding, errors: how bytes are decoded; errors = "strict" stops at the first
        undecodable line or NUL character and names it, "replace" or "ignore" decode
        anyway (NUL becomes U+FFFD or is dropped).
    """
    return PlainTextCorpus(path, max_length=max_length, limit=limit, encoding=encoding, errors=errors)


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
) -> Iterator[List[Example]]:
    """Endless batches of examples of similar length, from windows of ``shuffle_window``.

    Each window is shuffled, sorted by length (ties stay shuffled), cut into
    batches, and the batches are yielded in random order. An LSTM runs as many
    time steps as the longest doc in its batch, so batches of similar length make
    a CVT step about twice as cheap as random ones; the authors' code buckets its
    batches by length too. Examples whose doc is empty are left out. When the
    corpus ends it is read again from the start. A pass over the corpus that
    yields no non-empty doc raises instead of looping forever.

    With spacy-cvt's own readers a background thread reads and decodes the next
    window's lines while the current one is trained on (``read_ahead_passes``). It
    handles strings only: spaCy promises no thread safety for its tokenizer, Docs
    and the shared Vocab, so the docs are made here, on the thread that trains.
    Other readers (spacy.Corpus.v1 reading a DocBin, e.g. a teacher corpus) make
    Docs as they read, so they are read here too, without a thread.
    """
    if isinstance(corpus, PlainTextCorpus):
        read_pass = read_ahead_passes(corpus, nlp, lines_ahead=shuffle_window, name=f"unlabeled text '{corpus_name}'")
    else:
        read_pass = functools.partial(corpus, nlp)
    windows = shuffled_windows(read_pass, batch_size=batch_size, shuffle_window=shuffle_window, seed=seed, corpus_name=corpus_name)
    return itertools.chain.from_iterable(windows)


def shuffled_windows(
    read_pass: Callable[[], Iterable[Example]],
    *,
    batch_size: int,
    shuffle_window: int,
    seed: int,
    corpus_name: str,
) -> Iterator[List[List[Example]]]:
    """The batches of ``unlabeled_batches``, a window's worth at a time, over endless passes."""
    rng = random.Random(seed)
    while True:
        n_docs = 0
        examples = (eg for eg in read_pass() if len(eg.predicted))
        for window in minibatch(examples, shuffle_window):
            n_docs += len(window)
            rng.shuffle(window)
            window.sort(key=lambda eg: len(eg.predicted))
            batches = list(minibatch(window, batch_size))
            rng.shuffle(batches)
            yield batches
        if n_docs == 0:
            raise ValueError(
                f"The unlabeled corpus '{corpus_name}' yielded no documents with any tokens. "
                "Check that its file is not empty and that the reader's path is right."
            )


END_OF_PASS = None  # the item that ends a pass in the stream of lines ``line_passes`` makes


def read_ahead_passes(
    corpus: PlainTextCorpus, nlp: Language, *, lines_ahead: int, name: str
) -> Callable[[], Iterator[Example]]:
    """A function that reads the next pass over ``corpus``, whose lines a thread reads ahead.

    The thread (``ReadAhead`` over ``line_passes``) reads ``lines_ahead`` lines beyond
    those in use; the Docs and Examples are made by the caller, on its own thread. Each
    pass must be read to its end before the next one is started.
    """
    lines = ReadAhead(lambda stop: line_passes(corpus, lines_ahead, stop), name=name)

    def read_pass() -> Iterator[Example]:
        for line in iter(lines.__next__, END_OF_PASS):
            for doc in corpus.line_docs(nlp, line):
                yield unlabeled_example(doc)

    return read_pass


def line_passes(corpus: PlainTextCorpus, chunk_size: int, stop: threading.Event) -> Iterator[List[Optional[str]]]:
    """Endless passes over the corpus's lines in chunks, each pass ended by ``END_OF_PASS``."""
    while not stop.is_set():
        yield from minibatch(corpus.texts(), chunk_size)
        yield [END_OF_PASS]


class ReadAhead(Iterator[T]):
    """The items of a stream of lists, the next list produced by a daemon thread ahead of use.

    ``produce(stop)`` makes the stream; it should end soon after ``stop`` is set. While
    the items of one list are used, the thread produces the next one, then waits: at
    most two lists are held at once. An error in the stream is raised by the ``next``
    that would have returned its items. The thread is stopped when this iterator is
    garbage collected, and stopped and joined at exit, so that interpreter shutdown
    never cuts a daemon thread off in the middle of a read. Reads show in
    torch.profiler as ``spacy_cvt.unlabeled_text`` (what a step waited for).
    """

    POLL_SECONDS = 0.1  # how often a waiting thread checks whether it should stop
    JOIN_SECONDS = 10.0  # at exit, how long to wait for a thread to stop

    def __init__(self, produce: Callable[[threading.Event], Iterator[List[T]]], name: str):
        self._ready: "queue.Queue[Tuple[Optional[List[T]], Optional[BaseException]]]" = queue.Queue(maxsize=1)
        credit = threading.Semaphore(1)  # the thread may produce one list ahead
        self._credit = credit
        stop = threading.Event()
        self._items: Iterator[T] = iter(())
        self._end: Optional[BaseException] = None  # what the stream ended with, raised again by later reads
        thread = threading.Thread(
            target=_produce, args=(produce(stop), self._ready, credit, stop), name=name, daemon=True
        )
        weakref.finalize(self, stop.set)
        _THREADS[thread] = stop
        thread.start()

    def __next__(self) -> T:
        with record_function("spacy_cvt.unlabeled_text"):
            while True:
                item = next(self._items, _END)
                if item is not _END:
                    return item
                if self._end is not None:
                    raise self._end
                group, error = self._ready.get()
                self._credit.release()
                if group is None:
                    self._end = error or StopIteration()
                    raise self._end
                self._items = iter(group)


_END = object()
_THREADS: "weakref.WeakKeyDictionary[threading.Thread, threading.Event]" = weakref.WeakKeyDictionary()


@atexit.register
def _stop_read_ahead_threads() -> None:
    for stop in list(_THREADS.values()):
        stop.set()
    for thread in list(_THREADS):
        thread.join(ReadAhead.JOIN_SECONDS)


def _produce(groups: Iterator[List[T]], ready: "queue.Queue", credit: threading.Semaphore, stop: threading.Event) -> None:
    """``ReadAhead``'s thread: puts ``(group, None)``, then ``(None, error)`` or ``(None, None)`` at the end."""
    try:
        while not stop.is_set():
            if not credit.acquire(timeout=ReadAhead.POLL_SECONDS):
                continue
            try:
                message = (next(groups), None)
            except StopIteration:
                message = (None, None)
            except BaseException as error:  # noqa: B036  (handed to the reading thread)
                message = (None, error)
            while not stop.is_set():
                try:
                    ready.put(message, timeout=ReadAhead.POLL_SECONDS)
                    break
                except queue.Full:
                    continue
            if message[0] is None:
                return
    finally:
        groups.close()
