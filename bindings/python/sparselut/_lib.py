# SPDX-License-Identifier: Apache-2.0
"""Low-level ctypes layer: finds libsparselut, declares every C prototype.

Nothing here is meant for users; the classes in :mod:`sparselut` wrap it.
The table ``PROTOTYPES`` names every ``SPLUT_API`` function of
``include/sparselut/sparselut.h``; a test checks it against the header.
"""

import ctypes
import ctypes.util
import glob
import math
import operator
import os

c_size_t = ctypes.c_size_t
c_int = ctypes.c_int
c_u16 = ctypes.c_uint16
c_u32 = ctypes.c_uint32
c_u64 = ctypes.c_uint64
c_i32 = ctypes.c_int32
c_i64 = ctypes.c_int64
c_f32 = ctypes.c_float
c_f64 = ctypes.c_double
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
P = ctypes.POINTER

SIZE_MAX = c_size_t(-1).value


class LayerDesc(ctypes.Structure):
    """Mirror of ``splut_layer_desc``."""

    _fields_ = [("size", c_size_t), ("kind", c_i32), ("width", c_u32),
                ("fan_in", c_u32), ("out_bits", c_u32), ("degree", c_u32),
                ("sub_neurons", c_u32), ("hidden", c_u32), ("reserved", c_u32)]


class TableInfo(ctypes.Structure):
    """Mirror of ``splut_table_info``."""

    _fields_ = [("size", c_size_t), ("in_fields", c_u32), ("in_bits", c_u32),
                ("out_bits", c_u32), ("reserved", c_u32), ("entries", c_u64)]


class InputFormat(ctypes.Structure):
    """Mirror of ``splut_input_format``."""

    _fields_ = [("size", c_size_t), ("bits", c_u32), ("is_signed", c_i32), ("map", c_i32),
                ("frac_bits", c_u32), ("offset", ctypes.POINTER(c_f64)),
                ("scale", ctypes.POINTER(c_f64)), ("divisor", c_f32), ("mean", c_f32),
                ("std", c_f32)]


class HdlOpts(ctypes.Structure):
    """Mirror of ``splut_hdl_opts`` (0.2: with the input-stage fields)."""

    _fields_ = [("size", c_size_t), ("prefix", c_char_p), ("pipeline", c_i32),
                ("flags", c_u32), ("reserved", c_u32),
                ("input", ctypes.POINTER(InputFormat)),
                ("input_thresholds", ctypes.POINTER(c_i32)),
                ("input_codes", ctypes.POINTER(ctypes.c_uint16)),
                ("input_steps", ctypes.POINTER(c_u32))]


class Allocator(ctypes.Structure):
    """Mirror of ``splut_allocator`` (only NULL is passed by the binding)."""

    _fields_ = [("alloc", c_void_p), ("free", c_void_p), ("user", c_void_p)]


class RunRecord(ctypes.Structure):
    """Mirror of ``splut_run_record``."""

    _fields_ = [("size", c_size_t), ("epoch", c_u64), ("loss", c_f64),
                ("train_accuracy", c_f64), ("test_accuracy", c_f64),
                ("live_test_accuracy", c_f64), ("seconds", c_f64), ("n_layers", c_u32),
                ("reserved", c_u32), ("active", c_u64 * 16)]


class RunProgress(ctypes.Structure):
    """Mirror of ``splut_run_progress``."""

    _fields_ = [("size", c_size_t), ("kind", c_i32), ("reserved", c_u32), ("epoch", c_u64),
                ("epochs", c_u64), ("batch", c_u64), ("batches", c_u64), ("loss", c_f64),
                ("samples_per_s", c_f64), ("train_seconds", c_f64), ("samples", c_u64),
                ("eta_seconds", c_f64), ("record", ctypes.POINTER(RunRecord))]


#: ``int (*)(void *user, const splut_run_progress *p)``
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, ctypes.POINTER(RunProgress))
#: ``int (*)(void *user, float *x, uint32_t features, int32_t label, uint64_t seed,
#: uint64_t epoch, uint64_t position)``
TRANSFORM_FN = ctypes.CFUNCTYPE(c_int, c_void_p, ctypes.POINTER(c_f32), c_u32, c_i32, c_u64,
                                c_u64, c_u64)

