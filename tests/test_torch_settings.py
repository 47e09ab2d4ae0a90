"""Process-wide torch settings applied by importing spacy_cvt (see spacy_cvt/model/torch_settings.py)."""

import os

import pytest

from .conftest import run_python

SHOW = "import spacy_cvt, os; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"


@pytest.mark.parametrize("given,expected", [(None, "0"), ("256", "256")])
def test_onednn_primitive_cache_is_off_unless_the_user_sets_it(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    if given is not None:
        env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = given
    assert run_python(["-c", SHOW], env=env).stdout.strip() == expected


def test_a_forked_child_runs_torch_on_one_thread():
    script = (
        "import os, torch, spacy_cvt\n"
        "torch.set_num_threads(2)\n"
        "read, write = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.write(write, str(torch.get_num_threads()).encode()); os._exit(0)\n"
        "os.wait(); print(torch.get_num_threads(), os.read(read, 8).decode())\n"
    )
    assert run_python(["-c", script], timeout=60).stdout.split() == ["2", "1"]


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


def test_training_releases_freed_memory_every_50_steps(monkeypatch):
    """The [training.before_update] callback, resolved from a config as spaCy's training loop does."""
    from spacy.util import registry

    from spacy_cvt.model import torch_settings

    calls = []
    monkeypatch.setattr(torch_settings, "release_freed_memory", lambda: calls.append(1))
    config = {"before_update": {"@callbacks": "spacy-cvt.release_freed_memory.v1"}}
    before_update = registry.resolve(config)["before_update"]
    for step in range(torch_settings.RELEASE_EVERY * 2 + 1):
        before_update(None, {"step": step, "epoch": 0})
    assert torch_settings.RELEASE_EVERY == 50 and len(calls) == 2


def test_the_configs_that_train_cvt_components_release_freed_memory():
    from spacy.util import load_config

    from .conftest import REPO

    configs = [path for path in sorted((REPO / "configs").glob("*.cfg")) if '"cvt_' in path.read_text()]
    assert configs
    for path in configs:
        before_update = load_config(path)["training"]["before_update"]
        assert before_update == {"@callbacks": "spacy-cvt.release_freed_memory.v1"}, path.name
