"""Values a chapter's prose quotes, glued from the run (MyST-NB's `glue`).

Markdown pastes a value as {glue:text}`name`, or formatted as {glue:text}`name:.0%`;
Jupyter Book fills it in from the executed notebook, so the text cannot disagree with the
run or with another preset. `Chapter` glues every parameter under its own name and the
`paper` preset's values as `paper_<name>`; a study glues what else its prose quotes. In
Jupyter and Colab the role shows as written.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from IPython import get_ipython
from myst_nb import glue

_SCALARS = (bool, int, float, str)


def quote(values: Mapping[str, object]) -> None:
    """Glue each value under its name, shown nowhere but where the prose pastes it.
    Outside a kernel (a script, a test) there is no notebook to glue into: nothing."""
    if get_ipython() is None:
        return
    for name, value in values.items():
        glue(name, _as_text_value(value), display=False)


def _as_text_value(value):
    """A value as a sentence pastes it: a list of scalars as one string ("1000, 1000"), a
    numpy scalar as Python's (np.float64(0.5)'s text is no number to a format spec)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return value.item() if isinstance(value, np.generic) else value


def scalars(params: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """The parameters a sentence can quote, named `prefix` + name: numbers, strings, flags
    and lists of them."""
    return {prefix + name: value for name, value in params.items()
            if isinstance(value, _SCALARS) or (isinstance(value, (list, tuple)) and
                                               all(isinstance(v, _SCALARS) for v in value))}