#: ``void (*)(void *user, splut_log_level, splut_status, const char *msg)``
LOG_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_int, c_char_p)

#: ``splut_status (*)(void *user, float *x, int32_t *y)``
FILL_FN = ctypes.CFUNCTYPE(c_int, c_void_p, ctypes.POINTER(c_f32), ctypes.POINTER(c_i32))

_S = c_int  # splut_status, and every other C enum
_H = c_void_p  # any opaque handle

#: name -> (restype, argtypes) for every public C function.
PROTOTYPES = {
    "splut_version_number": (ctypes.c_uint, []),
    "splut_version_string": (c_char_p, []),
    "splut_status_str": (c_char_p, [_S]),
    # context
    "splut_ctx_create": (_S, [P(Allocator), P(_H)]),
    "splut_ctx_ref": (_H, [_H]),
    "splut_ctx_unref": (None, [_H]),
    "splut_ctx_set_log": (_S, [_H, LOG_FN, c_void_p, c_int]),
    "splut_ctx_last_error": (c_char_p, [_H]),
    "splut_ctx_copy_last_error": (_S, [_H, c_char_p, c_size_t, P(c_size_t)]),
    "splut_free": (None, [_H, c_void_p]),
    "splut_ctx_set_error": (_S, [_H, c_int, c_char_p]),
    "splut_param_info": (_S, [c_int, P(c_int), P(c_f64), P(c_f64), P(c_f64)]),
    "splut_param_name": (c_char_p, [c_int]),
    "splut_param_describe": (_S, [c_int, P(c_int), P(ctypes.c_uint)]),
    "splut_param_next": (c_int, [c_int]),
    "splut_ctx_set_int": (_S, [_H, c_int, c_i64]),
    "splut_ctx_get_int": (_S, [_H, c_int, P(c_i64)]),
    # model definition
    "splut_model_create": (_S, [_H, c_u32, c_u32, P(_H)]),
    "splut_model_add_layer": (_S, [_H, P(LayerDesc)]),
    "splut_model_build": (_S, [_H]),
    "splut_model_create_preset": (_S, [_H, c_char_p, P(_H)]),
    "splut_model_create_arch": (_S, [_H, c_char_p, P(_H)]),
    "splut_preset_name": (c_char_p, [c_size_t]),
    "splut_model_destroy": (None, [_H]),
    "splut_model_clone": (_S, [_H, P(_H)]),
    "splut_model_ref": (_H, [_H]),
    # datasets
    "splut_dataset_create": (
        _S, [_H, ctypes.c_size_t, ctypes.c_uint32, P(ctypes.c_float), P(ctypes.c_int32),
             ctypes.c_uint, P(_H)]),
    "splut_dataset_create_filled": (
        _S, [_H, ctypes.c_size_t, ctypes.c_uint32, FILL_FN, c_void_p, P(_H)]),
    "splut_dataset_ref": (_H, [_H]),
    "splut_dataset_feature_stats": (_S, [_H, P(ctypes.c_double), P(ctypes.c_double)]),
    "splut_dataset_standardize": (
        _S, [_H, P(ctypes.c_double), P(ctypes.c_double), P(_H)]),
    "splut_dataset_destroy": (None, [_H]),
    "splut_dataset_ctx": (_H, [_H]),
    "splut_dataset_num_samples": (ctypes.c_size_t, [_H]),
    "splut_dataset_num_features": (ctypes.c_uint32, [_H]),
    "splut_dataset_num_classes": (ctypes.c_uint32, [_H]),
    "splut_dataset_features": (P(ctypes.c_float), [_H]),
    "splut_dataset_labels": (P(ctypes.c_int32), [_H]),
    "splut_dataset_set_image": (_S, [_H, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_float]),
    "splut_dataset_image": (
        _S, [_H, P(ctypes.c_uint32), P(ctypes.c_uint32), P(ctypes.c_float)]),
    "splut_dataset_fingerprint": (ctypes.c_uint64, [_H]),
    "splut_model_ctx": (_H, [_H]),
    "splut_model_num_inputs": (c_u32, [_H]),
    "splut_model_input_bits": (c_u32, [_H]),
    "splut_model_num_layers": (c_size_t, [_H]),
    "splut_model_num_outputs": (c_u32, [_H]),
    "splut_model_num_params": (c_size_t, [_H]),
    "splut_model_layer": (_S, [_H, c_size_t, P(LayerDesc)]),
    "splut_model_set_int": (_S, [_H, c_int, c_i64]),
    "splut_model_get_int": (_S, [_H, c_int, P(c_i64)]),
    "splut_model_set_double": (_S, [_H, c_int, c_f64]),
    "splut_model_get_double": (_S, [_H, c_int, P(c_f64)]),
    # connectivity
    "splut_model_get_inputs": (_S, [_H, c_size_t, c_u32, P(c_u32), c_size_t, P(c_size_t)]),
    "splut_model_set_inputs": (_S, [_H, c_size_t, c_u32, P(c_u32), c_size_t]),
    "splut_model_randomize_connectivity": (_S, [_H, c_u64]),
    "splut_model_prune_input": (_S, [_H, c_size_t, c_u32, c_u32]),
    "splut_model_grow_input": (_S, [_H, c_size_t, c_u32, c_u32, c_u32, c_f32]),
    "splut_model_validate": (_S, [_H]),
    # inference
    "splut_model_input_codes": (_S, [_H, P(c_f32), c_size_t, P(c_u16)]),
    "splut_model_forward_codes": (_S, [_H, P(c_u16), c_size_t, P(c_u16)]),
    "splut_model_predict": (_S, [_H, P(c_f32), c_size_t, P(c_i32), P(c_u16)]),
    "splut_model_classify_codes": (_S, [_H, P(c_u16), c_size_t, P(c_i32)]),
    "splut_model_output_values": (_S, [_H, P(c_u16), c_size_t, P(c_f32)]),
    # training
    "splut_trainer_create": (_S, [_H, P(_H)]),
    "splut_trainer_destroy": (None, [_H]),
    "splut_trainer_set_int": (_S, [_H, c_int, c_i64]),
    "splut_trainer_get_int": (_S, [_H, c_int, P(c_i64)]),
    "splut_trainer_set_double": (_S, [_H, c_int, c_f64]),
    "splut_trainer_get_double": (_S, [_H, c_int, P(c_f64)]),
    "splut_trainer_step": (_S, [_H, P(c_f32), P(c_i32), c_size_t, P(c_f64)]),
    "splut_trainer_loss_grad": (_S, [_H, P(c_f32), P(c_i32), c_size_t, P(c_f64), P(c_f32)]),
    "splut_trainer_step_soft": (_S, [_H, P(c_f32), P(c_f32), c_size_t, P(c_f64)]),
    "splut_trainer_loss_grad_soft": (_S, [_H, P(c_f32), P(c_f32), c_size_t, P(c_f64),
                                          P(c_f32)]),
    "splut_trainer_calibrate_bn": (_S, [_H, P(c_f32), c_size_t, c_size_t]),
    "splut_trainer_connections": (_S, [_H, c_size_t, P(c_u64), P(c_u64)]),
    "splut_trainer_model_in_training": (_H, [_H]),
    "splut_model_params": (_S, [_H, P(c_f32), c_int]),
    # files
    "splut_model_save": (_S, [_H, c_char_p]),
    "splut_model_load": (_S, [_H, c_char_p, P(_H)]),
    "splut_model_serialize": (_S, [_H, c_void_p, c_size_t, P(c_size_t)]),
    "splut_model_deserialize": (_S, [_H, c_void_p, c_size_t, P(_H)]),
    "splut_trainer_save": (_S, [_H, c_char_p]),
    "splut_trainer_load": (_S, [_H, c_char_p]),
    # tables
    "splut_tables_create": (_S, [_H, P(_H)]),
    "splut_tables_destroy": (None, [_H]),
    "splut_tables_num_layers": (c_size_t, [_H]),
    "splut_tables_layer": (_S, [_H, c_size_t, P(c_u32), P(c_u32), P(c_u32)]),
    "splut_tables_info": (_S, [_H, c_size_t, c_u32, c_u32, P(TableInfo)]),
    "splut_tables_data": (_S, [_H, c_size_t, c_u32, c_u32, P(P(c_u16))]),
    "splut_tables_inputs": (_S, [_H, c_size_t, c_u32, P(P(c_u32)), P(c_size_t)]),
    "splut_tables_totals": (_S, [_H, P(c_u64), P(c_u64)]),
    "splut_tables_forward": (_S, [_H, P(c_u16), c_size_t, P(c_u16)]),
    "splut_tables_io": (_S, [_H, P(c_u32), P(c_u32), P(c_u32), P(c_u32)]),
    "splut_tt_iter_create": (_S, [_H, c_size_t, c_u32, c_u32, P(_H)]),
    "splut_tt_iter_next": (_S, [_H, P(c_int), P(c_u64), P(c_u16), c_size_t, P(c_u16)]),
    "splut_tt_iter_destroy": (None, [_H]),
    "splut_tables_save": (_S, [_H, c_char_p]),
    "splut_tables_load": (_S, [_H, c_char_p, P(_H)]),
    "splut_tables_write_text": (_S, [_H, c_char_p]),
    "splut_model_import_masks": (_S, [_H, c_char_p]),
    "splut_model_export_masks": (_S, [_H, c_char_p]),
    "splut_lut6_cost": (c_u64, [c_u32, c_u32]),
    "splut_tables_cost": (_S, [_H, c_size_t, P(c_u64)]),
    # training runs
    "splut_run_create": (_S, [_H, _H, _H, P(_H)]),
    "splut_run_destroy": (None, [_H]),
    "splut_run_set_int": (_S, [_H, c_int, c_i64]),
    "splut_run_get_int": (_S, [_H, c_int, P(c_i64)]),
    "splut_run_set_double": (_S, [_H, c_int, c_f64]),
    "splut_run_get_double": (_S, [_H, c_int, P(c_f64)]),
    "splut_run_set_teacher": (_S, [_H, _H]),
    "splut_run_set_transform": (_S, [_H, TRANSFORM_FN, c_void_p]),
    "splut_run_set_progress": (_S, [_H, PROGRESS_FN, c_void_p]),
    "splut_run_set_checkpoint": (_S, [_H, c_char_p]),
    "splut_run_epoch": (_S, [_H]),
    "splut_run_fit": (_S, [_H]),
    "splut_run_history": (_S, [_H, c_u64, P(RunRecord)]),
    "splut_run_model": (_H, [_H]),
    "splut_run_evaluated_model": (_H, [_H]),
    "splut_run_best_model": (_H, [_H]),
    "splut_run_final_model": (_H, [_H]),
    "splut_run_save_checkpoint": (_S, [_H, c_char_p]),
    "splut_run_resume": (_S, [_H, c_char_p]),
    "splut_run_checkpoint_model": (_S, [_H, c_char_p, P(_H)]),
    # HDL emission
    "splut_tables_emit": (_S, [_H, c_int, c_char_p, P(HdlOpts)]),
    "splut_tables_emit_testbench": (_S, [_H, c_int, c_char_p, P(HdlOpts), P(c_u16),
                                         c_size_t]),
    "splut_hdl_latency": (_S, [_H, P(HdlOpts), P(c_u32)]),
    "splut_tables_fill_dont_cares": (_S, [_H, P(_H)]),
    # Input stage in hardware
    "splut_input_value": (_S, [P(InputFormat), c_u32, c_i32, P(c_f32)]),
    "splut_input_format_fit": (_S, [P(_H), ctypes.c_size_t, P(InputFormat)]),
    "splut_model_input_thresholds": (_S, [_H, P(InputFormat), P(c_i32), P(c_u16), P(c_u32)]),
    "splut_tables_emit_testbench_raw": (_S, [_H, c_int, c_char_p, P(HdlOpts), P(c_i32),
                                             P(c_u16), c_size_t]),
    # Trainable LUT nodes (DWN): thermometer thresholds
    "splut_model_fit_thermometer": (_S, [_H, P(c_f32), c_size_t]),
    "splut_model_thermometer_uniform": (_S, [_H, c_f64, c_f64]),
    "splut_model_num_classes": (c_u32, [_H]),
    # LUT-node (DWN) tables and hardware
    "splut_tables_thermometer_levels": (c_u32, [_H]),
    "splut_tables_num_classes": (c_u32, [_H]),
    "splut_tables_classify": (_S, [_H, P(c_u16), c_size_t, P(c_i32), P(c_u16)]),
    "splut_hdl_estimate": (_S, [_H, P(HdlOpts), P(c_u64), P(c_u64)]),
}


