# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small PNG reader for screenshot checks (8-bit RGB or RGBA, not interlaced: what Chromium writes).

Pure Python (zlib + the five PNG row filters), so the browser test needs no imaging library.
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b'\x89PNG\r\n\x1a\n'


def read_png(data):
    """(width, height, rows) where rows is a list of bytes objects of RGB or RGBA pixels; and the channel count."""
    if not data.startswith(SIGNATURE):
        raise ValueError('not a PNG file')
    pos = len(SIGNATURE)
    idat = []
    width = height = channels = None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            width, height, depth, color, _compression, _filter, interlace = struct.unpack('>IIBBBBB', chunk)
            if depth != 8 or color not in (2, 6) or interlace:
                raise ValueError('unsupported PNG: depth %d, color type %d, interlace %d' % (depth, color, interlace))
            channels = 3 if color == 2 else 4
        elif kind == b'IDAT':
            idat.append(chunk)
        elif kind == b'IEND':
            break
    raw = zlib.decompress(b''.join(idat))
    stride = width * channels
    rows = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            raise ValueError('bad PNG filter type %d' % kind)
        rows.append(bytes(line))
        previous = line
    return width, height, rows, channels


def count_color(png_bytes, rgb, tolerance=12):
    """How many pixels are within tolerance of an (r, g, b) colour."""
    _width, _height, rows, channels = read_png(png_bytes)
    r0, g0, b0 = rgb
    count = 0
    for row in rows:
        for i in range(0, len(row), channels):
            if abs(row[i] - r0) <= tolerance and abs(row[i + 1] - g0) <= tolerance and abs(row[i + 2] - b0) <= tolerance:
                count += 1
    return count
