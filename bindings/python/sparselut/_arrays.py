# SPDX-License-Identifier: Apache-2.0
"""Array conversion between Python data and C buffers, with or without numpy.

numpy is used when it can be imported and the environment variable
``SPARSELUT_NO_NUMPY`` is not set to a non-empty value other than ``0``:
inputs that already have the right dtype and layout are passed without a
copy, results come back as ``numpy.ndarray``. Without numpy, inputs are any
(nested) sequences and results are lists.
"""

import ctypes
import os

from ._lib import RangeError

if os.environ.get("SPARSELUT_NO_NUMPY", "") not in ("", "0"):
    np = None
else:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - depends on the machine
        np = None

_NP_DTYPES = {
    ctypes.c_float: "float32",
    ctypes.c_uint16: "uint16",
    ctypes.c_int32: "int32",
    ctypes.c_uint32: "uint32",
}


def have_numpy():
    """True when results are numpy arrays."""
    return np is not None


_INT_RANGES = {
    ctypes.c_uint16: (0, 0xFFFF),
    ctypes.c_int32: (-2 ** 31, 2 ** 31 - 1),
    ctypes.c_uint32: (0, 2 ** 32 - 1),
}


def _check_range(lo_hi, low, high):
    if low < lo_hi[0] or high > lo_hi[1]:
        raise RangeError("value %s outside the C type's range [%d, %d]"
                         % (low if low < lo_hi[0] else high, lo_hi[0], lo_hi[1]))


def _shape_error(shape, cols, vector):
    want = "(n,)" if vector else "(n, %d) or (%d,) for one row" % (cols, cols)
    return ValueError("expected an array of shape %s, got shape %s" % (want, shape))


def _np_numbers(data, integer):
    """``data`` as a numpy array of real numbers; integer element types also
    require integral values (1.5 is an error, not 1)."""
    src = np.asarray(data)
    if src.dtype.kind == "O":  # e.g. Python ints too large for int64: re-infer
        src = np.asarray(src.tolist())
    if src.dtype.kind not in "biuf":
        raise TypeError("expected numbers, got an array of %s" % src.dtype)
    if integer and src.dtype.kind == "f" and src.size:
        with np.errstate(invalid="ignore"):
            bad = src[~(np.isfinite(src) & (src == np.trunc(src)))]
        if bad.size:
            raise ValueError("expected integers, got a non-integral value %r" % (bad.flat[0],))
    return src


def _py_number(v, integer):
    if isinstance(v, (str, bytes)) or not isinstance(v, (int, float)) and not hasattr(
            v, "__index__") and not hasattr(v, "__float__"):
        raise TypeError("expected a number, got %r" % (v,))
    if not integer:
        return float(v)
    if isinstance(v, float) or not hasattr(v, "__index__"):
        f = float(v)
        if f != f or f in (float("inf"), float("-inf")) or f != int(f):
            raise ValueError("expected an integer, got %r" % (v,))
        return int(f)
    return v.__index__()


def _is_row(item):
    return hasattr(item, "__len__") and not isinstance(item, (str, bytes))


def _py_rows(data, cols, vector):
    """Row-major flat list and row count of a sequence (vector) or of rows."""
    items = list(data)
    if vector or not items or not all(_is_row(r) for r in items):
        if vector and any(_is_row(r) for r in items):
            raise _shape_error("nested", cols, vector)
        if not vector and items and len(items) != cols:
            raise _shape_error((len(items),), cols, vector)
        return items, (len(items) if vector else (1 if items else 0))
    flat = []
    for row in items:
        if len(row) != cols:
            raise _shape_error((len(items), len(row)), cols, vector)
        flat.extend(row)
    return flat, len(items)


def to_c(data, ctype, cols, vector=False):
    """Convert ``data`` to a C buffer of ``ctype`` elements.

    Matrices (``vector=False``): a 2-D array of shape (n, ``cols``), or a 1-D
    array of ``cols`` values for one row; anything else (a flat run of rows, a
    transposed or 3-D array) is a ValueError instead of being re-split into
    rows. Vectors: a 1-D array of any length n. Integer element types take
    integral values only, range-checked. numpy inputs are converted to a
    C-contiguous array of the element type (no copy when they already are).

    Returns ``(pointer, n, keepalive)``; ``keepalive`` must stay referenced
    while the pointer is in use.
    """
    lo_hi = _INT_RANGES.get(ctype)
    integer = ctype in _INT_RANGES
    if np is not None:
        src = _np_numbers(data, integer)
        if vector and src.ndim != 1 or not vector and not (
                src.ndim == 2 and src.shape[1] == cols or src.ndim == 1 and src.shape[0] == cols):
            raise _shape_error(src.shape, cols, vector)
        n = src.shape[0] if vector or src.ndim == 2 else 1
        if lo_hi is not None and src.size and src.dtype != np.dtype(_NP_DTYPES[ctype]):
            _check_range(lo_hi, src.min(), src.max())
        arr = np.ascontiguousarray(src, dtype=_NP_DTYPES[ctype])
        return arr.ctypes.data_as(ctypes.POINTER(ctype)), n, arr
    flat, n = _py_rows(data, cols, vector)
    flat = [_py_number(v, integer) for v in flat]
    if lo_hi is not None and flat:
        _check_range(lo_hi, min(flat), max(flat))
    buf = (ctype * max(len(flat), 1))(*flat)
    return ctypes.cast(buf, ctypes.POINTER(ctype)), n, buf


def new_buffer(ctype, n, cols):
    """An output buffer of ``n`` × ``cols`` elements: ``(pointer, holder)``."""
    if np is not None:
        arr = np.zeros((n, cols) if cols else (n,), dtype=_NP_DTYPES[ctype])
        return arr.ctypes.data_as(ctypes.POINTER(ctype)), arr
    buf = (ctype * max(n * max(cols, 1), 1))()
    return ctypes.cast(buf, ctypes.POINTER(ctype)), (buf, n, cols)


def result(holder):
    """The Python value of a buffer made by :func:`new_buffer`."""
    if np is not None:
        return holder
    buf, n, cols = holder
    if not cols:
        return list(buf[:n])
    return [list(buf[i * cols:(i + 1) * cols]) for i in range(n)]


def view(ptr, count, ctype, owner):
    """Read-only view of ``count`` C elements at ``ptr`` kept alive by ``owner``.

    With numpy the array shares the library's memory (no copy); without it a
    list copy is returned.
    """
    if np is None:
        return list(ptr[:count])
    if count == 0:
        return np.zeros(0, dtype=_NP_DTYPES[ctype])
    raw = (ctype * count).from_address(ctypes.addressof(ptr.contents))
    arr = np.frombuffer(raw, dtype=_NP_DTYPES[ctype])
    arr.flags.writeable = False
    return _Owned(arr, owner)


def view_mutable(ptr, count):
    """Writable float32 view of ``count`` floats at ``ptr``, valid only during the
    C callback that passed ``ptr`` (a numpy array, or a ctypes array without numpy)."""
    raw = (ctypes.c_float * count).from_address(ctypes.addressof(ptr.contents))
    if np is None:
        return raw
    return np.frombuffer(raw, dtype=np.float32)


def _owned_class():
    if np is None:
        return None

    class Owned(np.ndarray):
        """ndarray view that keeps the owning handle alive (``.owner``)."""

        def __new__(cls, arr, owner):
            obj = arr.view(cls)
            obj.owner = owner
            return obj

        def __array_finalize__(self, obj):
            self.owner = getattr(obj, "owner", None)

    return Owned


_Owned = _owned_class()
