"""Raw-text readers and the endless unlabeled stream: formats and bad input."""

import gc
import itertools
import threading
import time

import pytest
import spacy

from spacy_cvt.unlabeled import PretokenizedTextCorpus, RawTextCorpus, unlabeled_batches


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def texts(corpus, nlp):
    return [eg.predicted.text for eg in corpus(nlp)]


def test_one_doc_per_non_blank_line_with_crlf_and_folders(tmp_path, nlp):
    (tmp_path / "a.txt").write_bytes(b"First line here.\r\n\r\n  \r\nSecond one!\r\n")
    (tmp_path / "b.txt").write_text("Third.\n", encoding="utf-8")
    assert texts(RawTextCorpus(tmp_path / "a.txt"), nlp) == ["First line here.", "Second one!"]
    assert texts(RawTextCorpus(tmp_path), nlp) == ["First line here.", "Second one!", "Third."]


def test_examples_are_unannotated_copies(tmp_path, nlp):
    (tmp_path / "a.txt").write_text("Emoji 🙂 and ünïcödé ☃ text\n", encoding="utf-8")
    example = next(iter(RawTextCorpus(tmp_path / "a.txt")(nlp)))
    assert example.predicted.text == example.reference.text
    assert example.predicted is not example.reference
    assert not example.reference.ents


def test_long_lines_are_split_not_dropped(tmp_path, nlp):
    words = [f"w{i}" for i in range(250)]
    (tmp_path / "a.txt").write_text(" ".join(words) + "\n", encoding="utf-8")
    docs = list(RawTextCorpus(tmp_path / "a.txt", max_length=100).docs(nlp))
    assert [len(doc) for doc in docs] == [100, 100, 50]
    assert [t.text for doc in docs for t in doc] == words


def test_pretokenized_keeps_the_given_tokens(tmp_path, nlp):
    (tmp_path / "a.txt").write_text("New York-based co. 's shares\n", encoding="utf-8")
    doc = next(PretokenizedTextCorpus(tmp_path / "a.txt").docs(nlp))
    assert [t.text for t in doc] == ["New", "York-based", "co.", "'s", "shares"]


def test_limit(tmp_path, nlp):
    (tmp_path / "a.txt").write_text("a\nb\nc\n", encoding="utf-8")
    assert texts(RawTextCorpus(tmp_path / "a.txt", limit=2), nlp) == ["a", "b"]


def test_missing_path_and_unset_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RawTextCorpus(tmp_path / "nope.txt")
    unset = RawTextCorpus(None)  # an unused corpus in a config may have no path
    with pytest.raises(ValueError, match="paths.raw"):
        texts(unset, spacy.blank("en"))
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match="holds no files"):
        RawTextCorpus(tmp_path / "empty_dir")


def test_undecodable_bytes_name_the_file_and_line(tmp_path, nlp):
    path = tmp_path / "latin.txt"
    path.write_bytes("good line\nna\xefve caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.txt, line 2.*latin-1"):
        texts(RawTextCorpus(path), nlp)
    assert texts(RawTextCorpus(path, encoding="latin-1"), nlp)[1] == "naïve café"
    assert "\ufffd" in texts(RawTextCorpus(path, errors="replace"), nlp)[1]
    with pytest.raises(ValueError, match="errors must be one of"):
        RawTextCorpus(path, errors="skip")


def test_empty_corpus_is_an_error_not_an_endless_loop(tmp_path, nlp):
    path = tmp_path / "blank.txt"
    path.write_text("\n   \n\t\n", encoding="utf-8")
    batches = unlabeled_batches(RawTextCorpus(path), nlp, batch_size=4, shuffle_window=10, seed=0, corpus_name="corpora.unlabeled")
    with pytest.raises(ValueError, match="corpora.unlabeled' yielded no documents"):
        next(batches)


