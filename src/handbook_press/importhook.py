"""A module's code run, the first time it is imported, inside a context manager (or several).

The patches to WeasyPrint's imports (`nativelibs`, `ffideclarations`,
`lazyfonttools`) change the setting one of its modules runs in, and only while it runs: a meta path finder
(importlib.abc would cost an import) wraps that module's loader once, then
leaves ``sys.meta_path``. Installing one costs nothing until the module is
imported; every `doit` run imports this package.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager


class WhileImporting:
    """Runs ``module``'s code inside ``setting()`` when it is first imported."""

    def __init__(self, module: str, setting: Callable[[], AbstractContextManager]):
        self.module = module
        self.setting = setting

    def find_spec(self, name, path, target=None):
        if name != self.module:
            return None
        # Every patch to this module's setting, in the order they were installed.
        hooks = [hook for hook in reversed(sys.meta_path) if isinstance(hook, WhileImporting) and hook.module == name]
        for hook in hooks:
            hook.uninstall()
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            with contextlib.ExitStack() as settings:
                for hook in hooks:
                    settings.enter_context(hook.setting())
                run_module(module)

        spec.loader.exec_module = exec_module  # this module's own loader
        return spec

    def install(self) -> None:
        """Before the module is imported."""
        if self.module not in sys.modules and self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)


@contextlib.contextmanager
def replaced(owner: object, name: str, replacement: Callable[[Callable], Callable]) -> Iterator[None]:
    """``owner.name`` is ``replacement(stock)`` inside the block, the stock one again after."""
    stock = getattr(owner, name)
    setattr(owner, name, replacement(stock))
    try:
        yield
    finally:
        setattr(owner, name, stock)
