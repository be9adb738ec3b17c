"""Loads the SimCC fixtures' MMPose state dicts into keraspose layers.

The layers' own parameters (``ScaleNorm.g``, ``Scale.scale``, the GAU's
``w``, ``gamma``, ``beta``, ``a``, ``b``) carry MMPose's names too.
"""

from tests.mmpose_weights import load_state_dict


def state_from_fixture(fixture, prefix):
    """The ``w:<prefix>.`` entries of a fixture, keyed by parameter path."""
    start = f"w:{prefix}."
    return {
        k[len(start) :]: v for k, v in fixture.items() if k.startswith(start)
    }


def load_mmpose_state(layer, state, prefix=""):
    """Assigns ``state`` (MMPose names) to ``layer``; returns the keys used."""
    return load_state_dict(layer, state, prefix)
