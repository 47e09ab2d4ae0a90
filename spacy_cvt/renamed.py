"""Names that changed, each old name with today's: where a config, a saved pipeline or a record
still has an old one, the code reads it as today's.

Issue 46 (2026-12) gave each concept one name: **unlabeled text** (text without annotation
that CVT steps learn from: ``unlabeled_corpus``, ``[corpora.unlabeled]``, ``[paths] unlabeled``)
and the **teacher corpus** (unlabeled text a teacher pipeline annotated, which CVT steps read
instead: ``teacher_corpus``, ``[corpora.teacher]``, ``[paths] teacher_corpus``); "raw text" and
"silver" were other names for them.

How each old name keeps working:

- ``[paths] raw`` / ``silver`` in a user's own config (a copy of a shipped one): its
  ``[corpora.*] path = ${paths.raw}`` is plain interpolation, which needs no name; cvt-distill
  fills a student config's ``[paths] silver`` where it has no ``teacher_corpus``.
- ``--paths.raw FILE`` given to today's cvt configs (spaCy adds an unknown key silently): the
  component reads it as ``[paths] unlabeled`` where that is unset, with a warning
  (``upgraded_paths``). ``--paths.silver FILE`` on today's teacher config cannot be read so:
  spaCy resolves every ``[corpora]`` block before any component and stops at the teacher
  corpus's null path (its error E913 says to set it).
- ``raw_docs_seen`` in a saved component's cfg: read as ``unlabeled_docs_seen``
  (``pipeline/build_then_load.py``).
- ``spacy-cvt.resume_raw_text.v1``: registered beside ``spacy-cvt.resume_unlabeled.v1``
  (``pipeline/resume.py``, pyproject.toml's entry points).
- ``RawTextCorpus``: an alias of ``PlainTextCorpus`` (``unlabeled.py``).
- The project's recorded runs (results/) keep the configs and commands they were trained with;
  its stale check reads their keys and values as today's (``today_key``, ``today_value``).
"""

import logging
from typing import Any, Dict

logger = logging.getLogger("spacy_cvt")

# [paths] keys of the shipped configs: {old: today's}
RENAMED_PATHS: Dict[str, str] = {"raw": "unlabeled", "silver": "teacher_corpus"}
# corpus sections of the shipped configs (a dot name is also the value of teacher_corpus)
RENAMED_SECTIONS: Dict[str, str] = {"corpora.silver": "corpora.teacher"}
# keys of a CVT component's saved cfg
RENAMED_CFG_KEYS: Dict[str, str] = {"raw_docs_seen": "unlabeled_docs_seen"}
# registered functions
RENAMED_CALLBACKS: Dict[str, str] = {"spacy-cvt.resume_raw_text.v1": "spacy-cvt.resume_unlabeled.v1"}


def today_key(key: str) -> str:
    """A config's dot key ("paths.raw", "corpora.silver.path") under today's names."""
    section, _, name = key.rpartition(".")
    if section == "paths" and name in RENAMED_PATHS:
        return f"paths.{RENAMED_PATHS[name]}"
    for old, new in RENAMED_SECTIONS.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old):]
    return key


def today_value(value: Any) -> Any:
    """A config value under today's names: a corpus's dot name or a registered function's name."""
    if isinstance(value, str):
        return RENAMED_SECTIONS.get(value, RENAMED_CALLBACKS.get(value, value))
    return value


def upgraded_paths(paths: Dict[str, Any]) -> Dict[str, Any]:
    """``[paths]`` with each old key's value under today's name, where the config has today's
    key unset (a shipped config given ``--paths.raw FILE``); warns for each."""
    paths = dict(paths)
    for old, new in RENAMED_PATHS.items():
        if paths.get(old) is not None and new in paths and paths[new] is None:
            logger.warning(
                "[paths] %s is the earlier name of [paths] %s: reading %r as %s (use --paths.%s).",
                old, new, paths[old], new, new,
            )
            paths[new] = paths[old]
    return paths
