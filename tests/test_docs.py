"""README.md and docs/*.md: every relative link reaches its file and heading.

The README was split into docs/ and its sections are renamed as the project changes; a link to a
heading that moved fails silently on GitHub, so it fails here. Headings become anchors as GitHub
makes them: lower case, punctuation other than `-` and `_` dropped, spaces to `-`, a repeated
heading numbered.
"""

import re
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest

from .conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def anchors(path: Path) -> Set[str]:
    """The anchors of the headings of a markdown file, outside code blocks."""
    counts, found = {}, set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", path.read_text(encoding="utf-8")), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def relative_links(path: Path) -> Iterator[Tuple[str, Path, str]]:
    """(link as written, file it points to, anchor) for each link that is not a URL."""
    for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        yield target, (path.parent / file).resolve() if file else path, anchor


def test_the_anchor_rule_matches_githubs():
    assert {"decoding-outside_weight-chosen-on-dev", "in-the-project-cvt-teacher"} <= anchors(REPO / "README.md")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_reaches_its_file_and_heading(doc):
    broken = []
    for target, file, anchor in relative_links(doc):
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading with that anchor in {file.name}")
    assert not broken, f"{doc.name}: " + "; ".join(broken)
