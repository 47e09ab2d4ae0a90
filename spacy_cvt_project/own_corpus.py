"""A user's own corpus as a task: `spacy project run all --vars.task mine --vars.corpus my_corpus/`.

The folder holds train.spacy, dev.spacy and test.spacy (what `spacy convert` writes, or your own
DocBins). What the systems learn follows from what the files annotate: entities (doc.ents) train
the ner heads, tags (token.tag_) the tagger heads; `head` chooses where they annotate both. The
corpus is checked whole before anything trains, each problem named with its file, and `convert`
copies it to corpus/TASK/ beside the task's facts (task.json), which every later command reads
through catalog.known_task: the user's task is compared, recorded and charted as the built-in ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Dict, Optional, Set

from .catalog import TASKS, Task

SPLITS = ("train", "dev", "test")
TASK_FILE = "task.json"  # corpus/TASK/task.json: a user's task's facts, written by `convert`
MIN_DOCS = 10  # fewer dev or test sentences than this cannot tell the systems apart
# what converters write for a missing tag: `spacy convert -c ner` gives every token "-" without a POS
# column, CoNLL-U has "_" for a missing XPOS
PLACEHOLDER_TAGS = {"-", "_"}
# what the files may annotate -> (cvt head, spaCy head, score key)
HEADS = {"ner": ("ner", "ner", "ents_f"), "tagger": ("tagger", "tagger", "tag_acc")}


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
    """The labels each kind of annotation uses in these docs: {"ner": entity labels, "tagger": tags}."""
    found: Dict[str, Set[str]] = {"ner": set(), "tagger": set()}
    for doc in docs:
        found["ner"].update(ent.label_ for ent in doc.ents)
        found["tagger"].update(token.tag_ for token in doc if token.tag_ and token.tag_ not in PLACEHOLDER_TAGS)
    return found


def choose_head(path: Path, found: Dict[str, Set[str]], head: Optional[str]) -> str:
    """The head the train file's annotation asks for, or the one given; an error where it is unclear."""
    kinds = [kind for kind, labels in found.items() if labels]
    if head:
        if head not in HEADS:
            raise CorpusError(f"head {head!r} is not one of {', '.join(HEADS)} (--vars.head)")
        if head not in kinds:
            raise CorpusError(f"{path} has no {'entities' if head == 'ner' else 'tags'} for head {head!r}")
        return head
    if not kinds:
        raise CorpusError(f"{path} annotates neither entities (doc.ents) nor tags (token.tag_): nothing to learn. "
                          "Convert it with `python -m spacy convert -c ner` (or -c conllu) first")
    if len(kinds) > 1:
        raise CorpusError(f"{path} annotates both entities and tags: choose what the systems learn with "
                          "--vars.head ner or --vars.head tagger")
    return kinds[0]


def inspect(folder: Path, head: Optional[str] = None) -> Task:
    """Check the corpus whole and say what its task is; a CorpusError on the first problem."""
    docs = {split: read_docs(folder / f"{split}.spacy") for split in SPLITS}
    chosen = choose_head(folder / "train.spacy", annotations(docs["train"]), head)
    train_labels = annotations(docs["train"])[chosen]
    for split in ("dev", "test"):
        path = folder / f"{split}.spacy"
        if len(docs[split]) < MIN_DOCS:
            raise CorpusError(f"{path} holds {len(docs[split])} sentences: too few to evaluate on (at least "
                              f"{MIN_DOCS}); move sentences from train into it")
        labels = annotations(docs[split])[chosen]
        if not labels:
            raise CorpusError(f"{path} has no gold {'entities' if chosen == 'ner' else 'tags'}: the systems would "
                              "be scored on nothing")
        unseen = sorted(labels - train_labels)
        if unseen:
            raise CorpusError(f"{path} uses labels that train never has: {', '.join(unseen[:10])}; no system can "
                              "predict them. Add examples of them to train.spacy or remove them")
    cvt_head, spacy_head, score_key = HEADS[chosen]
    return Task(str(folder), f"your corpus {folder}", cvt_head, spacy_head, score_key, teacher=chosen == "ner")


def task_of(task: str, folder: Path, head: Optional[str] = None) -> Task:
    """The user's task `task` on the corpus in `folder`, checked whole; its name may not be a built-in task's."""
    if task in TASKS:
        raise CorpusError(f"task {task!r} is a built-in task with its own data set: name your corpus's task "
                          f"otherwise (--vars.task mine)")
    return inspect(folder, head)


def adopt(task: str, folder: Path, output_dir: Path, head: Optional[str] = None) -> Task:
    """Check the corpus, copy it to output_dir (corpus/TASK) and write its task.json there."""
    spec = task_of(task, folder, head)
    output_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        (output_dir / f"{split}.spacy").write_bytes((folder / f"{split}.spacy").read_bytes())
    (output_dir / TASK_FILE).write_text(json.dumps(asdict(spec), indent=2) + "\n", encoding="utf-8")
    return spec


def load_task(task: str, corpus_root: Path = Path("corpus")) -> Optional[Task]:
    """A user's task as `convert` adopted it (corpus/TASK/task.json); None if there is none."""
    path = corpus_root / task / TASK_FILE
    if not path.is_file():
        return None
    return Task(**json.loads(path.read_text(encoding="utf-8")))
