"""The GPU extras, the offline kit and the GPU check, rehearsed on this CPU machine.

The rehearsal builds the kit's cvt part for this Python, installs it with `--no-index --no-deps
--target` into a fresh venv that holds only what a GPU image is assumed to have (CPU torch in
place of the CUDA build), and runs spacy_cvt_project/gpu/check.sh there with `--gpu-id -1` and a tiny
budget. It needs the package index (as CI has) and ../shared/data, and takes minutes: it is an
e2e test (`python -m pytest -m e2e`).
"""

import json
import os
import subprocess
import sys
from importlib.metadata import requires

import pytest
from packaging.requirements import Requirement

from .conftest import PROJECT_CLI, REPO, data_file

from spacy_cvt_project.gpu.kit import IMAGE_HAS, PART_LIMIT, target_flags

TIMEOUT = 900  # seconds for any one step: a hang fails the test instead of blocking CI


def run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.mark.slow  # asks the package index
@pytest.mark.parametrize("extra,cupy", [("cuda12x", "cupy-cuda12x"), ("cuda13x", "cupy-cuda13x")])
def test_cuda_extra_resolves_to_its_cupy(extra, cupy, tmp_path):
    needed = [Requirement(line) for line in requires("spacy-cvt") if f'extra == "{extra}"' in line]
    assert [r.name for r in needed] == [cupy]
    spec = f"{needed[0].name}{needed[0].specifier}"
    report = tmp_path / "report.json"
    run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
         "--report", report, "--target", tmp_path / "t", *target_flags("3.12"), spec])
    (install,) = json.loads(report.read_text())["install"]
    assert install["metadata"]["name"] == cupy


@pytest.mark.e2e  # about 60 MB of wheels and a venv with torch: minutes
def test_kit_installs_offline_in_a_fresh_venv_and_the_check_runs_on_cpu(tmp_path):
    data_dir = data_file("wnut17").parent
    kit = tmp_path / "kit"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    run([sys.executable, *PROJECT_CLI, "gpu-kit", kit, "--part", "cvt", "--python", python,
         "--data-dir", data_dir, "--unlabeled-words", "3000", "--vector-rows", "2000"], cwd=REPO)
    part = kit / "cvt"
    manifest = json.loads((part / "kit.json").read_text())
    assert manifest["size_bytes"] <= PART_LIMIT
    assert {"spacy", "thinc", "blis", "seqeval", "spacy-cvt"} <= set(manifest["packages"])
    assert not set(manifest["packages"]) & set(IMAGE_HAS), "the kit must leave out what the image has"
    assert not (kit / "trf").exists()

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    venv_python = venv / "bin" / "python"
    image = ["torch==2.13.0" if name == "torch" else name for name in IMAGE_HAS if not name.startswith("cupy")]
    run([venv_python, "-m", "pip", "install", "--quiet", *image])
    assert run([venv_python, "-c", "import importlib.util as u; print(u.find_spec('spacy'))"]).stdout.strip() == "None"

    site, output = tmp_path / "site", tmp_path / "gpu-check.json"
    environment = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    environment.update(PYTHON=str(venv_python), SPACY_CVT_SITE=str(site))
    result = run(["bash", REPO / "spacy_cvt_project" / "gpu" / "check.sh", part, output, "--gpu-id", "-1", "--steps", "4",
                  "--paper-steps", "1", "--batches", "2", "--work-dir", tmp_path / "work"],
                 cwd=REPO, env=environment)
    assert f"installing {part} into {site}" in result.stdout
    assert (site / "spacy").is_dir() and (site / "spacy_cvt").is_dir()

    cvt = json.loads(output.read_text())["cvt"]
    assert cvt["environment"]["versions"]["spacy"] == manifest["packages"]["spacy"]
    assert "thinc_gpu" not in cvt and "train_cpu" not in cvt  # GPU-only stages are skipped on CPU
    assert cvt["train"]["device"] == "cpu" and cvt["train"]["steps"] == 4
    assert cvt["train"]["labeled_words"] > 4 * 100
    assert set(cvt["test"]) == {"ents_f", "ents_p", "ents_r"}
    for stage in ("inference", "paper_inference"):
        assert cvt[stage]["words_per_second_cpu"] > 0
        low, high = cvt[stage]["words_per_second_cpu_ci95"]
        assert low <= cvt[stage]["words_per_second_cpu"] <= high
    assert cvt["paper_train"]["steps"] == 1


@pytest.mark.slow  # runs spacy_cvt_project/gpu/check.sh
def test_check_refuses_a_folder_that_is_not_a_kit_part(tmp_path):
    result = subprocess.run(["bash", REPO / "spacy_cvt_project" / "gpu" / "check.sh", tmp_path, tmp_path / "out.json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{tmp_path}/kit.json not found" in result.stderr
