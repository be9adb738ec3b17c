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
