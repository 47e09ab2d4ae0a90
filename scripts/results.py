"""The recorded runs in results/: what a training record says about where it ran, and whether a
recorded run is still what the project would train today.

results/ mirrors metrics/ (results/TASK/SYSTEM/seedK/evaluate.json, train.json, ...; see
results/README.md), so scripts/compare.py computes the same mean ± sd rows from either; this
module adds what only results/ has: `spacy train`'s dev scores (model-best/meta.json), the
config as trained (model-best/config.cfg) and the provenance scripts/per_seed.py wrote into
train.json. It imports spaCy and weasel only inside the functions that compose today's config.

A recorded run is stale when today's project would train it differently: STALE_RULES says how
that is decided, and docs/results.md prints it.
"""

from __future__ import annotations

import json
import re
import runpy
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

MODEL_FILES = ("config.cfg", "meta.json")  # training/TASK/SYSTEM/seedK/model-best/ files kept
PACKAGES = ("spacy", "thinc", "torch", "spacy-transformers", "spacy-cvt")
# config keys that do not change what training computes
IGNORED_KEYS = re.compile(r"^training\.logger(\.|$)|(^|\.)gpu_allocator$")
TUNED_KEYS = re.compile(r"^components\.[^.]+\.outside_weight$")  # chosen on dev after training: tune.json
SEED_FOLDER = re.compile(r"^seed(\d+)$")


@dataclass(frozen=True)
class EncoderRuns:
    """What one offline encoder's runs are named and trained with (project.yml's vars.encoder ->
    vars.trf_system, vars.taught_system, vars.trf_learn_rate): each encoder's runs have their own
    folders, tables and references, and its transformer its own peak learning rate. The default
    encoder's are project.yml's defaults; the others' are passed to the same commands (train-trf,
    train-cvt-teacher) as vars: `base` passes MPNet-base's, and `project_vars` is what a user passes."""

    trf_system: str
    taught_system: str
    # MPNet-base's last layer is about 3x smaller in scale than MiniLM's, so its new head learns
    # about 3x more slowly at one rate (docs/experiments.md, "MPNet-base: a BERT-base-size transformer")
    trf_learn_rate: float

    @property
    def systems(self) -> Tuple[str, str]:
        return self.trf_system, self.taught_system

    def project_vars(self, encoder: str) -> Dict[str, str]:
        """The project vars that train this encoder's runs, as `--vars.NAME VALUE` would pass them."""
        return {"encoder": encoder, "trf_system": self.trf_system, "taught_system": self.taught_system,
                "trf_learn_rate": repr(self.trf_learn_rate)}


ENCODERS: Dict[str, EncoderRuns] = {
    "minilm": EncoderRuns("trf", "cvt-teacher", 5e-5),
    "mpnet-base": EncoderRuns("trf-base", "cvt-teacher-base", 1e-4),
}
DEFAULT_ENCODER = "minilm"  # project.yml's vars.encoder
STALE_RULES = """\
A recorded run is **stale** when today's project would train it differently:

- its config: today's `train-SYSTEM` command of project.yml (its config file and its overrides,
  for the run's task) is composed with spaCy's own loading and filling (`load_config` with the
  overrides, `load_model_from_config(auto_fill=True)`, what `spacy train` does) and compared with
  the recorded model-best/config.cfg, both interpolated. Overrides whose project.yml value comes
  from a variable (`${vars.cvt_steps}`, the paths, `{seed}`) take the recorded run's value, since
  those are the run's choices (budget, data, seed), not the project's, and the table shows the
  budget; the config file and every other override are today's, and so is the transformer's
  learning rate (`${vars.trf_learn_rate}`), which is its encoder's (scripts/results.py,
  ENCODERS). The logger and the GPU allocator are not compared, nor `outside_weight` in a run
  that chose it on dev after training (it has a tune.json). A config that can no longer be
  composed (a command or file gone) is stale too.
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
    """Where and with what a run trains, for scripts/per_seed.py's record (the machine is in
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


# --------------------------------------------------------------------------- reading results/


