"""Smoke test of an installed eerest, run by the interpreter that has it installed.

    python tests/packaging/smoke.py [EXPECTED_VERSION] [--sdk-only]

Meant for a fresh virtual environment holding only the wheels and their runtime dependencies
(no extras, no pytest): it imports every module and every API version and builds each
version's Client and AsyncClient. With ``--sdk-only`` (eerest's wheel alone) it checks that
no emulator and no pytest plugin came with it; otherwise (eerest-emulator's wheel installed
too) it starts the emulator in-process and makes real calls against it (assets.get,
computeImages over the sample collection, getPixels as NPY). Needs no network and no
credentials. Prints ``smoke ok`` and exits 0 on success.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
import io
import pkgutil
import sys
from typing import Any

VERSIONS = ("v1alpha", "v1beta", "v1")
PROJECT = "eerest"
COLLECTION = "projects/eerest/assets/sample/scenes"
SCENE = f"{COLLECTION}/20240504"
#: Modules that need more than the runtime dependencies by design: the command line's
#: (``pip install 'eerest[cli]'``; the `eerest` command says so when click is missing).
OPTIONAL_MODULES: set[str] = {
    "eerest._cli.assets", "eerest._cli.commands", "eerest._cli.options", "eerest._cli.params", "eerest._cli.table",
    "eerest._cli.tasks", "eerest._cli.value", "eerest._table.decode", "eerest._table.outputs",
}
#: Subpackages that are an extra's feature (``eerest[xarray]``): not importable without it.
OPTIONAL_PACKAGES = ("eerest.xarray",)


def load_expression(collection: str) -> dict[str, Any]:
    call = {"functionName": "ImageCollection.load", "arguments": {"id": {"constantValue": collection}}}
    return {"result": "0", "values": {"0": {"functionInvocationValue": call}}}


def main(argv: list[str]) -> int:
    import numpy as np
    from google.oauth2.credentials import Credentials

    import eerest
    import eerest.v1
    import eerest.v1alpha
    import eerest.v1beta

    sdk_only = "--sdk-only" in argv
    argv = [a for a in argv if a != "--sdk-only"]
    print(f"eerest {eerest.__version__} from {eerest.__file__}")
    if argv:
        assert eerest.__version__ == argv[0], (eerest.__version__, argv[0])
    assert eerest.Client is eerest.v1.Client and eerest.AsyncClient is eerest.v1.AsyncClient

    # Every module imports with the runtime dependencies alone.
    modules = [m.name for m in pkgutil.walk_packages(eerest.__path__, "eerest.")]
    for name in modules:
        if name not in OPTIONAL_MODULES and not name.startswith(OPTIONAL_PACKAGES):
            importlib.import_module(name)
    assert {f"eerest.{v}" for v in VERSIONS} <= set(modules), modules
    print(f"imported {len(modules) - len(OPTIONAL_MODULES)} modules")
    if importlib.util.find_spec("click") is None:
        from eerest._cli import main as command_line

        assert command_line(["--help"]) == 1  # after saying: pip install 'eerest[cli]'

    credentials = Credentials(token="x")
    versions = {v: importlib.import_module(f"eerest.{v}") for v in VERSIONS}
    for v, mod in versions.items():
        revision = mod.DISCOVERY_REVISION
        assert isinstance(revision, str) and revision.isdigit() and len(revision) == 8, (v, revision)
        print(f"{v}: discovery revision {revision}")

    if sdk_only:
        # eerest alone: no emulator, no sample data, no pytest plugin
        assert importlib.util.find_spec("eerest_emulator") is None, "eerest installed the emulator"
        plugins = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.value.startswith("eerest")]
        assert not plugins, f"eerest installed pytest plugins: {plugins}"
        assert not importlib.metadata.entry_points(group="pytest11").select(name="eerest")
        print("smoke ok")
        return 0

    from eerest_emulator import BUNDLED_DATA, SAMPLE_COLLECTION, Emulator

    assert SAMPLE_COLLECTION == COLLECTION
    assert (BUNDLED_DATA / "eerest" / "sample" / "scenes.json").is_file(), BUNDLED_DATA
    plugin_modules = [ep.value for ep in importlib.metadata.entry_points(group="pytest11") if ep.value.startswith("eerest")]
    assert plugin_modules == ["eerest_emulator.testing"], plugin_modules
    with Emulator() as emu:
        for v, mod in versions.items():
            with mod.Client(project=PROJECT, base_url=emu.url, credentials=credentials) as client:
                asset = client.projects.assets.get(name=SCENE)
                assert [b.id for b in asset.bands] == ["blue", "green", "red", "nir"], asset.bands
                collection = client.projects.assets.get(name=COLLECTION)
                assert str(collection.type).endswith("IMAGE_COLLECTION"), collection.type

                images = list(client.projects.image_collection.compute_images(expression=load_expression(COLLECTION)))
                names = [i.name for i in images]
                assert len(names) == 5 and SCENE in names, names

                body = client.projects.assets.get_pixels(name=SCENE, file_format="NPY", band_ids=["nir"])
                raw = getattr(body, "content", body)  # eerest.Pixels (or the raw bytes)
                array = np.load(io.BytesIO(bytes(raw)))
                assert array.dtype.names == ("nir",) and array.shape == (224, 224), (array.dtype, array.shape)

            async def run_async(mod: Any = mod) -> str:
                async with mod.AsyncClient(project=PROJECT, base_url=emu.url, credentials=credentials) as client:
                    asset = await client.projects.assets.get(name=SCENE)
                    return str(asset.type)

            assert asyncio.run(run_async()).endswith("IMAGE")
            print(f"{v}: Client and AsyncClient ok against {emu.url}")

        calls = [r.path for r in emu.requests]
        for v in VERSIONS:
            assert any(p.startswith(f"/{v}/") and p.endswith(":getPixels") for p in calls), calls

    print("smoke ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
