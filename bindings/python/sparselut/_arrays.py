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


def _flatten(data):
    """Row-major flat list of a sequence or a sequence of rows."""
    out = []
    for item in data:
        if isinstance(item, (list, tuple)) or hasattr(item, "__len__") and not isinstance(
                item, (str, bytes)):
            out.extend(item)
        else:
            out.append(item)
    return out


_INT_RANGES = {
    ctypes.c_uint16: (0, 0xFFFF),
    ctypes.c_int32: (-2 ** 31, 2 ** 31 - 1),
    ctypes.c_uint32: (0, 2 ** 32 - 1),
}


def _check_range(lo_hi, low, high):
    """ValueError instead of a silent wrap-around when converting to a C integer."""
    if lo_hi is not None and (low < lo_hi[0] or high > lo_hi[1]):
        raise ValueError("value %s outside the C type's range [%d, %d]"
                         % (low if low < lo_hi[0] else high, lo_hi[0], lo_hi[1]))


def to_c(data, ctype, cols):
    """Convert ``data`` (n rows of ``cols`` values, or flat) to a C buffer.

    Returns ``(pointer, n, keepalive)``; ``keepalive`` must stay referenced
    while the pointer is in use. Raises ValueError when the element count is
    not a multiple of ``cols``.
    """
    lo_hi = _INT_RANGES.get(ctype)
    if np is not None:
        src = np.asarray(data)
        if lo_hi is not None and src.size and src.dtype != np.dtype(_NP_DTYPES[ctype]):
            _check_range(lo_hi, src.min(), src.max())
        arr = np.ascontiguousarray(src, dtype=_NP_DTYPES[ctype])
        count = arr.size
        if cols == 0 or count % cols:
            raise ValueError("got %d values, not a multiple of the row width %d" % (count, cols))
        ptr = arr.ctypes.data_as(ctypes.POINTER(ctype))
        return ptr, count // cols, arr
    flat = _flatten(data)
    if lo_hi is not None and flat:
        _check_range(lo_hi, min(flat), max(flat))
    if cols == 0 or len(flat) % cols:
        raise ValueError("got %d values, not a multiple of the row width %d"
                         % (len(flat), cols))
    buf = (ctype * max(len(flat), 1))(*flat)
    return ctypes.cast(buf, ctypes.POINTER(ctype)), len(flat) // cols, buf


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
