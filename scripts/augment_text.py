"""Augmented copies of sentences, for a teacher pipeline to annotate (a larger transfer set).

A teacher can only pass on what it is shown. Tang et al. (2019, "Distilling Task-Specific
Knowledge from BERT into Simple Neural Networks", section 3.3) grow a small transfer set by
rewriting each training sentence many times and letting the teacher label every rewrite:
each word is, with probability p_mask, replaced by the encoder's mask token, else with
probability p_swap by a word of the same kind (they use the same part of speech; here, as in
TinyBERT's augmentation, one of its nearest neighbours in the pipeline's word vectors, so no
tagger is needed); then with probability p_ngram only a random n-gram (n = 1..5) is kept.

Input: .spacy files (e.g. the labeled train set: its text only is used, never its labels) and
.jsonl files with a "text" field (the `unlabeled` command's teacher input). Output: one .spacy
file of pre-tokenized docs holding the originals and their rewrites, for `spacy apply`.
"""
import random
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

import numpy
import spacy
import srsly
import typer
from spacy.language import Language
from spacy.tokens import Doc, DocBin


Token = Tuple[str, bool]  # a word and whether a space follows it


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


def main(
    inputs: List[Path] = typer.Argument(..., help=".spacy or .jsonl files whose sentences to rewrite."),
    output: Path = typer.Option(..., "-o", help="The .spacy file to write (originals and rewrites)."),
    vectors: Path = typer.Option(..., help="A pipeline with word vectors, for the neighbour swaps (e.g. corpus/vectors)."),
    copies: int = typer.Option(4, min=0, help="Rewrites tried per sentence (duplicates are dropped)."),
    p_mask: float = typer.Option(0.1, min=0.0, max=1.0, help="Probability that a word becomes the mask token."),
    p_swap: float = typer.Option(0.1, min=0.0, max=1.0, help="Probability that a word becomes one of its nearest neighbours."),
    p_ngram: float = typer.Option(0.25, min=0.0, max=1.0, help="Probability that only a random 1-5-gram of the rewrite is kept."),
    neighbours_n: int = typer.Option(10, min=1, help="Nearest neighbours to choose a swap from."),
    mask: str = typer.Option("[MASK]", help="The mask token (the encoder's: [MASK] for BERT-family models)."),
    seed: int = typer.Option(0, help="Random seed: the same inputs and seed give the same output."),
) -> None:
    """Write each input sentence, then its distinct rewrites, as pre-tokenized docs."""
    nlp = spacy.blank("en")
    sentences = [tokens for tokens in read_sentences(inputs, nlp) if "".join(w for w, _ in tokens).strip()]
    neighbours = nearest_words(vectors, [w for tokens in sentences for w, _ in tokens], neighbours_n)
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
    n_words = sum(len(s) for s in seen)
    typer.echo(f"{len(sentences)} sentences -> {len(db)} docs ({n_words} words), {len(neighbours)} words with neighbours -> {output}")


if __name__ == "__main__":
    typer.run(main)
