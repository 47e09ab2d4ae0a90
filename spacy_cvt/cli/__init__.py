"""spaCy CLI commands of spacy-cvt, one module each, each command also an importable function:

- `python -m spacy cvt-augment`: ``spacy_cvt.cli.augment.augment``
- `python -m spacy cvt-tune-decoding`: ``spacy_cvt.cli.tune.tune_decoding``
- `python -m spacy cvt-trf-vectors`: ``spacy_cvt.cli.trf_vectors.trf_vectors``
- `python -m spacy cvt-annotate`: ``spacy_cvt.ray_teacher.annotate_shards`` (a teacher over shards, on Ray)
- `python -m spacy cvt-distill`: ``spacy_cvt.cli.distill.distill`` (its steps too: ``transfer_set``,
  ``annotate``, ``teacher_vectors``, ``train_student``, ``finish_student``, ``compare``)

Importing this package registers the commands on spaCy's typer app; spaCy imports it through
the ``spacy_cli`` entry point on every `python -m spacy` call, so these modules import only what
spaCy's CLI has loaded already, and torch or transformers where a command runs.
"""
from . import annotate, augment, distill, trf_vectors, tune

__all__ = ["annotate", "augment", "distill", "trf_vectors", "tune"]
