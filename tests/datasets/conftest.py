import numpy as np
import pytest

from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def pipeline_fixture():
    path = FIXTURES / "mmpose_pipeline.npz"
    return dict(np.load(path))


@pytest.fixture
def coco_root(shared_data):
    return shared_data / "coco"
