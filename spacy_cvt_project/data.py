"""Where the project's data sets are: a search list of folders (project.yml's `data_dir`, e.g.
"data,../shared/data"), the first holding a data set's folder wins, and a file may lie there
compressed (`.gz`, `.bz2`, `.xz`: the shipped copies in data/ are).

The project ships the data sets whose licenses allow it (data/README.md) and reads the
research-use ones from ../shared/data or assets/, so one list serves a fresh clone, this lab and
a machine with internet (`--vars.data_dir assets` after `spacy project assets`).
"""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Union

COMPRESSED = (".gz", ".bz2", ".xz")  # what spacy_cvt's readers decompress (spacy_cvt.unlabeled.DECOMPRESSORS)
RESEARCH_USE = {"conll2000": "CoNLL-2000", "semeval14": "SemEval-2014", "reviews": "the review text"}


def data_dirs(value: Union[str, Path, Sequence[Path]]) -> List[Path]:
    """The search list: "data,../shared/data" (a project var), one folder, or folders."""
    if isinstance(value, str):
        return [Path(part.strip()) for part in value.split(",") if part.strip()]
    if isinstance(value, Path):
        return [value]
    return [Path(part) for part in value]


def find_dataset(name: str, dirs: Union[str, Path, Sequence[Path]]) -> Path:
    """The first folder `name` under the search list; an error naming every place looked in."""
    searched = data_dirs(dirs)
    for folder in searched:
        if (folder / name).is_dir():
            return folder / name
    where = ", ".join(str(folder / name) for folder in searched) or "(no folder given)"
    if name in RESEARCH_USE:
        hint = (f"{RESEARCH_USE[name]} is research-use data the project never ships: run `spacy project assets` on a "
                "machine with internet (it lands in assets/), or pass --vars.data_dir with the folder that holds it")
    else:
        hint = "the project ships it in data/: run from the project's folder, or pass --vars.data_dir with the folder that holds it"
    raise FileNotFoundError(f"data set {name!r} not found (looked in {where}): {hint}.")


def without_compression(name: str) -> str:
    """A file name without its compression suffix: "emma.txt.xz" -> "emma.txt"."""
    for suffix in COMPRESSED:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def matches(path: Path, pattern: str) -> bool:
    """Whether the file's name, compressed or not, matches a glob pattern such as "*.txt"."""
    return fnmatch.fnmatch(without_compression(path.name), pattern)


def find_file(folder: Path, name: str) -> Optional[Path]:
    """`folder/name`, or the same file compressed; None if neither exists."""
    for candidate in (name, *(name + suffix for suffix in COMPRESSED)):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed by its suffix."""
    from spacy_cvt.unlabeled import open_binary

    with open_binary(path) as f:
        return f.read()


@contextmanager
def plain_copy(path: Path) -> Iterator[Path]:
    """The file itself, or a decompressed copy of it in a temporary folder for tools that read
    only plain files (spaCy's conllu converter); the copy keeps the plain name."""
    if path.suffix not in COMPRESSED:
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / without_compression(path.name)
        from spacy_cvt.unlabeled import open_binary

        with open_binary(path) as source, plain.open("wb") as target:
            shutil.copyfileobj(source, target)
        yield plain
