"""Public names imported on first use (PEP 562): a package lists where each of its names lives, and
``import eventstudy`` or ``import eventstudy.data`` does not pay for what a command never uses."""
from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping, MutableMapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, names: Mapping[str, str], namespace: MutableMapping[str, Any]
                    ) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps each public name to the (relative) submodule that
    defines it; the first use imports it and keeps it in ``namespace`` (the package's ``globals()``), so later
    uses are plain look-ups. Unknown names raise :class:`AttributeError` as usual."""
    def __getattr__(name: str) -> Any:
        sub = names.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(sub, package), name)
        namespace[name] = value
        return value

    return __getattr__
