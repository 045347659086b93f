"""Brief outages: the server goes away mid-read (its connections reset, new ones refused) and
comes back on the same port two seconds later; ``read_area`` at default settings rides it
out and gives the same bytes as an undisturbed read."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Any

import numpy as np
import pytest
from eerest_emulator import BUNDLED_DATA, Emulator
from eerest_emulator.testing import emulator_credentials

import eerest
from eerest.tiling import PixelGrid

SCENE = "projects/eerest/assets/sample/scenes/20240524"
GRID = PixelGrid(200, 160, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")


class Restartable:
    """A private emulator whose connections can all be reset, as a crashed server's are."""

    def __init__(self) -> None:
        self.emu = Emulator(data_dir=BUNDLED_DATA).start()  # read only: stop() must not remove it
        self.port = int(self.emu.url.rsplit(":", 1)[1])
        self._conns: list[socket.socket] = []
        self._track()

    def _track(self) -> None:
        server = self.emu._server
        accept = server.get_request

        def get_request() -> Any:
            conn, addr = accept()
            self._conns.append(conn)
            return conn, addr

        server.get_request = get_request

    def crash(self) -> None:
        self.emu.stop()  # no more accepted connections: refused
        for conn in self._conns:  # and those open are reset
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.shutdown(socket.SHUT_RDWR)
        self._conns.clear()

    def restart(self) -> None:
        self.emu._port = self.port
        self.emu.start()
        self._track()

    def close(self) -> None:
        self.emu.stop()


@pytest.fixture
def restartable() -> Any:
    r = Restartable()
    yield r
    r.close()


def client(url: str, cls: Any = eerest.Client) -> Any:
    return cls(project="eerest", base_url=url, credentials=emulator_credentials())  # default retries, deadline


@pytest.mark.parametrize("kind", ["sync", pytest.param("async", marks=pytest.mark.slow)])
def test_read_area_rides_out_a_server_restart(restartable: Restartable, kind: str) -> None:
    emu = restartable.emu
    url = emu.url
    with client(url) as c:
        expected = c.read_area(SCENE, grid=GRID, max_tile_bytes=20000)
    emu.reset()
    emu.inject("slow", delay=0.2, count=1_000_000, path=":getPixels")  # the read lasts a few seconds
    done: list[Any] = []

    def read() -> None:
        try:
            if kind == "sync":
                with client(url) as c:
                    done.append(c.read_area(SCENE, grid=GRID, max_tile_bytes=20000))
            else:
                import asyncio

                async def main() -> Any:
                    async with client(url, eerest.AsyncClient) as c:
                        return await c.read_area(SCENE, grid=GRID, max_tile_bytes=20000)

                done.append(asyncio.run(main()))
        except BaseException as exc:
            done.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    while len([r for r in emu.requests if r.path.endswith(":getPixels")]) < 4:
        time.sleep(0.01)
    restartable.crash()
    time.sleep(2.0)
    restartable.restart()
    thread.join(timeout=120)
    assert not thread.is_alive()
    result = done[0]
    if isinstance(result, BaseException):
        raise result
    assert isinstance(result, np.ndarray)
    assert result.dtype == expected.dtype and result.tobytes() == expected.tobytes()
