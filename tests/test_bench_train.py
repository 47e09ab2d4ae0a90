"""`bench-train` trains each system as `train` would, so its ratio compares the systems the tables report."""

from typer.testing import CliRunner

from spacy_cvt_project.bench.train import system_args
from spacy_cvt_project.cli import app


def test_bilstm_is_the_cvt_config_without_unlabeled_text():
    config, args = system_args("bilstm", "ner", "corpus/vectors", "corpus/unlabeled.txt")
    assert str(config) == "configs/cvt_ner.cfg"
    assert args == ["--paths.train", "corpus/ner/train.spacy", "--paths.dev", "corpus/ner/dev.spacy",
                    "--paths.vectors", "corpus/vectors", "--components.cvt_ner.unlabeled_steps", "0",
                    "--initialize.components.cvt_ner.unlabeled_corpus", "null"]


def test_cvt_reads_the_unlabeled_text_given_and_the_tasks_files():
    config, args = system_args("cvt", "aspect", "my/vectors", "my/text.txt")
    assert str(config) == "configs/cvt_ner.cfg"
    assert args == ["--paths.train", "corpus/aspect/train.spacy", "--paths.dev", "corpus/aspect/dev.spacy",
                    "--paths.unlabeled", "my/text.txt", "--paths.vectors", "my/vectors"]


def test_the_benchmark_sets_budget_seed_and_log_itself():
    for system in ("cvt", "bilstm", "cnn", "trf"):
        _, args = system_args(system, "ner", "corpus/vectors", "corpus/unlabeled.txt")
        keys = set(args[::2])
        assert not keys & {"--system.seed", "--training.max_steps", "--training.eval_frequency",
                           "--training.logger.output_file", "--training.optimizer.learn_rate.total_steps"}


def test_an_unknown_system_stops_before_training(tmp_path):
    result = CliRunner().invoke(app, ["bench-train", "bilstm", "nosuch", "--output", str(tmp_path / "bench")])
    assert result.exit_code == 2
    assert "nosuch" in result.output
    assert not (tmp_path / "bench").exists()
