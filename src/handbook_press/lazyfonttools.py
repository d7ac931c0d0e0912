"""fontTools' subsetter and variable-font instancer, imported by WeasyPrint when it first uses them.

``weasyprint.pdf.fonts`` imports both at its top, and with them most of fontTools
(its OpenType tables, varLib, designspaceLib…): 70–80 ms of every process that
imports WeasyPrint, on one core before anything is laid out (the PDF task, the
preview, the cover). The books never call them: both PDFs embed full fonts (the
subsetter makes subsets), and the fonts are static (the instancer fixes the
axes of a variable font).

While ``weasyprint.pdf.fonts`` runs, those two imports get stand-ins: a module
object whose attributes, and the one function WeasyPrint takes from the
instancer, import the real module at first use. Nothing else sees them: they
leave ``sys.modules`` when WeasyPrint's module has run, so any other import of
fontTools gets the real modules. Tied to the pinned WeasyPrint, as the other
patches; with another version nothing is changed.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

from .importhook import WhileImporting

FONTS_MODULE = "weasyprint.pdf.fonts"  # the module that imports them
PATCHED_VERSION = "70.0"
# fontTools module -> the functions WeasyPrint's module takes from it by name (``from … import f``)
DEFERRED = {"fontTools.subset": (), "fontTools.varLib.instancer": ("instantiateVariableFont",)}


class StandIn(types.ModuleType):
    """A fontTools module as WeasyPrint's module holds it: the real one is imported at first use."""

    def __init__(self, name: str, functions: tuple[str, ...] = ()):
        super().__init__(name)
        for function in functions:
            setattr(self, function, _deferred_function(name, function))

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):  # the import system's questions (__path__…): a plain module's answers
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self.__name__), attribute)


def _deferred_function(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


@contextmanager
def fonttools_stand_ins() -> Iterator[None]:
    """The stand-ins in ``sys.modules`` inside the block (for the pinned WeasyPrint only), out after."""
    # The package is being imported: its version is set before it imports its modules.
    if getattr(sys.modules.get("weasyprint"), "__version__", None) != PATCHED_VERSION:
        yield
        return
    stand_ins = {name: StandIn(name, functions) for name, functions in DEFERRED.items() if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


# WeasyPrint's pdf/fonts.py runs with the stand-ins when it is first imported.
_HOOK = WhileImporting(FONTS_MODULE, fonttools_stand_ins)
install, uninstall = _HOOK.install, _HOOK.uninstall
