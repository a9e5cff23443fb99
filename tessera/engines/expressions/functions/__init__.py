"""Every formula function, one module per category: logical, math, text, dates, aggregates, context.

Each :func:`register` call is the complete definition of one function (see
:class:`.registry.Function`).  Python implementations get already-evaluated arguments (blank
handling per the ``blank`` policy has been applied); SQL implementations get compiled arguments.
Both must follow the null rules of ``docs/formulas.md``; the property tests hold them to it.
"""

from __future__ import annotations

# Importing the modules registers their functions; the order is the order of REGISTRY.
from . import logical, math, text, dates, aggregates, context  # isort: skip

__all__ = ["aggregates", "context", "dates", "logical", "math", "text"]
