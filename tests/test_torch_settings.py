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
