"""`python -m spacy cvt-augment`: augmented copies of sentences, for a teacher pipeline to
annotate (a larger transfer set).

A teacher can only pass on what it is shown. Tang et al. (2019, "Distilling Task-Specific
Knowledge from BERT into Simple Neural Networks", section 3.3) grow a small transfer set by
rewriting each training sentence many times and letting the teacher label every rewrite:
each word is, with probability p_mask, replaced by the encoder's mask token, else with
probability p_swap by a word of the same kind (they use the same part of speech; here, as in
TinyBERT's augmentation, one of its nearest neighbours in the pipeline's word vectors, so no
tagger is needed); then with probability p_ngram only a random n-gram (n = 1..5) is kept.

Input: .spacy files (e.g. the labeled train set: its text only is used, never its labels) and
.jsonl files with a "text" field (the project's `unlabeled` command's teacher input). Output:
one .spacy file of pre-tokenized docs holding the originals and their rewrites, for `spacy
apply`.
"""
import random
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy
import spacy
import srsly
import typer
from spacy.cli._util import Arg, Opt, app
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from wasabi import Printer

Token = Tuple[str, bool]  # a word and whether a space follows it


class Augmented(NamedTuple):
    """What `augment` wrote: input sentences, docs (originals and distinct rewrites), their
    words, and how many distinct words had neighbours to swap in."""

    sentences: int
    docs: int
    words: int
    words_with_neighbours: int


@app.command("cvt-augment")
def augment_cli(
    # fmt: off
    inputs: List[Path] = Arg(..., help=".spacy or .jsonl files whose sentences to rewrite (a .jsonl line's \"text\" is tokenized by spaCy's English tokenizer).", exists=True, dir_okay=False),
    output: Path = Arg(..., help="The .spacy file to write (originals and rewrites).", dir_okay=False),
    vectors: Path = Opt(..., "--vectors", help="A pipeline with word vectors, for the neighbour swaps (e.g. the project's corpus/vectors)."),
    copies: int = Opt(4, "--copies", min=0, help="Rewrites tried per sentence (duplicates are dropped)."),
    p_mask: float = Opt(0.1, "--p-mask", min=0.0, max=1.0, help="Probability that a word becomes the mask token."),
    p_swap: float = Opt(0.1, "--p-swap", min=0.0, max=1.0, help="Probability that a word becomes one of its nearest neighbours."),
    p_ngram: float = Opt(0.25, "--p-ngram", min=0.0, max=1.0, help="Probability that only a random 1-5-gram of the rewrite is kept."),
    neighbours_n: int = Opt(10, "--neighbours-n", min=1, help="Nearest neighbours to choose a swap from."),
    mask: str = Opt("[MASK]", "--mask", help="The mask token (the encoder's: [MASK] for BERT-family models)."),
    seed: int = Opt(0, "--seed", help="Random seed: the same inputs and seed give the same output."),
    # fmt: on
):
    """
    Rewrite sentences for a teacher to annotate (Tang et al. 2019): words masked or swapped
    for a nearest neighbour in the word vectors, then sometimes cut to a 1-5-gram. Writes
    each input sentence, then its distinct rewrites, as pre-tokenized docs for `spacy apply`.
    """
    augment(inputs, output, vectors, copies=copies, p_mask=p_mask, p_swap=p_swap, p_ngram=p_ngram,
            neighbours_n=neighbours_n, mask=mask, seed=seed, silent=False)


def augment(
    inputs: Sequence[Path],
    output: Path,
    vectors: Optional[Path],
    *,
    copies: int = 4,
    p_mask: float = 0.1,
    p_swap: float = 0.1,
    p_ngram: float = 0.25,
    neighbours_n: int = 10,
    mask: str = "[MASK]",
    seed: int = 0,
    silent: bool = True,
) -> Augmented:
    """Write each input sentence, then its distinct rewrites, as pre-tokenized docs to
    ``output``. Blank sentences are left out; the same inputs and seed give the same file.
    Without ``vectors`` (a teacher with none, in `cvt-distill`) words are masked and cut, never swapped.

    Raises typer.BadParameter, naming the argument, for an input that is neither .spacy nor
    .jsonl of {"text": ...} lines, or ``vectors`` that are no pipeline with word vectors.
    """
    nlp = spacy.blank("en")
    sentences = [tokens for tokens in read_sentences(inputs, nlp) if "".join(w for w, _ in tokens).strip()]
    words = [w for tokens in sentences for w, _ in tokens]
    neighbours = nearest_words(vectors, words, neighbours_n) if vectors is not None else {}
    rng = random.Random(seed)
    seen, db = set(), DocBin(store_user_data=False)
    for tokens in sentences:
        for candidate in [tokens] + [rewrite(tokens, rng, neighbours, p_mask, p_swap, p_ngram, mask) for _ in range(copies)]:
            if tuple(candidate) not in seen:
                seen.add(tuple(candidate))
                words, spaces = zip(*candidate)
                db.add(Doc(nlp.vocab, words=list(words), spaces=list(spaces)))
    output.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(output)
    done = Augmented(len(sentences), len(db), sum(len(s) for s in seen), len(neighbours))
    Printer(no_print=silent).good(f"{done.sentences} sentences -> {done.docs} docs ({done.words} words), "
                                  f"{done.words_with_neighbours} words with neighbours -> {output}")
    return done


