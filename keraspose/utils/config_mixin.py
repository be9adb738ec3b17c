"""Config plumbing shared by the plain (non-layer) keraspose objects."""


class ConfigMixin:
    """``from_config`` and ``repr`` for objects defined by ``get_config``."""

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