def _candidates():
    """Paths to try after $SPARSELUT_LIB: next to the package, the build dir, the loader."""
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (here, os.path.dirname(here)):
        for pattern in ("libsparselut.so", "libsparselut.so.*", "libsparselut.dylib"):
            yield from sorted(glob.glob(os.path.join(d, pattern)))
    repo = os.path.normpath(os.path.join(here, "..", "..", ".."))
    builds = [os.environ.get("SPLUT_BUILD_ROOT", ""), os.path.join(repo, "build")]
    for b in builds:
        if b:
            yield os.path.join(b, "lib", "libsparselut.so")
    found = ctypes.util.find_library("sparselut")
    if found:
        yield found


def _open():
    """Load the first library that exists and declare its prototypes."""
    tried = []
    explicit = os.environ.get("SPARSELUT_LIB")
    if explicit:  # an explicit choice must not silently fall back to another library
        try:
            lib = ctypes.CDLL(explicit)
        except OSError as exc:
            raise ImportError("SPARSELUT_LIB=%s cannot be loaded: %s" % (explicit, exc)) from None
        _declare(lib)
        return lib, explicit
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            tried.append("%s (%s)" % (path, exc))
            continue
        _declare(lib)
        return lib, path
    raise ImportError("libsparselut not found; set SPARSELUT_LIB to the .so (tried: %s)"
                      % ", ".join(tried))