def read_sentences(paths: Sequence[Path], nlp: Language) -> Iterator[List[Token]]:
    """Each input sentence's tokens: a .spacy doc's, or a .jsonl line's "text" tokenized."""
    for path in paths:
        if path.suffix == ".spacy":
            docs: Iterable[Doc] = DocBin().from_disk(path).get_docs(nlp.vocab)
        elif path.suffix == ".jsonl":
            docs = (nlp.make_doc(jsonl_text(line, path, i)) for i, line in enumerate(srsly.read_jsonl(path), 1))
        else:
            raise typer.BadParameter(
                f"'{path}' is neither a .spacy file (e.g. corpus/TASK/train.spacy) nor a .jsonl file "
                "of {\"text\": ...} lines (the `unlabeled` command's corpus/teacher_input.jsonl).", param_hint="INPUTS")
        for doc in docs:
            yield [(token.text, bool(token.whitespace_)) for token in doc]


def jsonl_text(line: object, path: Path, number: int) -> str:
    """A .jsonl line's "text", or a usage error naming the file and line."""
    if not isinstance(line, dict) or not isinstance(line.get("text"), str):
        raise typer.BadParameter(f"line {number} of '{path}' has no \"text\" string: {str(line)[:80]}", param_hint="INPUTS")
    return line["text"]


def nearest_words(vectors_path: Path, words: Sequence[str], n: int) -> Dict[str, List[str]]:
    """The n nearest neighbours (cosine) of each lower-cased word that has a vector, alphabetic ones only."""
    try:
        vocab = spacy.load(vectors_path).vocab
    except OSError:
        raise typer.BadParameter(f"'{vectors_path}' is no spaCy pipeline; run `spacy project run vectors` "
                                 "(or `spacy init vectors`) first.", param_hint="--vectors") from None
    if vocab.vectors.shape[0] == 0:
        raise typer.BadParameter(f"'{vectors_path}' has no word vectors to find neighbours in.", param_hint="--vectors")
    queries = sorted({w.lower() for w in words if w.isalpha() and vocab.has_vector(w.lower())})
    if not queries:
        return {}
    keys, _, _ = vocab.vectors.most_similar(numpy.asarray([vocab.get_vector(w) for w in queries]), n=n + 1)
    table = {}
    for word, row in zip(queries, keys):
        # a row can have several keys (FLOW, Flow, flow): most_similar names one of them
        found = dict.fromkeys(vocab.strings[int(k)].lower() for k in row if int(k) in vocab.strings)
        table[word] = [w for w in found if w != word and w.isalpha()][:n]
    return table


def match_case(word: str, like: str) -> str:
    """``word`` written in ``like``'s case (upper, title or as is)."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def rewrite(tokens: List[Token], rng: random.Random, neighbours: Dict[str, List[str]],
            p_mask: float, p_swap: float, p_ngram: float, mask: str) -> List[Token]:
    """One rewrite of a sentence (Tang et al. 2019, section 3.3); each token keeps its trailing space."""
    out = []
    for word, space in tokens:
        u = rng.random()
        if u < p_mask:
            out.append((mask, space))
        elif u < p_mask + p_swap and neighbours.get(word.lower()):
            out.append((match_case(rng.choice(neighbours[word.lower()]), word), space))
        else:
            out.append((word, space))
    if rng.random() < p_ngram and len(out) > 1:
        n = rng.randint(1, min(5, len(out)))
        start = rng.randint(0, len(out) - n)
        out = out[start:start + n]
    return out
