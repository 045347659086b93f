"""Xee's published integration suite against the emulator (slow tier).

The suite is `xee_0_1_2/ext_integration_test.py`, vendored verbatim from the xee 0.1.2 sdist
(see its README; the hash is checked here). Run as is against the real service it opens
public datasets (Landsat, ERA5, SRTM...). The adaptation layer is all in this file:

1. Initialisation: the suite's `init_ee_for_tests()` (which initialises against the
   high-volume endpoint) is replaced by one that initialises against the emulator.
2. Assets: none renamed. The emulator serves stand-ins under the same public ids
   (`xee_standins.STANDINS`: synthetic pixels, the real band names, types, CRSs, dates and,
   where the suite checks them, grids).
3. Data-dependent expectations: the expected values that are the real datasets' pixels are
   replaced by numpy computations on the stand-ins (`ADAPTED_EXPECTATIONS`, each a textual
   replacement that must match exactly once in the vendored source).

`EXPECTED_FAILURES` names the cases that do not pass, with the reason (strict xfail).
"""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("ee")
xee = pytest.importorskip("xee")
pytest.importorskip("absl")
pytest.importorskip("shapely")

from . import xee_standins  # noqa: E402

VERSION = "0.1.2"
SUITE = Path(__file__).with_name("xee_0_1_2") / "ext_integration_test.py"
SUITE_SHA256 = "23d7ee1904a5a0fce1b50ac6ae294c5529bebc4e4e3223c2e4a6d4aaf44586a6"

if xee.__version__ != VERSION:
    pytest.skip(f"the vendored suite is Xee {VERSION}'s (it tests Xee's internals); xee {xee.__version__} is installed",
                allow_module_level=True)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("_standins"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

#: The emulator the suite's `init_ee_for_tests` initialises against, set by `_standins`.
_SERVER: dict[str, Any] = {}


def init_ee_for_tests() -> None:
    """The suite's initialisation, against the emulator (any token, any project)."""
    import ee
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=_SERVER["url"])


def expected_sr_b1() -> np.ndarray:
    """test_honors_geometry_simple_utm's SR_B1: the stand-in's pixels under the 2 x 4 grid of 30 m
    at (551485, 4179915) in EPSG:32610 (the suite's crs_transform), nearest neighbour."""
    data, grid = xee_standins.read_band(_SERVER["root"], xee_standins.LC09_SCENE, "SR_B1")
    at = grid["affineTransform"]
    x = 448485 + 103000 + 30 * (np.arange(2) + 0.5)
    y = 4263915 - 84000 - 30 * (np.arange(4) + 0.5)
    cols = np.floor((x - at["translateX"]) / at["scaleX"]).astype(int)
    rows = np.floor((y - at["translateY"]) / at["scaleY"]).astype(int)
    return data[np.ix_(rows, cols)][None].astype(np.float32)


_SR_B1_LITERAL = """    np.testing.assert_allclose(
        ds['SR_B1'].values,
        np.array(
            [
                [
                    [14332.0, 12254.0],
                    [13622.0, 10379.0],
                    [12058.0, 10701.0],
                    [11264.0, 11150.0],
                ]
            ]
        ),
    )
"""

#: (case, what the real data gave, the replacement): textual, each must match once.
ADAPTED_EXPECTATIONS: list[tuple[str, str, str]] = [
    (
        "test_honors_geometry_simple_utm",
        _SR_B1_LITERAL,
        "    np.testing.assert_allclose(ds['SR_B1'].values, _adapt.expected_sr_b1())\n",
    ),
]

#: Cases that do not pass against the emulator: name -> reason (strict xfail).
EXPECTED_FAILURES: dict[str, str] = {}


def _load_suite() -> types.ModuleType:
    raw = SUITE.read_bytes()
    if hashlib.sha256(raw).hexdigest() != SUITE_SHA256:
        raise AssertionError(f"{SUITE} is not the vendored Xee {VERSION} file (its hash changed): do not edit it")
    source = raw.decode("utf-8")
    for case, old, new in ADAPTED_EXPECTATIONS:
        if source.count(old) != 1:
            raise AssertionError(f"the adaptation of {case} no longer matches the vendored suite")
        source = source.replace(old, new)
    module = types.ModuleType("xee_ext_integration_test")
    module.__file__ = str(SUITE)
    module.__dict__["_adapt"] = sys.modules[__name__]
    exec(compile(source, str(SUITE), "exec"), module.__dict__)
    module.init_ee_for_tests = init_ee_for_tests  # type: ignore[attr-defined]
    return module


_suite = _load_suite()
EEBackendArrayTest = _suite.EEBackendArrayTest
EEBackendEntrypointTest = _suite.EEBackendEntrypointTest
GridHelpersTest = _suite.GridHelpersTest
ReadmeCodeTest = _suite.ReadmeCodeTest


@pytest.fixture(scope="module")
def _standins(standin_emulator: tuple[str, Path]) -> Any:
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()  # what the suite's own conftest does with app.run
    _SERVER["url"], _SERVER["root"] = standin_emulator
    yield
    import ee

    ee.Reset()