def read_json(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def seed_count(system_folder: Path) -> int:
    """How many seeds a system has recorded: seed0 .. seed{n-1}, no gaps (record.py writes
    them so; a gap means the folder was edited by hand)."""
    seeds = sorted(int(m.group(1)) for p in system_folder.iterdir() if (m := SEED_FOLDER.match(p.name)))
    if seeds != list(range(len(seeds))):
        raise ValueError(f"{system_folder} holds seeds {seeds}, not 0 .. n-1: record the system again "
                         "(`spacy project run record`)")
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


def budget(run: Path) -> str:
    """The recorded config's training budget, in words."""
    from thinc.api import Config

    training = Config().from_disk(run / "config.cfg", interpolate=True)["training"]
    if training.get("max_steps"):
        return f"{training['max_steps']:,} steps"
    return f"{training.get('max_epochs')} epochs"


def summary(runs: List[Path], trains: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """Where, when and with what a system's recorded seeds trained, each kind of fact as the
    distinct values over its seeds (one value when they agree)."""
    provs = [t.get("provenance") or {} for t in trains]

    def commit(prov: Dict[str, Any]) -> str:
        git = prov.get("git")
        return "unknown" if not git else git["commit"][:10] + (" (tracked files edited)" if git["dirty"] else "")

    def packages(prov: Dict[str, Any]) -> str:
        versions = prov.get("packages") or {}
        return ", ".join(f"{name} {version}" for name, version in versions.items() if version) or "unknown"

    record = runs[0].parent / "record.json"
    if not record.is_file():
        raise FileNotFoundError(f"{record} is missing: `spacy project run record` writes it")
    dates = sorted(prov["date"][:10] for prov in provs if prov.get("date"))
    return {
        "dates": list(dict.fromkeys([dates[0], dates[-1]])) if dates else ["unknown"],
        "commits": sorted({commit(prov) for prov in provs}),
        "machines": sorted({machine(t) for t in trains}),
        "budgets": sorted({budget(run) for run in runs}),
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


def task_vars(project: Path, task: str) -> Dict[str, str]:
    """The vars the task's own command (`spacy project run TASK`) sets for `all`: the task and the
    heads its systems train, which `vars.task` alone leaves at the default task's; the vars it
    passes through (`--vars.seeds ${vars.seeds}`) are not the task's. {"vars.task": task} where
    project.yml has no command named after the task."""
    from weasel.util import load_project_config, split_command

    commands = {c["name"]: c for c in load_project_config(project, interpolate=False).get("commands", [])}
    args = split_command(commands[task]["script"][0]) if task in commands else []
    chosen = {arg[2:]: value for arg, value in zip(args, args[1:]) if arg.startswith("--vars.") and "${" not in value}
    return {**chosen, "vars.task": task}


def system_encoder(system: str) -> Optional[str]:
    """The encoder whose transformer trains `system` or teaches it (ENCODERS); None for the others."""
    return next((encoder for encoder, runs in ENCODERS.items() if system in runs.systems), None)


def command_system(system: str) -> str:
    """The system whose project commands train and evaluate `system`: trf-base is train-trf's
    run with MPNet-base's vars (ENCODERS); every other system is its own."""
    encoder = system_encoder(system)
    if encoder is None:
        return system
    return ENCODERS[DEFAULT_ENCODER].systems[ENCODERS[encoder].systems.index(system)]


def encoder_args(encoder: str) -> str:
    """`--vars.encoder E --vars.trf_system ... --vars.trf_learn_rate R`: what runs `encoder`'s systems."""
    return " ".join(f"--vars.{name} {value}" for name, value in ENCODERS[encoder].project_vars(encoder).items())


def project_command(command: str, system: str) -> str:
    """A project command as a user runs it for `system`: a renamed system's (`command_system`)
    with its encoder's vars, e.g. `train-trf --vars.encoder mpnet-base --vars.trf_system trf-base
    --vars.taught_system cvt-teacher-base --vars.trf_learn_rate 0.0001`."""
    encoder = system_encoder(system)
    if encoder is None or encoder == DEFAULT_ENCODER:
        return command
    return f"{command} {encoder_args(encoder)}"


def todays_command(project: Path, task: str, system: str) -> Tuple[str, Dict[str, Any], set]:
    """Today's project.yml `train-SYSTEM` for the task (with its vars, `task_vars`, and its
    encoder's, `EncoderRuns.project_vars`; a renamed system's, `command_system`): its config path, its
    overrides, and the override keys whose value comes from any other variable (a run's choice: the
    encoder's folder is one). The encoder's learning rate is not a run's choice: a run trained at
    another rate than its encoder's today is stale."""
    from weasel.util import load_project_config, split_command

    name = f"train-{command_system(system)}"
    if not (project / "project.yml").is_file():
        raise LookupError(f"no project.yml in {project}")
    encoder = system_encoder(system)
    encoder_vars = ENCODERS[encoder].project_vars(encoder) if encoder else {}
    overrides = {**task_vars(project, task), **{f"vars.{var}": value for var, value in encoder_vars.items()}}
    lines = {}
    for interpolate in (True, False):
        config = load_project_config(project, interpolate=interpolate, overrides=overrides)
        commands = {c["name"]: c for c in config.get("commands", [])}
        if name not in commands:
            raise LookupError(f"project.yml has no command {name!r} today")
        trains = [line for line in commands[name]["script"] if " spacy train " in f" {line} "]
        if not trains:
            raise LookupError(f"project.yml's {name!r} runs no `spacy train` today")
        lines[interpolate] = split_command(trains[0])
    config_path, args = split_train_args(train_args(lines[True]))
    overrides = parse_overrides(args)
    templates = parse_overrides(split_train_args(train_args(lines[False]))[1])
    variable = {key for key, value in templates.items()
                if "{seed}" in str(value) or set(re.findall(r"\$\{vars\.(\w+)\}", str(value))) - set(encoder_vars)}
    return config_path, overrides, variable


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
    """{key: (recorded value, today's)} of the keys that change training; "<absent>" for a
    key one side lacks."""
    old, new = flat(recorded), flat(today)
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

    config_path, overrides, variable = todays_command(project, task, system)
    recorded = parse_overrides(split_train_args(train_args(recorded_command))[1])
    overrides.update({key: recorded[key] for key in variable if key in recorded})
    path = project / config_path
    if not path.is_file():
        raise FileNotFoundError(f"{config_path}, today's config of `train-{command_system(system)}`, is missing")
    raw = load_config(path, overrides=overrides, interpolate=False)
    return load_model_from_config(raw, auto_fill=True, validate=False).config.interpolate()


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
    recorded = Config().from_disk(run / "config.cfg", interpolate=True)
    changes = config_changes(recorded, today, tuned=(run / "tune.json").is_file())
    if changes:
        shown = [f"{key} {old!r} → {new!r}" for key, (old, new) in list(changes.items())[:most]]
        more = f" and {len(changes) - most} more" if len(changes) > most else ""
        reasons.append("config: " + "; ".join(shown) + more)
    return reasons
