"""spacy-cvt's spaCy CLI commands (spacy_cvt.cli): registered on spaCy's typer app, declared as
the ``spacy_cli`` entry point that `python -m spacy` imports, and light to import, since spaCy's
CLI imports them on every call. What each command does: test_augment, test_outside_weight and
test_word_vectors."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from spacy.cli._util import app
from typer.main import get_command

from .conftest import REPO, spacy_command

COMMANDS = ("cvt-augment", "cvt-tune-decoding", "cvt-trf-vectors", "cvt-annotate")


def declared_entry_points(group: str) -> Dict[str, str]:
    """``name = "module:object"`` lines of pyproject.toml's [project.entry-points.GROUP] table."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    table = re.search(rf"^\[project\.entry-points\.{group}\]\n(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    assert table, f"pyproject.toml has no [project.entry-points.{group}]"
    return dict(re.findall(r'^"?([\w.-]+)"?\s*=\s*"([^"]+)"', table.group(1), flags=re.M))


def test_the_spacy_cli_entry_point_registers_every_command_on_spacys_app():
    entry_points = declared_entry_points("spacy_cli")
    assert list(entry_points.values()) == ["spacy_cvt.cli"]
    __import__(entry_points["spacy_cvt"])  # what spaCy's registry.cli.get_all() does with it
    assert set(COMMANDS) <= set(get_command(app).commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_names_its_arguments_and_options(command):
    printed = spacy_command([command, "--help"])
    assert f"Usage: python -m spacy {command} [OPTIONS]" in printed
    for option in {"cvt-augment": ["--vectors", "--copies", "--seed"],
                   "cvt-tune-decoding": ["--output", "--trials", "--gpu-id"],
                   "cvt-trf-vectors": ["--max-rows", "--layer", "--gpu-id", "--workers", "--address"],
                   "cvt-annotate": ["--workers", "--address", "--batch-size", "--gpu", "--retries"]}[command]:
        assert option in printed


@pytest.fixture(scope="module")
def entry_point_env(tmp_path_factory) -> Dict[str, str]:
    """An environment whose `python -m spacy` finds this checkout's spacy_cli entry points,
    whether or not the installed spacy-cvt is this checkout: a dist-info folder declaring them
    (what `pip install -e .` writes) on PYTHONPATH after the checkout."""
    folder = tmp_path_factory.mktemp("entry_points")
    dist_info = folder / "spacy_cvt_checkout-0.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: spacy-cvt-checkout\nVersion: 0.0\n")
    lines = [f"{name} = {target}" for name, target in declared_entry_points("spacy_cli").items()]
    (dist_info / "entry_points.txt").write_text("[spacy_cli]\n" + "\n".join(lines) + "\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(folder)])}


@pytest.mark.slow
def test_python_m_spacy_lists_the_commands_without_importing_transformers_or_seqeval(entry_point_env):
    def spacy(*args: str) -> str:
        result = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=entry_point_env,
                                cwd=Path.home())
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    listed = spacy("-m", "spacy", "--help")
    assert all(re.search(rf"^\s+{command}\s", listed, flags=re.M) for command in COMMANDS), listed
    assert "Usage: python -m spacy cvt-augment [OPTIONS]" in spacy("-m", "spacy", "cvt-augment", "--help")
    # every `python -m spacy` call imports the entry point: it must not load the commands' heavy parts
    loaded = spacy("-c", "import sys; from spacy.util import registry; registry.cli.get_all(); "
                         "print(sorted(set(m.split('.')[0] for m in sys.modules)))")
    assert "spacy_cvt" in loaded
    for heavy in ("transformers", "seqeval", "sklearn", "pyarrow", "ray"):
        assert f"'{heavy}'" not in loaded
