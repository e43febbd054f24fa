"""Drawn-looking signatures for generated inspections: pen strokes and the PNG they render to (pure)."""

from __future__ import annotations

import hashlib
import math
import random
import struct
import zlib
from functools import lru_cache

WIDTH, HEIGHT = 320, 110
INK = (20, 40, 120, 255)  # ballpoint blue on a transparent pad, as the signature pad draws it


def _strokes(rng: random.Random) -> list[list[list[int]]]:
    """Three to five flowing pen strokes across the pad, as lists of [x, y] points."""
    strokes: list[list[list[int]]] = []
    x = rng.uniform(15, 40)
    for _ in range(rng.randint(3, 5)):
        points: list[list[int]] = []
        length = rng.uniform(40, 90)
        amplitude = rng.uniform(12, 30)
        loops = rng.uniform(1.5, 4.0)
        base = rng.uniform(45, 70)
        for step in range(0, 41):
            t = step / 40
            px = x + t * length + math.sin(t * loops * 2 * math.pi) * 6
            py = base - math.sin(t * loops * math.pi) * amplitude + rng.uniform(-1.5, 1.5)
            points.append([round(min(WIDTH - 3, max(2, px))), round(min(HEIGHT - 3, max(2, py)))])
        strokes.append(points)
        x += length + rng.uniform(-10, 15)
        if x > WIDTH - 60:
            break
    # The final flourish underlines the name.
    y = rng.uniform(78, 92)
    strokes.append([[round(rng.uniform(10, 40)), round(y)], [round(x * 0.6), round(y + rng.uniform(-4, 4))],
                    [round(min(WIDTH - 5, x)), round(y - rng.uniform(2, 10))]])
    return strokes


def _render(strokes: list[list[list[int]]]) -> bytes:
    """Rasterise the strokes (2 px pen) into an RGBA PNG with a transparent background."""
    inked: set[tuple[int, int]] = set()
    for stroke in strokes:
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for i in range(steps + 1):
                px, py = round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps)
                inked.update(((px, py), (px + 1, py), (px, py + 1), (px + 1, py + 1)))
    by_row: dict[int, list[int]] = {}
    for px, py in inked:
        if 0 <= px < WIDTH and 0 <= py < HEIGHT:
            by_row.setdefault(py, []).append(px)
    blank = bytes(WIDTH * 4)
    ink = bytes(INK)
    rows = []
    for py in range(HEIGHT):
        row = bytearray(blank)
        for px in by_row.get(py, ()):
            row[px * 4:px * 4 + 4] = ink
        rows.append(b"\x00" + bytes(row))  # filter type 0 (none) for every scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
            + chunk(b"IEND", b""))


POOL = 48  # distinct signature shapes; each person always gets the same one


@lru_cache(maxsize=POOL)
def _shape(index: int) -> tuple[bytes, tuple[tuple[tuple[int, int], ...], ...]]:
    strokes = _strokes(random.Random(f"signature/{index}"))
    return _render(strokes), tuple(tuple((p[0], p[1]) for p in s) for s in strokes)


def signature(name: str, seed: int) -> tuple[bytes, tuple[tuple[tuple[int, int], ...], ...]]:
    """The PNG and strokes of ``name``'s signature; a person signs the same way on every visit."""
    # Rendering is the slow part, so people share a pool of shapes (a stable pick by seed and name).
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return _shape(int.from_bytes(digest[:4], "big") % POOL)
