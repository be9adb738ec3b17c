import os

import pytest

from keraspose import cli


def test_cfg_options_parse_literals():
    options = cli._options(
        ["train_cfg.max_epochs=3", "data_root=/data/x/", "a.b=[1, 2]"]
    )
    assert options == {
        "train_cfg.max_epochs": 3,
        "data_root": "/data/x/",
        "a.b": [1, 2],
    }
    with pytest.raises(SystemExit):
        cli._options(["no_equals_sign"])


def test_parser_commands():
    parser = cli._parser()
    args = parser.parse_args(
        ["train", "cfg.py", "--work-dir", "w", "--resume", "--backend", "jax"]
    )
    assert (args.command, args.config, args.resume) == ("train", "cfg.py", True)
    args = parser.parse_args(["test", "cfg.py", "m.keras", "--bbox-file", "d"])
    assert args.bbox_file == "d"
    args = parser.parse_args(
        ["infer", "m.keras", "a.jpg", "b.jpg", "--out", "o"]
    )
    assert args.images == ["a.jpg", "b.jpg"]
    with pytest.raises(SystemExit):
        parser.parse_args(["infer", "m.keras", "a.jpg"])  # --out is required


def test_bbox_files(tmp_path):
    path = tmp_path / "boxes.json"
    path.write_text('{"dir/a.jpg": [[1, 2, 3, 4]]}')
    assert cli._load_bboxes(str(path)) == {"a.jpg": [[1, 2, 3, 4]]}
    path.write_text(
        '[{"file_name": "a.jpg", "bbox": [1, 2, 3, 4], "score": 0.5}]'
    )
    assert cli._load_bboxes(str(path)) == {"a.jpg": [[1, 2, 4, 6, 0.5]]}
    path.write_text('[{"image_id": 1, "bbox": [1, 2, 3, 4]}]')
    with pytest.raises(ValueError, match="file_name"):
        cli._load_bboxes(str(path))


def test_convert_and_presets_parsers():
    parser = cli._parser()
    args = parser.parse_args(
        ["convert", "rtmpose-t_8xb256-420e_coco-256x192", "w.pth"]
    )
    assert (args.command, args.checkpoint, args.out, args.strict) == (
        "convert",
        "w.pth",
        None,
        True,
    )
    args = parser.parse_args(
        ["convert", "c.py", "w.pth", "--out", "m.keras", "--no-strict"]
    )
    assert (args.out, args.strict) == ("m.keras", False)
    assert parser.parse_args(["presets"]).command == "presets"


def test_presets_command(capsys):
    from keraspose.presets import list_presets

    assert cli.main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in list_presets():
        assert name in out
    assert "0.746" in out  # HRNet-W32 256x192's COCO AP


def test_convert_unknown_preset():
    with pytest.raises(ValueError, match="rtmpose-t_8xb256"):
        cli.main(["convert", "rtmpose-t_8xb256-420e_coco", "w.pth"])


@pytest.mark.heavy
def test_convert_command(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    import keraspose
    from tests.presets import SMALL_PRESET
    from tests.presets import patch_zero_kernel_builds
    from tests.presets import write_preset_pth

    patch_zero_kernel_builds(monkeypatch)
    source = keraspose.from_preset(SMALL_PRESET)
    pth, state = write_preset_pth(source, str(tmp_path))
    out = str(tmp_path / "out" / "rtmpose-t.keras")
    cli.main(["convert", SMALL_PRESET, pth, "--out", out])
    printed = capsys.readouterr().out
    assert f"{len(state)} tensors loaded" in printed
    assert "Saved" in printed and os.path.getsize(out) > 1e6
    with pytest.raises(SystemExit, match=r"\.keras"):
        cli.main(["convert", SMALL_PRESET, pth, "--out", "m.h5"])
