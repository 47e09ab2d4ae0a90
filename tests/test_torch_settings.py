"""Process-wide torch settings, installed when a CVT model is made (see spacy_cvt/model/torch_settings.py)."""

import os

import pytest

from .conftest import run_python

MAKE_A_COMPONENT = "import spacy; spacy.blank('en').add_pipe('cvt_ner')\n"
SHOW = MAKE_A_COMPONENT + "import os; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"


@pytest.mark.slow
@pytest.mark.parametrize("given,expected", [(None, "0"), ("256", "256")])
def test_onednn_primitive_cache_is_off_unless_the_user_sets_it(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    if given is not None:
        env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = given
    assert run_python(["-c", SHOW], env=env).stdout.strip() == expected


@pytest.mark.slow
def test_a_forked_child_runs_torch_on_one_thread():
    script = (
        "import os, torch\n"
        + MAKE_A_COMPONENT
        + "torch.set_num_threads(2)\n"
        "read, write = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.write(write, str(torch.get_num_threads()).encode()); os._exit(0)\n"
        "os.wait(); print(torch.get_num_threads(), os.read(read, 8).decode())\n"
    )
    assert run_python(["-c", script], timeout=60).stdout.split() == ["2", "1"]


@pytest.mark.slow
def test_freed_heap_memory_goes_back_to_the_system():
    """Blocks below glibc's mmap threshold live in the heap; one live block after them keeps
    free() from shrinking it, so only release_freed_memory returns their pages."""
    script = (
        "import torch\n"
        "from spacy_cvt.model.torch_settings import release_freed_memory, _LIBC\n"
        "def rss_mib(): return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20\n"
        "if _LIBC is None: print('not glibc'); raise SystemExit\n"
        "blocks = [torch.ones(25_000) for _ in range(4_000)]  # 100 kB each, 400 MB in all\n"
        "pin = torch.ones(25_000)\n"
        "del blocks\n"
        "before = rss_mib()\n"
        "released = release_freed_memory()\n"
        "print(released, round(before - rss_mib()))\n"
    )
    out = run_python(["-c", script], timeout=120).stdout.split()
    if out[0] == "not":
        pytest.skip("glibc only: other C libraries are left alone")
    assert out[0] == "True" and int(out[1]) > 300, out


def test_training_releases_freed_memory_periodically(monkeypatch):
    """The [training.before_update] callback, resolved from a config as spaCy's training loop
    does, reaches glibc's malloc_trim (spied on) at regular steps, and not before the first step."""
    from spacy.util import registry

    from spacy_cvt.model import torch_settings

    trims = []
    step = 0

    class Libc:
        def malloc_trim(self, pad: int) -> int:
            trims.append(step)
            return 1

    monkeypatch.setattr(torch_settings, "_LIBC", Libc())
    config = {"before_update": {"@callbacks": "spacy-cvt.release_freed_memory.v1"}}
    before_update = registry.resolve(config)["before_update"]
    for step in range(1001):
        before_update(None, {"step": step, "epoch": 0})
    gaps = {later - earlier for earlier, later in zip(trims, trims[1:])}
    assert len(trims) >= 2 and trims[0] > 0 and gaps == {trims[0]}, trims


@pytest.mark.slow
def test_process_settings_wait_for_a_cvt_component():
    """Resolving a spacy-cvt scorer (what the trf configs use it for) or importing the package
    leaves the environment and the fork hooks alone; making a CVT component installs them."""
    script = (
        "import os\n"
        "hooks = []  # spacy-cvt's fork hooks (torch and others register their own)\n"
        "register = os.register_at_fork\n"
        "def spy(**kwargs):\n"
        "    if (getattr(kwargs.get('after_in_child'), '__module__', None) or '').startswith('spacy_cvt'): hooks.append(kwargs)\n"
        "    register(**kwargs)\n"
        "os.register_at_fork = spy\n"
        "from spacy.util import registry\n"
        "registry.resolve({'scorer': {'@scorers': 'spacy-cvt.entity_scorer.v1'}})\n"
        "import spacy_cvt.scoring\n"
        "print(os.environ.get('ONEDNN_PRIMITIVE_CACHE_CAPACITY'), len(hooks))\n"
        + MAKE_A_COMPONENT
        + "print(os.environ.get('ONEDNN_PRIMITIVE_CACHE_CAPACITY'), len(hooks))\n"
        + MAKE_A_COMPONENT
        + "print(len(hooks))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    assert run_python(["-c", script], env=env, timeout=120).stdout.split() == ["None", "0", "0", "1", "1"]


def test_the_configs_that_train_cvt_components_release_freed_memory():
    from spacy.util import load_config

    from .conftest import REPO

    configs = [path for path in sorted((REPO / "configs").glob("*.cfg")) if '"cvt_' in path.read_text()]
    assert configs
    for path in configs:
        before_update = load_config(path)["training"]["before_update"]
        assert before_update == {"@callbacks": "spacy-cvt.release_freed_memory.v1"}, path.name
