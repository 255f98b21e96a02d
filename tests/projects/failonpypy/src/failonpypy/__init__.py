from ._answer import answer

__all__ = ["answer"]
