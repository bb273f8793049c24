# SPDX-License-Identifier: Apache-2.0
"""ctypes layer of libsparselut-data (the dataset loaders), loaded on first use.

Found through ``SPARSELUT_DATA_LIB``, next to the loaded libsparselut, in the
build directory, then ``ctypes.util.find_library("sparselut-data")``.
``PROTOTYPES`` names every ``SPLUT_DATA_API`` function of
``include/sparselut/sparselut-data.h``.
"""

import ctypes
import ctypes.util
import glob
import os

from ._lib import path as core_path

_S = ctypes.c_int
_H = ctypes.c_void_p
P = ctypes.POINTER


class DataOpts(ctypes.Structure):
    """Mirror of ``splut_data_opts``."""

    _fields_ = [("size", ctypes.c_size_t), ("label", ctypes.c_char_p),
                ("split", ctypes.c_double), ("seed", ctypes.c_uint64),
                ("flags", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("max_bytes", ctypes.c_uint64)]


#: splut_data_flags
STANDARDIZE, SPLIT_SET = 1, 2

_PAIR = [_H, ctypes.c_char_p, P(DataOpts), P(_H), P(_H)]
_TEXT = [_H, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, P(DataOpts)]
PROTOTYPES = {
    "splut_data_load": (_S, _PAIR),
    "splut_data_load_idx": (_S, _PAIR),
    "splut_data_load_csv": (_S, [_H, ctypes.c_char_p, ctypes.c_char_p, P(DataOpts), P(_H),
                                 P(_H)]),
    "splut_data_load_jsc": (_S, _PAIR),
    "splut_data_load_unsw": (_S, _PAIR),
    "splut_data_parse_csv": (_S, _TEXT + [P(_H)]),
    "splut_data_parse_idx": (_S, [_H, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                  ctypes.c_size_t, ctypes.c_char_p, P(_H)]),
    "splut_data_parse_jsc": (_S, _TEXT + [P(_H), P(_H)]),
    "splut_data_parse_unsw": (_S, _TEXT + [P(_H), P(_H)]),
    "splut_data_read_file": (_S, [_H, ctypes.c_char_p, ctypes.c_uint64, P(ctypes.c_void_p),
                                  P(ctypes.c_size_t)]),
    "splut_data_free": (None, [ctypes.c_void_p]),
    "splut_data_has_zlib": (ctypes.c_int, []),
}


def _candidates():
    explicit = os.environ.get("SPARSELUT_DATA_LIB")
    if explicit:
        yield explicit
        return
    core_dir = os.path.dirname(core_path) if os.sep in core_path else ""
    dirs = [core_dir, os.path.join(os.path.dirname(core_dir), "lib-data")] if core_dir else []
    build = os.environ.get("SPLUT_BUILD_ROOT", "")
    if build:
        dirs.append(os.path.join(build, "lib-data"))
    for d in dirs:
        for pattern in ("libsparselut-data.so", "libsparselut-data.so.*",
                        "libsparselut-data.dylib"):
            yield from sorted(glob.glob(os.path.join(d, pattern)))
    found = ctypes.util.find_library("sparselut-data")
    if found:
        yield found


_lib = None


def lib():
    """The loaded library with its prototypes declared (ImportError when absent)."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        try:
            loaded = ctypes.CDLL(path)
        except OSError as exc:
            tried.append("%s (%s)" % (path, exc))
            continue
        for name, (restype, argtypes) in PROTOTYPES.items():
            fn = getattr(loaded, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = loaded
        return _lib
    raise ImportError("libsparselut-data not found; set SPARSELUT_DATA_LIB to the .so "
                      "(tried: %s)" % (", ".join(tried) or "nothing"))
