"""Images as PNG without PIL (zlib + struct), and first-layer filter grids."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _contract as C
from . import _values as V

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
MAX_PIXELS = 4096 * 4096


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def encode_png(pixels: bytes, width: int, height: int, channels: int) -> bytes:
    """Encodes 8-bit pixels (row-major, `channels` bytes per pixel) as a PNG file.

    Args:
        pixels: width * height * channels bytes, rows top to bottom.
        width, height: image size in pixels.
        channels: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).

    Example:
        >>> png = encode_png(bytes([0, 255, 255, 0]), 2, 2, 1)
        >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    if channels not in _COLOR_TYPE:
        raise ValueError("channels must be 1, 2, 3 or 4, got %r" % channels)
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError("expected %d bytes of pixels, got %d" % (stride * height, len(pixels)))
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type 0 (None) per scanline
        raw += pixels[y * stride : (y + 1) * stride]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return _PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + _chunk(b"IEND", b"")


def _as_nested(image: Any) -> Any:
    """A numpy array when numpy is there, else nested lists."""
    if V.is_tensor(image):
        image = image.detach().cpu().float()
        np = _numpy()
        return image.numpy() if np is not None else image.tolist()
    np = _numpy()
    if np is not None:
        return np.asarray(image)
    return image


def _numpy():
    try:
        import numpy

        return numpy
    except ImportError:  # numpy is optional
        return None


def _check_size(w: int, h: int) -> None:
    if not (1 <= w <= C.IMAGE_SIDE_MAX and 1 <= h <= C.IMAGE_SIDE_MAX) or h * w > MAX_PIXELS:
        raise ValueError("image size %dx%d out of range (sides 1..%d, at most %d pixels)" % (w, h, C.IMAGE_SIDE_MAX, MAX_PIXELS))


def to_pixels(image: Any) -> Tuple[bytes, int, int, int]:
    """Turns an image array into (8-bit pixel bytes, width, height, channels).

    Accepts (H, W), (H, W, C) and (C, H, W) with C in {1, 2, 3, 4}. uint8 is used as is; bool maps to
    0/255; other values already in [0, 1] are scaled by 255, anything else from its finite [min, max]
    to 0..255. Non-finite pixels become 0.
    """
    a = _as_nested(image)
    np = _numpy()
    if np is not None and isinstance(a, np.ndarray):
        if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
            a = np.transpose(a, (1, 2, 0))
        if a.ndim == 3 and a.shape[-1] == 1:
            a = a[..., 0]
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (2, 3, 4)):
            raise ValueError("an image must be (H, W), (H, W, C) or (C, H, W) with C in 1..4, got shape %s" % (a.shape,))
        h, w = a.shape[:2]
        _check_size(w, h)
        if a.dtype == np.uint8:
            u8 = a
        elif a.dtype == np.bool_:
            u8 = a.astype(np.uint8) * 255
        else:
            f = a.astype(np.float64)
            finite = np.isfinite(f)
            if not finite.any():
                u8 = np.zeros(f.shape, np.uint8)
            else:
                lo, hi = float(f[finite].min()), float(f[finite].max())
                if lo >= 0.0 and hi <= 1.0:
                    scaled = f * 255.0
                elif hi > lo:
                    scaled = (f - lo) / (hi - lo) * 255.0
                else:
                    scaled = np.zeros_like(f)
                scaled[~finite] = 0.0
                u8 = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        channels = 1 if u8.ndim == 2 else u8.shape[-1]
        return np.ascontiguousarray(u8).tobytes(), w, h, channels
    return _to_pixels_pure(a)


