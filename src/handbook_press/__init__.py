"""handbook-press: handbook outlines in, print-ready PDF and EPUB 3 out.

The flow of data, one module per stage:

    sources   -> read YAML front matter and handbook metadata safely
    reader    -> build the book model (model.py) from a content folder
    numbering -> renumber sections and chapters in reading order
    checks    -> find defects in the model, as located diagnostics
    outline   -> import a one-file outline into a content folder
    html      -> render the model through the Jinja templates
    pdf, epub -> write the books
    build     -> the functions the doit tasks call
"""

from . import ffideclarations, lazyfonttools, nativelibs

__version__ = "0.1.0"

nativelibs.install()  # before anything imports WeasyPrint: its libraries found with one look
lazyfonttools.install()  # and fontTools' subsetter and instancer imported only if it uses them
ffideclarations.install()  # and its C declarations parsed once (kept where `keep_in` says)
