"""Make tests/data/saved_pipeline: a tiny cvt_ner + cvt_tagger pipeline and what it predicts.

It was made by spacy-cvt at commit 610ddc8 (before ModelSettings and CVTSettings), so that
tests/test_serialization.py can check that pipelines saved by earlier versions still load:
    git worktree add /tmp/old 610ddc8 && PYTHONPATH=/tmp/old python tests/data/make_saved_pipeline.py
"""

import json
from pathlib import Path

import spacy
import torch
from spacy.training import Example

OUT = Path(__file__).parent / "saved_pipeline"
TINY = {"@architectures": "spacy-cvt.CVTTagger.v1", "hidden_size1": 16, "projection_size1": 8, "hidden_size2": 8,
        "module_width": 8, "hash_rows": 500, "hash_width": 4, "char_width": 4, "char_filters": 4}
TRAIN = [
    ("Barack Obama visited Paris today", [(0, 12, "PERSON"), (21, 26, "LOC")], ["NNP", "NNP", "VBD", "NNP", "NN"]),
    ("Angela Merkel met Macron in Berlin", [(0, 13, "PERSON"), (18, 24, "PERSON"), (28, 34, "LOC")],
     ["NNP", "NNP", "VBD", "NNP", "IN", "NNP"]),
]
TEXTS = [text for text, _, _ in TRAIN] + ["Merkel visited Paris"]

torch.manual_seed(0)
nlp = spacy.blank("en")
nlp.add_pipe("cvt_ner", config={"model": TINY, "unlabeled_steps": 0})
nlp.add_pipe("cvt_tagger", config={"model": TINY, "unlabeled_steps": 0})
examples = [Example.from_dict(nlp.make_doc(text), {"entities": ents, "tags": tags}) for text, ents, tags in TRAIN]
optimizer = nlp.initialize(lambda: examples)
for _ in range(150):
    nlp.update(examples, sgd=optimizer)
nlp.to_disk(OUT)
docs = list(nlp.pipe(TEXTS))
scores = {name: nlp.get_pipe(name).model.predict(docs)["primary"].tolist() for name in nlp.pipe_names}
expected = {"ents": [[[e.text, e.label_] for e in doc.ents] for doc in docs], "tags": [[t.tag_ for t in doc] for doc in docs],
            "texts": TEXTS, "scores": scores}
(OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
