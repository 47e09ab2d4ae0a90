"""conftest.py's guard: outside `slow`, starting a process is an error that says what to do.

Each test checks first that the guard replaced the function (so that, without the guard, the
test fails before anything forks), then that calling it raises the guard's error.
"""

import multiprocessing
import os
import pty
import subprocess
import sys

import pytest

from .conftest import NOT_SLOW_PROCESS, ProcessStartError

REAL_FORK = os.fork
REAL_POPEN_INIT = subprocess.Popen.__init__
REAL_PROCESS_START = multiprocessing.process.BaseProcess.start


def nothing() -> None:
    pass


def test_subprocess_and_os_popen_and_system_raise():
    assert subprocess.Popen.__init__ is not REAL_POPEN_INIT, "the guard is not installed"
    with pytest.raises(ProcessStartError, match="test_process_guard.py::test_subprocess_and_os_popen_and_system_raise: "
                                                + NOT_SLOW_PROCESS.replace(".", r"\.")):
        subprocess.run([sys.executable, "-c", "pass"], timeout=30)
    with pytest.raises(ProcessStartError, match="mark it @pytest.mark.slow"):
        subprocess.check_output(["true"], timeout=30)
    with pytest.raises(ProcessStartError):
        os.popen("true")
    with pytest.raises(ProcessStartError):
        os.system("true")


def test_fork_and_spawn_raise():
    assert os.fork is not REAL_FORK, "the guard is not installed"
    with pytest.raises(ProcessStartError):
        os.fork()
    with pytest.raises(ProcessStartError):
        pty.fork()
    with pytest.raises(ProcessStartError):
        os.spawnv(os.P_WAIT, "/bin/true", ["true"])  # os.spawn* fork through os.fork
    with pytest.raises(ProcessStartError):
        os.posix_spawn("/bin/true", ["true"], os.environ)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_raises_with_every_start_method(method):
    assert multiprocessing.process.BaseProcess.start is not REAL_PROCESS_START, "the guard is not installed"
    context = multiprocessing.get_context(method)
    with pytest.raises(ProcessStartError, match="mark it @pytest.mark.slow"):
        context.Process(target=nothing).start()


@pytest.fixture(scope="module")
def module_fixture_process_error():
    """A module-scoped fixture is set up before any function-scoped one: the guard covers it too."""
    assert os.fork is not REAL_FORK, "the guard does not cover module-scoped fixtures"
    with pytest.raises(ProcessStartError) as raised:
        subprocess.run(["true"], timeout=30)
    return str(raised.value)


def test_the_guard_covers_module_scoped_fixtures(module_fixture_process_error):
    assert NOT_SLOW_PROCESS in module_fixture_process_error


@pytest.mark.slow
def test_a_slow_test_may_start_processes():
    assert os.fork is REAL_FORK and subprocess.Popen.__init__ is REAL_POPEN_INIT
    assert multiprocessing.process.BaseProcess.start is REAL_PROCESS_START
    assert subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True,
                          timeout=60).stdout == "42\n"

