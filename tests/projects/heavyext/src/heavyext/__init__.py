from ._heavy import total

__all__ = ["total"]