class RangeError(OverflowError, ValueError):
    """A Python number does not fit the C parameter or field it is meant for."""


#: C integer type -> (min, max); ctypes itself silently wraps out-of-range ints.
INT_LIMITS = {}
for _t in (ctypes.c_int8, ctypes.c_int16, ctypes.c_int32, ctypes.c_int64):
    INT_LIMITS[_t] = (-(1 << (8 * ctypes.sizeof(_t) - 1)), (1 << (8 * ctypes.sizeof(_t) - 1)) - 1)
for _t in (ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64):
    INT_LIMITS[_t] = (0, (1 << (8 * ctypes.sizeof(_t))) - 1)
for _t in (ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_ulong, c_size_t):
    INT_LIMITS.setdefault(_t, INT_LIMITS[{
        (True, 4): ctypes.c_int32, (True, 8): ctypes.c_int64,
        (False, 4): ctypes.c_uint32, (False, 8): ctypes.c_uint64,
    }[(_t(-1).value < 0, ctypes.sizeof(_t))]])
FLT_MAX = 3.4028234663852886e38


def to_int(value, ctype, what):
    """``value`` as a Python int that fits ``ctype``.

    Accepts ints (numpy's too) and floats with an integral value; raises
    TypeError for anything else and :class:`RangeError` when it does not fit.
    """
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        f = float(value)
        if not math.isfinite(f) or f != int(f):
            raise TypeError("%s must be an integer, got %r" % (what, value))
        value = int(f)
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %r" % (what, value)) from None
    lo, hi = INT_LIMITS[ctype]
    if not lo <= v <= hi:
        raise RangeError("%s = %d outside the range of the C type [%d, %d]" % (what, v, lo, hi))
    return v


def to_float32(value, what):
    """``value`` as a float that a C float holds without becoming infinite."""
    f = float(value)
    if math.isfinite(f) and abs(f) > FLT_MAX:
        raise RangeError("%s = %g does not fit a C float" % (what, f))
    return f


def _checked(fn, name, argtypes):
    """``fn`` with every integer and float argument range-checked first."""
    ints = [(i, t) for i, t in enumerate(argtypes) if t in INT_LIMITS]
    floats = [i for i, t in enumerate(argtypes) if t is c_f32]
    if not ints and not floats:
        return fn

    def call(*args):
        args = list(args)
        for i, t in ints:
            args[i] = to_int(args[i], t, "%s argument %d" % (name, i + 1))
        for i in floats:
            args[i] = to_float32(args[i], "%s argument %d" % (name, i + 1))
        return fn(*args)

    call.__name__ = name
    return call


def _declare(lib):
    """Set restype/argtypes of every function so ctypes checks the calls, and
    put a range check of the scalar arguments in front (ctypes would wrap)."""
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
        setattr(lib, name, _checked(fn, name, argtypes))


lib, path = _open()
