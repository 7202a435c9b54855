#!/usr/bin/env python3
"""Draw the Todoke app icons (RGBA PNG) with nothing but the standard library.

The mark: an indigo (藍) rounded square holding a white envelope, for 届け
("to deliver"). One 512 px master is rendered with 2x2 supersampling and box-
filtered down to the smaller sizes Tauri's bundler and window icon expect.

    python3 icons/make_icons.py            # writes next to this script
    python3 icons/make_icons.py --out DIR
"""

import argparse
import math
import pathlib
import struct
import zlib

MASTER = 512
SUPERSAMPLE = 2
OUTPUTS = {  # file name -> edge length in pixels
    "icon.png": 512,
    "128x128@2x.png": 256,
    "128x128.png": 128,
    "32x32.png": 32,
}

INDIGO = (38, 78, 134)
WHITE = (255, 255, 255)


def rounded_rect_inside(x, y, left, top, right, bottom, radius):
    """True if (x, y) lies in the rectangle with rounded corners."""
    if not (left <= x <= right and top <= y <= bottom):
        return False
    cx = min(max(x, left + radius), right - radius)
    cy = min(max(y, top + radius), bottom - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def segment_distance(x, y, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def shade(x, y):
    """Colour and alpha at a point of the unit square (0..1 on both axes)."""
    if not rounded_rect_inside(x, y, 0.0625, 0.0625, 0.9375, 0.9375, 0.19):
        return (0, 0, 0, 0)
    # Envelope body.
    if rounded_rect_inside(x, y, 0.22, 0.31, 0.78, 0.71, 0.035):
        # The flap: a V from the top corners to the middle.
        flap = min(
            segment_distance(x, y, 0.22, 0.31, 0.50, 0.53),
            segment_distance(x, y, 0.78, 0.31, 0.50, 0.53),
        )
        if flap <= 0.026:
            return INDIGO + (255,)
        return WHITE + (255,)
    return INDIGO + (255,)


def render_master():
    """Rows of [r*a, g*a, b*a, a] sums over each pixel's subsamples."""
    n = MASTER * SUPERSAMPLE
    step = 1.0 / n
    rows = []
    for py in range(MASTER):
        row = []
        for px in range(MASTER):
            acc = [0, 0, 0, 0]
            for sy in range(SUPERSAMPLE):
                for sx in range(SUPERSAMPLE):
                    x = (px * SUPERSAMPLE + sx + 0.5) * step
                    y = (py * SUPERSAMPLE + sy + 0.5) * step
                    r, g, b, a = shade(x, y)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            row.append(acc)
        rows.append(row)
    return rows


def downsample(master, size):
    """Box filter the master (alpha-weighted sums) to size x size RGBA bytes."""
    factor = MASTER // size
    samples = factor * factor * SUPERSAMPLE * SUPERSAMPLE
    out = []
    for y in range(size):
        line = bytearray()
        for x in range(size):
            r = g = b = a = 0
            for yy in range(y * factor, (y + 1) * factor):
                row = master[yy]
                for xx in range(x * factor, (x + 1) * factor):
                    pr, pg, pb, pa = row[xx]
                    r += pr
                    g += pg
                    b += pb
                    a += pa
            if a == 0:
                line += bytes(4)
            else:
                line += bytes((round(r / a), round(g / a), round(b / a), round(a / samples)))
        out.append(bytes(line))
    return out


def png_bytes(rows, size):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    # 8-bit depth, colour type 6 (RGBA), deflate, no filter method, no interlace.
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 per scanline
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parent)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    master = render_master()
    for name, size in OUTPUTS.items():
        path = args.out / name
        path.write_bytes(png_bytes(downsample(master, size), size))
        print(f"wrote {path} ({size}x{size} RGBA)")


if __name__ == "__main__":
    main()