def test_stream_is_endless_shuffled_and_reproducible(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(10)), encoding="utf-8")

    def first_batches(seed):
        stream = unlabeled_batches(RawTextCorpus(path), nlp, batch_size=4, shuffle_window=10, seed=seed, corpus_name="x")
        return [[eg.predicted.text for eg in batch] for batch in itertools.islice(stream, 6)]

    batches = first_batches(0)
    assert sorted(len(batch) for batch in batches[:3]) == [2, 4, 4]  # re-reads after 10 docs
    assert sorted(sum(batches[:3], [])) == sorted(f"line {i}" for i in range(10))
    assert sorted(sum(batches[3:], [])) == sorted(f"line {i}" for i in range(10))
    assert batches == first_batches(0)
    assert sum(batches[:3], []) != [f"line {i}" for i in range(10)]


def test_stream_batches_docs_of_similar_length(tmp_path, nlp):
    """A window is cut into batches by length: an LSTM runs as many steps as a batch's longest doc."""
    path = tmp_path / "a.txt"
    lines = [" ".join(["w"] * n) for n in [1, 9, 2, 8, 3, 7, 4, 6, 5, 10, 1, 9]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stream = unlabeled_batches(RawTextCorpus(path), nlp, batch_size=4, shuffle_window=12, seed=0, corpus_name="x")
    batches = [sorted(len(eg.predicted) for eg in batch) for batch in itertools.islice(stream, 3)]
    assert sorted(batches) == [[1, 1, 2, 3], [4, 5, 6, 7], [8, 9, 9, 10]]
    assert batches != sorted(batches)  # the order of the batches is shuffled (for this seed)


def test_registered_readers_resolve_from_a_config(tmp_path, nlp):
    from spacy.util import registry

    path = tmp_path / "a.txt"
    path.write_text("one two\n", encoding="utf-8")
    config = {"corpus": {"@readers": "spacy-cvt.PretokenizedCorpus.v1", "path": str(path)}}
    corpus = registry.resolve(config)["corpus"]
    assert texts(corpus, nlp) == ["one two"]


def test_glob_of_shards_in_order_compressed_and_empty(tmp_path, nlp):
    import bz2
    import gzip
    import lzma

    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "news-00000-of-00004").write_text("first shard.\n", encoding="utf-8")
    (shards / "news-00001-of-00004").write_bytes(b"")  # an empty shard among full ones
    (shards / "news-00002-of-00004.gz").write_bytes(gzip.compress("third, gzip.\nmore.\n".encode()))
    (shards / "news-00003-of-00004.bz2").write_bytes(bz2.compress("fourth, bz2.\n".encode()))
    (shards / "other.xz").write_bytes(lzma.compress("xz too.\n".encode()))
    pattern = str(shards / "news-*-of-00004*")
    assert texts(RawTextCorpus(pattern), nlp) == ["first shard.", "third, gzip.", "more.", "fourth, bz2."]
    assert texts(RawTextCorpus(shards / "other.xz"), nlp) == ["xz too."]
    docs = list(PretokenizedTextCorpus(str(tmp_path / "**" / "*.gz")).docs(nlp))
    assert [[t.text for t in doc] for doc in docs] == [["third,", "gzip."], ["more."]]


def test_a_glob_that_matches_nothing_names_the_pattern(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"the pattern '.*news-\*' matches no files"):
        RawTextCorpus(str(tmp_path / "news-*"))


