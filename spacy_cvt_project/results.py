"""The recorded runs in results/: what a training record says about where it ran, and whether a
recorded run is still what the project would train today.

results/ mirrors metrics/ (results/TASK/SYSTEM/seedK/evaluate.json, train.json, ...; see
results/README.md), so spacy_cvt_project/compare.py computes the same mean ± sd rows from either; this
module adds what only results/ has: `spacy train`'s dev scores (model-best/meta.json), the
config as trained (model-best/config.cfg) and the provenance spacy_cvt_project/per_seed.py wrote into
train.json. It imports spaCy and weasel only inside the functions that compose today's config.

A recorded run is stale when today's project would train it differently: STALE_RULES says how
that is decided, and docs/results.md prints it.
"""

from __future__ import annotations

import json
import re
import runpy
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import catalog

MODEL_FILES = ("config.cfg", "meta.json")  # training/TASK/SYSTEM/seedK/model-best/ files kept
PACKAGES = ("spacy", "thinc", "torch", "spacy-transformers", "spacy-cvt")
# config keys that do not change what training computes
IGNORED_KEYS = re.compile(r"^training\.logger(\.|$)|(^|\.)gpu_allocator$")
TUNED_KEYS = re.compile(r"^components\.[^.]+\.outside_weight$")  # chosen on dev after training: tune.json
SEED_FOLDER = re.compile(r"^seed(\d+)$")


STALE_RULES = """\
A recorded run is **stale** when today's project would train it differently:

- its config: today's `spacy train` command for the run's system and task (its config file and
  overrides, composed by spacy_cvt_project/runs.py, which `train` runs) is composed with spaCy's
  own loading and filling (`load_config` with the overrides, `load_model_from_config(auto_fill=True)`,
  what `spacy train` does) and compared with the recorded model-best/config.cfg, both
  interpolated. The overrides that are a run's choices (its data, seed, budget, vectors and log:
  runs.chosen_overrides) take the recorded run's values, and the table shows the budget; the
  config file and the overrides that make the system what it is (runs.fixed_overrides: bilstm's
  missing unlabeled text, the transformer's learning rate, which is its encoder's,
  spacy_cvt_project/catalog.py, ENCODERS) are today's. The logger and the GPU allocator are not
  compared, nor `outside_weight` in a run that chose it on dev after training (it has a
  tune.json). Keys and values renamed since a run was recorded (`[paths] raw` is today's
  `[paths] unlabeled`, ...: spacy_cvt/renamed.py) are read under today's names in its config
  and command. A config that can no longer be composed (a config file gone) is stale too.
- its decoding: today's `train` chooses `outside_weight` on dev for every span tagger (cvt_ner,
  cvt_chunker: spacy_cvt_project/catalog.py, tunes_decoding), and a run that did not (no tune.json)
  is stale, as is a tuned run of a system that today's `train` does not tune.
- its code: spacy_cvt/training_version.py's TRAINING_VERSION, recorded at training time, differs
  from today's. It is bumped by hand when a change alters what training computes from the same
  config and data, so it cannot see a change made without bumping it; the record also keeps the
  git commit and the versions of spaCy, thinc, torch and spacy-transformers, for a reader to check.
"""


# --------------------------------------------------------------------------- provenance


def training_version() -> Optional[int]:
    """spacy_cvt's TRAINING_VERSION, read from its own file without importing the package (which
    loads torch): None where spacy_cvt is not installed."""
    spec = find_spec("spacy_cvt")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "training_version.py"
    return runpy.run_path(str(path))["TRAINING_VERSION"] if path.is_file() else None


def git_state(cwd: Path = Path(".")) -> Optional[Dict[str, Any]]:
    """The checkout's commit and whether tracked files differ from it; None outside git."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)

    try:
        head = git("rev-parse", "HEAD")
    except OSError:  # no git
        return None
    if head.returncode != 0:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def package_versions() -> Dict[str, Optional[str]]:
    versions: Dict[str, Optional[str]] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> Dict[str, Any]:
    """Where and with what a run trains, for spacy_cvt_project/per_seed.py's record (the machine is in
    codecarbon's data next to it)."""
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "git": git_state(),
            "training_version": training_version(), "packages": package_versions()}


def machine(record: Dict[str, Any]) -> str:
    """The machine of a training record, in words, from codecarbon's data."""
    data = record.get("codecarbon")
    if not data:
        return "unknown machine (codecarbon returned no data)"
    gpus = f"{data['gpu_count']} × {data['gpu_model']}" if data.get("gpu_count") else "no GPU"
    return f"{data['cpu_model']}, {data['cpu_count']} CPUs, {gpus}"


def commit(record: Dict[str, Any]) -> str:
    """The commit a training record's run trained at (its provenance), in words."""
    git = (record.get("provenance") or {}).get("git")
    return "unknown" if not git else git["commit"][:10] + (" (tracked files edited)" if git["dirty"] else "")


