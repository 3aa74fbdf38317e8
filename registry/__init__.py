"""Public Records Registry: anchor record hashes on an Ethereum chain, verify them anywhere."""

__version__ = "0.1.0"

from registry import _recursion

_recursion.install()