def test_a_50_mb_line_is_read_in_pieces_never_whole(tmp_path):
    import tracemalloc

    from spacy_cvt.unlabeled import MAX_LINE_BYTES, read_lines

    path = tmp_path / "one-line.txt"
    n_words = 10_000_000
    with path.open("w", encoding="utf-8") as file:  # 50 MB, no newline at all
        for _ in range(n_words // 100_000):
            file.write("word " * 100_000)
    tracemalloc.start()
    pieces = words = 0
    longest = 0
    for piece in read_lines(path, "utf-8", "strict"):
        pieces += 1
        longest = max(longest, len(piece))
        assert piece.startswith("word ") and piece.endswith(" word")  # cut between words, never inside one
        words += piece.count(" ") + 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert words == n_words and pieces >= path.stat().st_size // MAX_LINE_BYTES
    assert longest <= MAX_LINE_BYTES + len("word ")  # a piece, plus the word cut from the one before
    assert peak < 8 * MAX_LINE_BYTES, f"peak {peak / 2**20:.0f} MiB: the line was held whole"


def test_multibyte_characters_across_piece_boundaries(tmp_path):
    from spacy_cvt.unlabeled import read_lines

    text = "ünïcödé ☃ 🙂 " * 40
    path = tmp_path / "a.txt"
    path.write_text(text + "\nnext line\n", encoding="utf-8")
    pieces = list(read_lines(path, "utf-8", "strict", max_line_bytes=16))  # 2-4 byte characters cut across pieces
    assert " ".join(pieces).split() == (text + " next line").split()


@pytest.mark.parametrize("errors,expected", [("replace", "bad\ufffdline"), ("ignore", "badline")])
def test_nul_bytes_follow_the_errors_policy(tmp_path, nlp, errors, expected):
    path = tmp_path / "a.txt"
    path.write_bytes(b"good line\nanother\nbad\x00line\nlast\n")
    with pytest.raises(ValueError, match=r"a\.txt, line 3: a NUL character"):
        texts(RawTextCorpus(path), nlp)
    assert texts(RawTextCorpus(path, errors=errors), nlp) == ["good line", "another", expected, "last"]


def test_a_file_cut_inside_a_character_is_an_error(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_bytes("fine\nends in ☃".encode("utf-8")[:-1])
    with pytest.raises(ValueError, match=r"a\.txt, line 2: cannot decode byte b'\\xe2'"):
        texts(RawTextCorpus(path), nlp)
    assert texts(RawTextCorpus(path, errors="replace"), nlp) == ["fine", "ends in \ufffd"]


class CountingCorpus:
    """Raw text that counts the docs read from it, and can fail at a given doc."""

    def __init__(self, path, fail_at=None):
        self.corpus = RawTextCorpus(path)
        self.read = 0
        self.fail_at = fail_at

    def __call__(self, nlp):
        for example in self.corpus(nlp):
            if self.read == self.fail_at:
                raise ValueError("broken doc")
            self.read += 1
            yield example


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_the_next_window_is_read_ahead_and_no_further(tmp_path, nlp):
    """While a window's batches are used, a thread tokenizes the next window, and stops there."""
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    corpus = CountingCorpus(path)
    stream = unlabeled_batches(corpus, nlp, batch_size=5, shuffle_window=10, seed=0, corpus_name="x")
    next(stream)
    assert wait_for(lambda: corpus.read == 20)  # the window in use and the next one
    time.sleep(0.3)
    assert corpus.read == 20
    for _ in range(2):  # the rest of the first window: the thread reads a third
        next(stream)
    assert wait_for(lambda: corpus.read == 30)


def test_an_error_in_the_read_ahead_reaches_the_step_that_needs_the_docs(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    stream = unlabeled_batches(CountingCorpus(path, fail_at=15), nlp, batch_size=5, shuffle_window=10, seed=0, corpus_name="x")
    assert [len(next(stream)) for _ in range(2)] == [5, 5]  # the first window is whole
    for _ in range(2):  # and stays an error
        with pytest.raises(ValueError, match="broken doc"):
            next(stream)


def test_the_reading_thread_stops_when_the_stream_is_dropped(tmp_path, nlp):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    stream = unlabeled_batches(RawTextCorpus(path), nlp, batch_size=5, shuffle_window=10, seed=0, corpus_name="dropped")
    next(stream)
    reading = lambda: any("'dropped'" in thread.name for thread in threading.enumerate())  # noqa: E731
    assert reading()
    del stream
    gc.collect()
    assert wait_for(lambda: not reading())