def _to_pixels_pure(a: Any) -> Tuple[bytes, int, int, int]:
    rows = [list(r) for r in a]
    if not rows or not rows[0]:
        raise ValueError("empty image")
    three_d = isinstance(rows[0][0], (list, tuple))
    if three_d and len(rows) in (1, 3, 4) and len(rows[0][0]) not in (1, 3, 4):
        c = len(rows)  # (C, H, W) -> (H, W, C)
        rows = [[[rows[k][y][x] for k in range(c)] for x in range(len(rows[0][0]))] for y in range(len(rows[0]))]
    h, w = len(rows), len(rows[0])
    _check_size(w, h)
    if three_d:
        channels = len(rows[0][0])
        flat = [float(v) for r in rows for px in r for v in px]
    else:
        channels = 1
        flat = [float(v) for r in rows for v in r]
    if channels not in (1, 2, 3, 4) or len(flat) != h * w * channels:
        raise ValueError("an image must be (H, W), (H, W, C) or (C, H, W) with C in 1..4")
    finite = [v for v in flat if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    if lo >= 0.0 and hi <= 1.0:
        conv = lambda v: v * 255.0  # noqa: E731
    elif hi > lo:
        conv = lambda v: (v - lo) / (hi - lo) * 255.0  # noqa: E731
    else:
        conv = lambda v: 0.0  # noqa: E731
    out = bytes(int(min(255, max(0, round(conv(v))))) if math.isfinite(v) else 0 for v in flat)
    return out, w, h, channels


def encode_image_event(key: str, image: Any) -> Dict[str, Any]:
    """The data of an ``image`` event: ``{key, width, height, png_base64}``."""
    pixels, w, h, c = to_pixels(image)
    png = encode_png(pixels, w, h, c)
    if len(png) > C.IMAGE_BYTES_MAX:
        raise ValueError("the PNG is %d bytes, over the server's %d" % (len(png), C.IMAGE_BYTES_MAX))
    return {"key": key, "width": w, "height": h, "png_base64": base64.b64encode(png).decode("ascii")}


def filters_grid(weight: Any, shape: Optional[Sequence[int]] = None, pad: int = 1, ncols: Optional[int] = None) -> Any:
    """Tiles first-layer filters into one image, each filter scaled to [0, 1] on its own.

    Args:
        weight: a conv weight ``(out, in, kh, kw)`` (in = 3 gives colour tiles, in = 1 grey ones,
            other in are averaged over input channels), or a linear weight ``(out, in_features)``
            whose rows are images of `shape` (default: square, e.g. 64 -> 8x8; 3*k*k -> k x k colour).
            Torch tensor, numpy array or nested lists.
        shape: (h, w) of one filter of a linear weight, when it is not square.
        pad: pixels of black between tiles.
        ncols: tiles per row (default: ceil(sqrt(out))).

    Returns:
        An (H, W) or (H, W, 3) float image in [0, 1] (a numpy array if numpy is installed, else nested
        lists), ready for ``run.log_image``.

    Example:
        >>> run.log_image("filters/fc1", babysit.filters_grid(model.fc1.weight), step=it)  # doctest: +SKIP
    """
    if V.is_tensor(weight):
        w = weight.detach().cpu().double().tolist()
    elif hasattr(weight, "tolist"):
        w = weight.tolist()
    else:
        w = weight
    if not w or not isinstance(w[0], (list, tuple)):
        raise ValueError("weight must be 2-D (out, in_features) or 4-D (out, in, kh, kw)")
    tiles: List[List[List[Any]]] = []  # each tile: rows of pixels (float or [r, g, b])
    if isinstance(w[0][0], (list, tuple)):  # conv: (out, in, kh, kw)
        for f in w:
            if len(f) == 3:
                tiles.append([[[f[c][y][x] for c in range(3)] for x in range(len(f[0][0]))] for y in range(len(f[0]))])
            else:
                n_in = len(f)
                tiles.append([[sum(f[c][y][x] for c in range(n_in)) / n_in for x in range(len(f[0][0]))] for y in range(len(f[0]))])
    else:  # linear: (out, in_features)
        n_in = len(w[0])
        colour = False
        if shape is None:
            side = int(round(math.sqrt(n_in)))
            if side * side == n_in:
                shape = (side, side)
            elif n_in % 3 == 0 and int(round(math.sqrt(n_in // 3))) ** 2 == n_in // 3:
                side = int(round(math.sqrt(n_in // 3)))
                shape, colour = (side, side), True
            else:
                raise ValueError("cannot tell the image shape of %d input features; pass shape=(h, w)" % n_in)
        fh, fw = int(shape[0]), int(shape[1])
        if fh * fw * (3 if colour else 1) != n_in:
            raise ValueError("shape %s does not match %d input features" % (tuple(shape), n_in))
        for row in w:
            if colour:  # (3, h, w) flattened, as a conv net's input would be
                tiles.append([[[row[c * fh * fw + y * fw + x] for c in range(3)] for x in range(fw)] for y in range(fh)])
            else:
                tiles.append([[row[y * fw + x] for x in range(fw)] for y in range(fh)])
    n = len(tiles)
    cols = ncols or int(math.ceil(math.sqrt(n)))
    rows_n = int(math.ceil(n / cols))
    th, tw = len(tiles[0]), len(tiles[0][0])
    colour = isinstance(tiles[0][0][0], (list, tuple))
    height, width = rows_n * th + (rows_n - 1) * pad, cols * tw + (cols - 1) * pad
    blank: Any = [0.0, 0.0, 0.0] if colour else 0.0
    grid = [[list(blank) if colour else blank for _ in range(width)] for _ in range(height)]
    for i, tile in enumerate(tiles):
        vals = [v for r in tile for px in r for v in (px if colour else [px]) if math.isfinite(v)]
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 0.0)
        span = hi - lo if hi > lo else 1.0
        oy, ox = (i // cols) * (th + pad), (i % cols) * (tw + pad)
        for y in range(th):
            for x in range(tw):
                px = tile[y][x]
                if colour:
                    grid[oy + y][ox + x] = [((v - lo) / span) if math.isfinite(v) else 0.0 for v in px]
                else:
                    grid[oy + y][ox + x] = ((px - lo) / span) if math.isfinite(px) else 0.0
    np = _numpy()
    return np.asarray(grid, dtype=np.float64) if np is not None else grid
