"""The Earth Engine algorithms the emulator implements, with numpy, and their signatures.

Importing this package fills `REGISTRY`: it imports every family, and each registers its
implementations on import. It exports what the rest of the emulator uses (the evaluator in
`_expression`, the routes): `REGISTRY`, `Context` and the errors. The modules, and what each may import of the others (a DAG,
checked by the emulator's import-graph test):

- `framework`: the registry, `Algorithm`, `Arg`, `algorithm`/`implements`, `Context`,
  `Filter` and the errors;
- `coerce`: the shared argument coercions (`as_image`, `is_number`, `to_ms`, ...);
- `bands`, `placement`: helpers more than one family uses (band matching and stacks;
  footprints, geometry transforms, target projections and pixel windows);
- the families, each importing only the modules above and the emulator's non-algorithm
  modules: `core` (loading, band maths, masks, collections, filters, dates), `values`,
  `image`, `image_expression`, `collections`, `geometry`, `spatial`, `neighborhood`,
  `regions` and `features`.
"""

from . import (  # noqa: F401  (each family registers its algorithms on import)
    collections,
    core,
    features,
    geometry,
    image,
    image_expression,
    neighborhood,
    regions,
    spatial,
    values,
)
from .framework import REGISTRY, AlgorithmError, ArgumentTypeError, Context

__all__ = ["REGISTRY", "AlgorithmError", "ArgumentTypeError", "Context"]
