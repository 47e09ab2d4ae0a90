"""A user's own corpus as a task: `spacy project run all --vars.task mine --vars.corpus my_corpus/`.

The folder holds train.spacy, dev.spacy and test.spacy (what `spacy convert` writes, or your own
DocBins). What the systems learn follows from what the files annotate: entities (doc.ents) train
the ner heads, tags (token.tag_) the tagger heads, and spans under a key (doc.spans[KEY], spancat's
format) train the ner heads too: a sequence tagger labels each token once, so the spans must not
overlap, and `convert` writes them into doc.ents, where every system (spaCy's ner and the
transformer as well as CVT, its teacher included) learns and is scored on them (ents_f). `head`
(ner, tagger, spans or spans:KEY) chooses where the files annotate several. The
corpus is checked whole before anything trains, each problem named with its file, and `convert`
copies it to corpus/TASK/ beside the task's facts (task.json), which every later command reads
through catalog.known_task: the user's task is compared, recorded and charted as the built-in ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Dict, Optional, Set, Tuple

from .catalog import TASKS, Task

SPLITS = ("train", "dev", "test")
TASK_FILE = "task.json"  # corpus/TASK/task.json: a user's task's facts, written by `convert`
MIN_DOCS = 10  # fewer dev or test sentences than this cannot tell the systems apart
# what converters write for a missing tag: `spacy convert -c ner` gives every token "-" without a POS
# column, CoNLL-U has "_" for a missing XPOS
PLACEHOLDER_TAGS = {"-", "_"}
# what the files may annotate -> (cvt head, spaCy head, score key); spans under a key are learned as entities
HEADS = {"ner": ("ner", "ner", "ents_f"), "tagger": ("tagger", "tagger", "tag_acc"), "spans": ("ner", "ner", "ents_f")}
SPANS = "spans:"  # the annotation kind of doc.spans[KEY] is "spans:KEY"


class CorpusError(ValueError):
    """The user's corpus cannot be trained on as it is: the message names the file and what to do."""


def read_docs(path: Path) -> list:
    import spacy
    from spacy.tokens import DocBin

    if not path.is_file():
        raise CorpusError(f"{path} is missing: a corpus folder holds {', '.join(f'{s}.spacy' for s in SPLITS)} "
                          "(`python -m spacy convert` writes them from CoNLL/IOB or CoNLL-U files)")
    try:
        return list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    except Exception as err:  # DocBin raises several kinds on a file that is not one
        raise CorpusError(f"{path} is not a spaCy DocBin (.spacy) file: {err}") from err


def annotations(docs: list) -> Dict[str, Set[str]]:
    """The labels each kind of annotation uses in these docs: {"ner": entity labels, "tagger": tags,
    "spans:KEY": the labels of doc.spans[KEY], for each key with spans}."""
    found: Dict[str, Set[str]] = {"ner": set(), "tagger": set()}
    for doc in docs:
        found["ner"].update(ent.label_ for ent in doc.ents)
        found["tagger"].update(token.tag_ for token in doc if token.tag_ and token.tag_ not in PLACEHOLDER_TAGS)
        for key, group in doc.spans.items():
            found.setdefault(SPANS + key, set()).update(span.label_ for span in group)
    return found


def what(kind: str) -> str:
    """An annotation kind in words."""
    return {"ner": "entities", "tagger": "tags"}.get(kind, f"spans under {kind[len(SPANS):]!r}")


def choose_head(path: Path, found: Dict[str, Set[str]], head: Optional[str]) -> str:
    """The annotation kind the train file asks the systems to learn ("ner", "tagger" or "spans:KEY"), or
    the one given; an error where it is unclear."""
    kinds = [kind for kind, labels in found.items() if labels]
    span_kinds = [kind for kind in kinds if kind.startswith(SPANS)]
    if head:
        if head == "spans" and len(span_kinds) == 1:
            return span_kinds[0]
        if head == "spans":
            raise CorpusError(f"{path} has spans under {len(span_kinds)} keys ({', '.join(k[len(SPANS):] for k in span_kinds) or 'none'}): "
                              "name the key with --vars.head spans:KEY")
        if head not in HEADS and not head.startswith(SPANS):
            raise CorpusError(f"head {head!r} is not one of ner, tagger, spans or spans:KEY (--vars.head)")
        if head not in kinds:
            raise CorpusError(f"{path} has no {what(head)} for head {head!r}")
        return head
    if not kinds:
        raise CorpusError(f"{path} annotates neither entities (doc.ents), tags (token.tag_) nor spans (doc.spans): "
                          "nothing to learn. Convert it with `python -m spacy convert -c ner` (or -c conllu) first")
    if len(kinds) > 1:
        raise CorpusError(f"{path} annotates {' and '.join(what(kind) for kind in kinds)}: choose what the systems "
                          f"learn with --vars.head {' or --vars.head '.join(kinds)}")
    return kinds[0]


