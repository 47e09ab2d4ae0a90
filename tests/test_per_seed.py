"""spacy_cvt_project/per_seed.py (`python -m spacy_cvt_project per-seed`): one run per seed, each recorded under codecarbon's real tracker."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spacy_cvt_project.per_seed import run_seeds

from .conftest import PROJECT_CLI, require_module


def per_seed(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *PROJECT_CLI, "per-seed", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def assert_energy_is_the_runs(record: dict) -> None:
    """The recorded kWh are the power codecarbon measured (or modelled) times the time of the run
    (the record's own clock), in kWh: not the tracker's start alone, not its CO2, not Wh."""
    watts = sum(record["codecarbon"][f"{part}_power"] for part in ("cpu", "ram", "gpu"))
    assert watts > 0
    run_kwh = watts * record["seconds"] / 3.6e6
    assert 0.5 * run_kwh <= record["energy_kwh"] <= 2 * run_kwh, (record["energy_kwh"], run_kwh)


@pytest.mark.slow  # per-seed runs commands in a fresh process
def test_every_seed_runs_and_is_recorded(tmp_path):
    require_module("codecarbon", "pip install -e .[project]")
    code = "import sys, time; time.sleep(1); open('ran' + sys.argv[1], 'w').write(sys.executable)"
    result = per_seed(tmp_path, "--seeds", "2", "--record", "m/seed{seed}/train.json", "--", "python", "-c", code, "{seed}")
    assert result.returncode == 0, result.stderr
    for seed in (0, 1):
        assert (tmp_path / f"ran{seed}").read_text() == sys.executable  # `python` is this interpreter
        record = json.loads((tmp_path / "m" / f"seed{seed}" / "train.json").read_text())
        assert record["seed"] == seed and record["returncode"] == 0 and record["command"][-1] == str(seed)
        # the command's own time: its 1 s of sleep and an interpreter start, not codecarbon's start (seconds)
        assert 1 <= record["seconds"] < 10
        assert record["codecarbon"]["tracking_mode"] == "machine"
        assert_energy_is_the_runs(record)
        assert set(record["provenance"]) == {"date", "git", "training_version", "packages"}
        assert record["provenance"]["git"] is None  # tmp_path is no git checkout
        if not Path("/sys/class/powercap").exists():  # no RAPL here: codecarbon can only model the CPU
            assert record["energy_is_estimate"] is True and "no RAPL counter" in record["energy_basis"]
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["m/seed0/train.json", "m/seed1/train.json", "ran0", "ran1"]  # codecarbon wrote nothing


@pytest.mark.slow  # per-seed runs commands in a fresh process
def test_a_failing_seed_stops_the_runs_with_its_exit_code(tmp_path):
    require_module("codecarbon", "pip install -e .[project]")
    code = "import sys; sys.exit(3 if sys.argv[1] == '1' else 0)"
    result = per_seed(tmp_path, "--seeds", "3", "--record", "seed{seed}.json", "--", sys.executable, "-c", code, "{seed}")
    assert result.returncode == 3
    assert json.loads((tmp_path / "seed1.json").read_text())["returncode"] == 3
    assert not (tmp_path / "seed2.json").exists()
    assert "seed 1 exited with 3" in result.stderr


@pytest.mark.slow  # per-seed runs commands in a fresh process
def test_options_after_the_separator_belong_to_the_command(tmp_path):
    result = per_seed(tmp_path, "--seeds", "1", "--", "python", "-c", "import sys; print(sys.argv[1:])",
                      "--seeds", "9", "--record", "x{seed}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['--seeds', '9', '--record', 'x0']"
    assert not (tmp_path / "x0").exists()


@pytest.mark.slow  # per-seed runs commands in a fresh process
def test_usage_errors(tmp_path):
    assert per_seed(tmp_path, "--seeds", "1", "--", "no-such-command-xyz").returncode == 127
    bad = per_seed(tmp_path, "--seeds", "0", "--", "true")
    assert bad.returncode == 2 and "--seeds" in bad.stderr and "greater than or equal to 1" in bad.stderr


def test_record_without_codecarbon_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "codecarbon", None)  # as if not installed: importing it fails
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[project\]'"):
        run_seeds(["true"], 1, "r.json")
    assert not (tmp_path / "r.json").exists()
