"""The tutorial notebook runs top to bottom (on its synthetic fallback data).

The code cells are executed in order in a fresh interpreter (no Jupyter
needed; ``!pip`` / ``%`` lines are skipped), with few epochs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

NOTEBOOK = (
    Path(__file__).resolve().parents[2]
    / "examples"
    / ("keraspose_tutorial.ipynb")
)


def notebook_source(path):
    with open(path) as f:
        nb = json.load(f)
    lines = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.lstrip().startswith(("!", "%")):
                continue
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


@pytest.mark.heavy
def test_tutorial_notebook_runs(tmp_path):
    script = tmp_path / "notebook.py"
    script.write_text(notebook_source(NOTEBOOK))
    env = dict(os.environ, KERASPOSE_NOTEBOOK_EPOCHS="2")
    env.pop("KERASPOSE_DATA_ROOT", None)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "max keypoint difference after reload" in result.stdout
    assert (tmp_path / "work_dirs" / "notebook" / "pose.keras").exists()