# --------------------------------------------------------------------------- reading results/


def read_json(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def seed_count(folder: Path, remedy: str = "record the system again (`spacy project run record`)") -> int:
    """How many seeds a folder holds: seed0 .. seed{n-1}, no gaps (record.py and levers.py write
    them so; a gap means the folder was edited by hand, and ``remedy`` says what mends it)."""
    seeds = sorted(int(m.group(1)) for p in folder.iterdir() if (m := SEED_FOLDER.match(p.name)))
    if seeds != list(range(len(seeds))):
        raise ValueError(f"{folder} holds seeds {seeds}, not 0 .. n-1: {remedy}")
    return len(seeds)


def recorded_systems(task_folder: Path, order: List[str]) -> List[str]:
    """The systems with recorded seeds, those of `order` first in its order, then the others."""
    if not task_folder.is_dir():
        return []
    found = {p.name for p in task_folder.iterdir() if p.is_dir() and (p / "seed0").is_dir()}
    return [s for s in order if s in found] + sorted(found - set(order))


def dev_score(run: Path, key: str) -> Optional[float]:
    """`spacy train`'s dev score of model-best (meta.json `performance`; tuned, the tuned
    weight's), None if the record has none."""
    meta = run / "meta.json"
    value = read_json(meta).get("performance", {}).get(key) if meta.is_file() else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def device(gpu_id: int) -> str:
    return "CPU" if gpu_id < 0 else f"GPU {gpu_id}"


def trained_config(run: Path) -> Any:
    """The recorded run's config as trained, interpolated."""
    from thinc.api import Config

    return Config().from_disk(run / "config.cfg", interpolate=True)


def budget(config: Any) -> str:
    """A trained config's budget, in words: its cap, and the patience that may end it sooner
    (evaluations without a better dev score, counted in steps)."""
    training = config["training"]
    cap = f"{training['max_steps']:,} steps" if training.get("max_steps") else f"{training.get('max_epochs')} epochs"
    patience = training.get("patience") or 0
    return f"{cap}, patience {patience:,}" if 0 < patience < (training.get("max_steps") or float("inf")) else cap


def unlabeled_text(config: Any) -> Optional[str]:
    """The unlabeled text a trained config's CVT component read (the path of the corpus its
    `[initialize.components.*] unlabeled_corpus` names), None where none read any."""
    from spacy.util import dot_to_object

    for settings in config.get("initialize", {}).get("components", {}).values():
        if settings.get("unlabeled_corpus"):
            return str(dot_to_object(config, settings["unlabeled_corpus"])["path"])
    return None


def outside_weight(config: Any) -> Optional[float]:
    """The `outside_weight` a trained config's span tagger (cvt_ner, cvt_chunker) decodes with,
    None where it has none."""
    for settings in config.get("components", {}).values():
        if settings.get("factory") in catalog.SPAN_TAGGERS:
            return float(settings["outside_weight"])  # a trained config is filled: the factory's default is in it
    return None


def summary(runs: List[Path], trains: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """Where, when and with what a system's recorded seeds trained, each kind of fact as the
    distinct values over its seeds (one value when they agree); outside_weights: each seed's, in order."""
    provs = [t.get("provenance") or {} for t in trains]

    def packages(prov: Dict[str, Any]) -> str:
        versions = prov.get("packages") or {}
        return ", ".join(f"{name} {version}" for name, version in versions.items() if version) or "unknown"

    record = runs[0].parent / "record.json"
    if not record.is_file():
        raise FileNotFoundError(f"{record} is missing: `spacy project run record` writes it")
    configs = [trained_config(run) for run in runs]
    dates = sorted(prov["date"][:10] for prov in provs if prov.get("date"))
    return {
        "dates": list(dict.fromkeys([dates[0], dates[-1]])) if dates else ["unknown"],
        "commits": sorted({commit(t) for t in trains}),
        "machines": sorted({machine(t) for t in trains}),
        "budgets": sorted({budget(config) for config in configs}),
        "unlabeled": sorted({text for text in map(unlabeled_text, configs) if text}),
        "outside_weights": [f"{weight:g}" for weight in map(outside_weight, configs) if weight is not None],
        "training_versions": sorted({str(prov.get("training_version")) for prov in provs}),
        "packages": sorted({packages(prov) for prov in provs}),
        "evaluated_on": [device(read_json(record)["evaluate_gpu_id"])],
    }


# --------------------------------------------------------------------------- stale check


def split_train_args(args: List[str]) -> Tuple[str, List[str]]:
    """`spacy train`'s arguments as (config path, config override arguments): its own options
    (--output, --code, --gpu-id, --verbose) are not config."""
    with_value = {"--output", "-o", "--code", "-c", "--gpu-id", "-g"}
    flags = {"--verbose", "-V", "-VV"}
    config, rest, i = None, [], 0
    while i < len(args):
        arg = args[i]
        if arg.split("=")[0] in with_value:
            i += 1 if "=" in arg else 2
            continue
        if arg in flags:
            pass
        elif config is None and not arg.startswith("-"):
            config = arg
        else:
            rest.append(arg)
        i += 1
    if config is None:
        raise ValueError(f"no config path in `spacy train {' '.join(args)}`")
    return config, rest


def train_args(command: List[str]) -> List[str]:
    """The arguments after `spacy train` in a command line (wrapped in per_seed.py or not)."""
    for i in range(len(command) - 1):
        if command[i] == "spacy" and command[i + 1] == "train":
            return command[i + 2:]
    raise ValueError(f"not a `spacy train` command: {' '.join(command)}")


def parse_overrides(args: List[str]) -> Dict[str, Any]:
    from spacy.cli._util import parse_config_overrides

    return parse_config_overrides(list(args), env_var=None)


def under_todays_names(flat_config: Dict[str, Any]) -> Dict[str, Any]:
    """A recorded run's flat config or overrides with the keys and values renamed since it was
    recorded under today's names (spacy_cvt/renamed.py: `paths.raw` is `paths.unlabeled`, ...)."""
    from spacy_cvt.renamed import today_key, today_value

    return {today_key(key): today_value(value) for key, value in flat_config.items()}


def todays_overrides(task: str, system: str, recorded_command: List[str]) -> Dict[str, Any]:
    """Today's overrides for a recorded run of `system` on `task`: the run's own
    choices (the keys runs.chosen_overrides sets, as the recorded command set them, under today's
    names) and today's fixed overrides."""
    from . import runs

    recorded = under_todays_names(parse_overrides(split_train_args(train_args(recorded_command))[1]))
    chosen_keys = runs.chosen_overrides(system, runs.Choices(task, 0, 0), 0)
    overrides = {key: recorded[key] for key in chosen_keys if key in recorded}
    overrides.update(runs.fixed_overrides(task, system))
    return overrides


def flat(config: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    """A nested config as {"section.key": value}."""
    out: Dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_changes(recorded: Dict[str, Any], today: Dict[str, Any], tuned: bool) -> Dict[str, Tuple[Any, Any]]:
    """{key: (recorded value, today's)} of the keys that change training, the recorded config's
    under today's names; "<absent>" for a key one side lacks."""
    old, new = under_todays_names(flat(recorded)), flat(today)
    changes = {}
    for key in sorted(set(old) | set(new)):
        if IGNORED_KEYS.search(key) or (tuned and TUNED_KEYS.match(key)):
            continue
        if old.get(key, "<absent>") != new.get(key, "<absent>"):
            changes[key] = (old.get(key, "<absent>"), new.get(key, "<absent>"))
    return changes


def todays_config(project: Path, task: str, system: str, recorded_command: List[str]) -> Dict[str, Any]:
    """Today's config for a recorded run, filled and interpolated as `spacy train` would."""
    from spacy.util import load_config, load_model_from_config

    config_path = catalog.config_path(task, system)
    path = project / config_path
    if not path.is_file():
        raise FileNotFoundError(f"{config_path}, today's config of {system} on {task}, is missing")
    overrides = todays_overrides(task, system, recorded_command)
    loaded = load_config(path, overrides=overrides, interpolate=False)
    return load_model_from_config(loaded, auto_fill=True, validate=False).config.interpolate()


def stale_reasons(project: Path, task: str, system: str, run: Path, most: int = 4) -> List[str]:
    """Why a recorded run (results/TASK/SYSTEM/seedK) is not what the project trains today; [] if
    it is."""
    from thinc.api import Config

    record = read_json(run / "train.json")
    reasons = []
    recorded_version = (record.get("provenance") or {}).get("training_version")
    if recorded_version != training_version():
        reasons.append(f"TRAINING_VERSION {recorded_version} → {training_version()}")
    try:
        today = todays_config(project, task, system, record["command"])
    except (LookupError, OSError, ValueError) as err:  # spaCy's config errors are ValueErrors
        return reasons + [f"today's config cannot be composed: {str(err).splitlines()[0]}"]
    tuned = (run / "tune.json").is_file()
    if tuned != catalog.tunes_decoding(task, system):
        reasons.append("decoding: `outside_weight` " + ("chosen on dev (tune.json), which today's `train` does not do"
                                                        if tuned else "not chosen on dev (no tune.json), which today's "
                                                        "`train` does after training"))
    recorded = Config().from_disk(run / "config.cfg", interpolate=True)
    changes = config_changes(recorded, today, tuned=tuned)
    if changes:
        shown = [f"{key} {old!r} → {new!r}" for key, (old, new) in list(changes.items())[:most]]
        more = f" and {len(changes) - most} more" if len(changes) > most else ""
        reasons.append("config: " + "; ".join(shown) + more)
    return reasons