def head_of(kind: str) -> str:
    """The HEADS entry of an annotation kind."""
    return "spans" if kind.startswith(SPANS) else kind


def overlap(path: Path, docs: list, key: str) -> None:
    """An error at the first doc whose spans under `key` overlap: a sequence tagger cannot learn them."""
    for i, doc in enumerate(docs):
        spans = sorted(doc.spans.get(key, []), key=lambda span: (span.start, span.end))
        for before, after in zip(spans, spans[1:]):
            if after.start < before.end:
                raise CorpusError(f"{path}, doc {i}: spans under {key!r} overlap ({before.text!r} {before.label_} and "
                                  f"{after.text!r} {after.label_}); a sequence tagger labels each token once. Keep "
                                  "non-overlapping spans (spacy.util.filter_spans) or train spaCy's spancat instead")


def as_entities(docs: list, key: str) -> list:
    """The docs with their spans under `key` as doc.ents (what every system of the comparison learns)."""
    for doc in docs:
        doc.ents = list(doc.spans.get(key, []))
    return docs


def inspect(folder: Path, head: Optional[str] = None) -> Task:
    """Check the corpus whole and say what its task is; a CorpusError on the first problem."""
    return checked(folder, {split: read_docs(folder / f"{split}.spacy") for split in SPLITS}, head)[0]


def checked(folder: Path, docs: Dict[str, list], head: Optional[str]) -> Tuple[Task, str]:
    """(the task, the annotation kind it learns) of the corpus's docs, checked whole."""
    chosen = choose_head(folder / "train.spacy", annotations(docs["train"]), head)
    train_labels = annotations(docs["train"])[chosen]
    for split in SPLITS:
        path = folder / f"{split}.spacy"
        if chosen.startswith(SPANS):
            overlap(path, docs[split], chosen[len(SPANS):])
        if split == "train":
            continue
        if len(docs[split]) < MIN_DOCS:
            raise CorpusError(f"{path} holds {len(docs[split])} sentences: too few to evaluate on (at least "
                              f"{MIN_DOCS}); move sentences from train into it")
        labels = annotations(docs[split]).get(chosen, set())
        if not labels:
            raise CorpusError(f"{path} has no gold {what(chosen)}: the systems would be scored on nothing")
        unseen = sorted(labels - train_labels)
        if unseen:
            raise CorpusError(f"{path} uses labels that train never has: {', '.join(unseen[:10])}; no system can "
                              "predict them. Add examples of them to train.spacy or remove them")
    cvt_head, spacy_head, score_key = HEADS[head_of(chosen)]
    learned = f" ({what(chosen)}, learned as entities)" if chosen.startswith(SPANS) else ""
    return Task(str(folder), f"your corpus {folder}{learned}", cvt_head, spacy_head, score_key,
                teacher=cvt_head == "ner"), chosen


def refuse_builtin(task: str) -> None:
    """A user's task may not take a built-in task's name (its data set would be read instead)."""
    if task in TASKS:
        raise CorpusError(f"task {task!r} is a built-in task with its own data set: name your corpus's task "
                          f"otherwise (--vars.task mine)")


def task_of(task: str, folder: Path, head: Optional[str] = None) -> Task:
    """The user's task `task` on the corpus in `folder`, checked whole."""
    refuse_builtin(task)
    return inspect(folder, head)


def adopt(task: str, folder: Path, output_dir: Path, head: Optional[str] = None) -> Task:
    """Check the corpus, copy it to output_dir (corpus/TASK), spans under a key as entities, and write
    its task.json there."""
    from spacy.tokens import DocBin

    refuse_builtin(task)
    docs = {split: read_docs(folder / f"{split}.spacy") for split in SPLITS}
    spec, chosen = checked(folder, docs, head)
    output_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        if chosen.startswith(SPANS):
            DocBin(docs=as_entities(docs[split], chosen[len(SPANS):]), store_user_data=True).to_disk(
                output_dir / f"{split}.spacy")
        else:
            (output_dir / f"{split}.spacy").write_bytes((folder / f"{split}.spacy").read_bytes())
    (output_dir / TASK_FILE).write_text(json.dumps(asdict(spec), indent=2) + "\n", encoding="utf-8")
    return spec


def load_task(task: str, corpus_root: Path = Path("corpus")) -> Optional[Task]:
    """A user's task as `convert` adopted it (corpus/TASK/task.json); None if there is none."""
    path = corpus_root / task / TASK_FILE
    if not path.is_file():
        return None
    return Task(**json.loads(path.read_text(encoding="utf-8")))
