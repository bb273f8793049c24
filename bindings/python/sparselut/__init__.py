# SPDX-License-Identifier: Apache-2.0
"""Python binding of libsparselut (ctypes; numpy optional).

Train lookup-table neural networks (LogicNets, PolyLUT, PolyLUT-Add) and turn
them into FPGA logic. The classes follow the C API one to one:

* :class:`Context` – threads, seed, table limit, last error (``splut_ctx``)
* :class:`Model` – layers, connectivity, parameters (``splut_model``)
* :class:`Trainer` – AdamW training of one model (``splut_trainer``)
* :class:`Run` – a whole training run: epochs, schedule, EMA, distillation,
  checkpoints (``splut_run``)
* :class:`Tables` – enumerated truth tables, LUT inference, HDL emission
  (``splut_tables``)
* :class:`Dataset` – features and labels (``splut_dataset``);
  :func:`load_dataset` reads MNIST, CSV, JSC and UNSW-NB15 files through the
  companion library libsparselut-data

Every failing call raises :class:`Error` with the C status (``.status``), its
name (``.name``) and the context's detailed message (``.message``). Numbers
that do not fit the C type they are passed as raise :class:`RangeError` (a
``ValueError`` and an ``OverflowError``) before the call; arrays of the wrong
shape, and non-integral labels or codes, raise ``ValueError``. Handles are
context managers and are also freed when garbage-collected; a ``Model`` can be
copied (a clone) and pickled, the other handles cannot.

Arrays: with numpy, inputs of the right dtype (float32 features, uint16 codes,
int32 labels) are passed without copying and results are ``numpy.ndarray``;
without numpy (or with ``SPARSELUT_NO_NUMPY=1``) inputs are sequences and
results are lists. The library is found through ``SPARSELUT_LIB``, next to the
package, in the build directory, then ``ctypes.util.find_library``.
"""

import ctypes
import os

from . import _arrays
from ._lib import lib as _c, path as library_path, SIZE_MAX, LayerDesc, TableInfo, HdlOpts
from ._lib import InputFormat as _InputFormat
from ._lib import LOG_FN as _LOG_FN, RangeError, to_int as _to_int
from ._lib import PROGRESS_FN as _PROGRESS_FN
from ._lib import TRANSFORM_FN as _TRANSFORM_FN, RunRecord as _RunRecord

__all__ = ["Error", "RangeError", "Context", "Model", "Trainer", "Run", "Tables", "Layer",
           "Dataset", "load_dataset", "InputFormat", "InputStage", "version",
           "version_number", "status_name", "presets", "param_names", "param_info",
           "lut6_cost", "have_numpy", "library_path"]

# Status codes (values fixed forever by the C header).
OK = 0
E_NULL, E_INVALID, E_OUT_OF_RANGE, E_PARAM_TYPE = -100, -101, -102, -103
E_UNKNOWN_PARAM, E_UNKNOWN_PRESET, E_FAN_IN, E_TABLE_TOO_LARGE = -104, -105, -106, -107
E_NON_FINITE, E_INDEX, E_BUFFER_TOO_SMALL, E_LABEL, E_CONNECTIVITY = (
    -108, -109, -110, -111, -112)
E_STATE, E_DIVERGED, E_CANCELLED, E_NOMEM, E_STRUCT_SIZE = -200, -201, -202, -300, -400
E_IO, E_FORMAT, E_VERSION, E_CHECKSUM, E_TOOL = -500, -501, -502, -503, -504

#: Neuron kinds by name (``splut_neuron_kind``).
KINDS = {"linear": 0, "poly": 1, "poly_add": 2, "neuralut": 3}
#: HDL formats (``splut_hdl_format``).
FORMATS = {"verilog": 0, "vhdl": 1, "hls": 2}
#: Pipelining strategies (``splut_hdl_pipeline``).
PIPELINES = {"none": 0, "layer": 1, "sublayer": 2}
#: SPLUT_HDL_* flags (emit(full_case=..., dont_care=..., no_reset=...) set them)
HDL_FULL_CASE, HDL_DONT_CARE, HDL_NO_RESET = 0x1, 0x2, 0x4
#: Table index of a PolyLUT-Add neuron's adder table.
TABLE_ADDER = 0xFFFF

have_numpy = _arrays.have_numpy

#: status value -> symbolic C name, e.g. -102 -> "SPLUT_E_OUT_OF_RANGE"
STATUS_NAMES = {value: "SPLUT_" + name for name, value in list(globals().items())
                if (name == "OK" or name.startswith("E_")) and isinstance(value, int)}


def _s(text):
    return text.decode("utf-8", "replace") if text is not None else None


def _b(path):
    return os.fsencode(path)


class Error(Exception):
    """A libsparselut call failed.

    Attributes: ``status`` (the negative C status, e.g. ``-102``), ``name``
    (its C name, e.g. ``"SPLUT_E_OUT_OF_RANGE"``), ``description``
    (``splut_status_str``), ``message`` (the context's last error, naming the
    offending value) and ``function`` (the C function that failed).
    """

    def __init__(self, status, message="", function=""):
        self.status = int(status)
        self.name = STATUS_NAMES.get(self.status, "SPLUT_E_UNKNOWN(%d)" % self.status)
        self.description = status_name(status)
        self.message = message
        self.function = function
        super().__init__("%s: %s (%s)%s" % (function, self.name, self.description,
                                             ": " + message if message else ""))


def _last_error(ctx_handle):
    """The context's last failure message, copied under its lock (another
    thread may be failing on a handle of the same context)."""
    if not ctx_handle:
        return ""
    need = ctypes.c_size_t()
    buf = ctypes.create_string_buffer(512)
    while _c.splut_ctx_copy_last_error(ctx_handle, buf, len(buf), need) == E_BUFFER_TOO_SMALL:
        buf = ctypes.create_string_buffer(need.value)
    return _s(buf.value)


def _check(status, ctx_handle, function):
    if status != OK:
        raise Error(status, _last_error(ctx_handle), function)


def version():
    """Version string of the loaded library, e.g. ``"0.1.0"``."""
    return _s(_c.splut_version_string())


def version_number():
    """Version of the loaded library as major*10000 + minor*100 + patch."""
    return int(_c.splut_version_number())


def status_name(status):
    """Name of a status code (``splut_status_str``)."""
    return _s(_c.splut_status_str(int(status)))


def presets():
    """Names of the built-in presets (``splut_preset_name``)."""
    names, i = [], 0
    while True:
        name = _c.splut_preset_name(i)
        if name is None:
            return names
        names.append(_s(name))
        i += 1


def lut6_cost(in_bits, out_bits):
    """LUT6 estimate of one table with ``in_bits`` address and ``out_bits`` output bits."""
    return int(_c.splut_lut6_cost(in_bits, out_bits))


def _scan_params():
    table = {}
    for key in range(1, 400):
        name = _c.splut_param_name(key)
        if name is not None:
            table[_s(name)] = key
    return table


_PARAMS = _scan_params()


def param_names():
    """Every parameter name known to the library, in key order."""
    return sorted(_PARAMS, key=_PARAMS.get)


def _key(name):
    if isinstance(name, int):
        return name
    try:
        return _PARAMS[name]
    except KeyError:
        raise Error(E_UNKNOWN_PARAM, "no parameter named %r" % (name,), "param") from None


def param_info(name):
    """Type, bounds and default of a parameter.

    :param name: parameter name (``"learning_rate"``) or integer key
    :returns: dict with ``key``, ``type`` (``"int"`` or ``"double"``), ``min``,
              ``max`` and ``default``
    :raises Error: ``E_UNKNOWN_PARAM``
    """
    key = _key(name)
    typ, lo, hi, dflt = ctypes.c_int(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    _check(_c.splut_param_info(key, typ, lo, hi, dflt), None, "splut_param_info")
    return {"key": key, "type": "double" if typ.value == 1 else "int", "min": lo.value,
            "max": hi.value, "default": dflt.value}


def _get_param(handle, ctx, name, get_int, get_double, fname):
    key = _key(name)
    if param_info(key)["type"] == "int":
        val = ctypes.c_int64()
        _check(get_int(handle, key, val), ctx, fname + "_get_int")
    else:
        val = ctypes.c_double()
        _check(get_double(handle, key, val), ctx, fname + "_get_double")
    return val.value


def _set_param(handle, ctx, name, value, set_int, set_double, fname):
    key = _key(name)
    if param_info(key)["type"] == "int":
        v = _to_int(value, ctypes.c_int64, "parameter %r" % (name,))
        _check(set_int(handle, key, v), ctx, fname + "_set_int")
    else:
        _check(set_double(handle, key, float(value)), ctx, fname + "_set_double")


class _Handle:
    """Base of the handle classes: context manager, idempotent close()."""

    _h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing sensible left to do
            pass

    def _live(self):
        if not self._h:
            raise Error(E_NULL, "%s is closed" % type(self).__name__, type(self).__name__)
        return self._h

    # A shallow copy would share the C handle and free it twice: handles that
    # can be duplicated (Model) override these, the others refuse.
    def __copy__(self):
        raise TypeError("a %s wraps a C handle and cannot be copied" % type(self).__name__)

    def __deepcopy__(self, memo):
        raise TypeError("a %s wraps a C handle and cannot be copied" % type(self).__name__)

    def __reduce_ex__(self, protocol):
        raise TypeError("a %s wraps a C handle and cannot be pickled" % type(self).__name__)


class _Resource:
    """Owns one C object and destroys it when the last Python reference goes.

    A handle's ``close()`` drops its own reference only: numpy views and
    iterators over the object's memory hold further references, so that
    memory stays valid for as long as they exist.
    """

    __slots__ = ("ptr", "_destroy")

    def __init__(self, ptr, destroy):
        self.ptr = ptr
        self._destroy = destroy

    def __del__(self):
        if self.ptr:
            self._destroy(self.ptr)
            self.ptr = None


class Context(_Handle):
    """Allocator, log callback, threads, seed, table limit and last error.

    :param threads: worker threads (0 = one per CPU); results never depend on it
    :param seed: seeds connectivity and initial weights
    :param max_table_log2: largest table is 2**max_table_log2 entries
    """

    def __init__(self, threads=None, seed=None, max_table_log2=None):
        h = ctypes.c_void_p()
        _check(_c.splut_ctx_create(None, ctypes.byref(h)), None, "splut_ctx_create")
        self._h = h.value
        self._log_fn = None
        for name, value in (("threads", threads), ("seed", seed),
                            ("max_table_log2", max_table_log2)):
            if value is not None:
                self.set(name, value)

    @classmethod
    def _borrow(cls, handle):
        """A new reference to an existing C context."""
        obj = cls.__new__(cls)
        obj._h = _c.splut_ctx_ref(handle)
        obj._log_fn = None
        return obj

    def close(self):
        """Drop this reference (models keep the C context alive as needed)."""
        if self._h:
            _c.splut_ctx_unref(self._h)
            self._h = None

    def set(self, name, value):
        """Set an integer context parameter (``"threads"``, ``"seed"``, ``"max_table_log2"``)."""
        value = _to_int(value, ctypes.c_int64, "context parameter %r" % (name,))
        _check(_c.splut_ctx_set_int(self._live(), _key(name), value), self._h,
               "splut_ctx_set_int")

    def get(self, name):
        """Read an integer context parameter."""
        val = ctypes.c_int64()
        _check(_c.splut_ctx_get_int(self._live(), _key(name), val), self._h,
               "splut_ctx_get_int")
        return val.value

    threads = property(lambda self: self.get("threads"), lambda self, v: self.set("threads", v),
                       doc="Worker threads (0 = one per online CPU).")
    seed = property(lambda self: self.get("seed"), lambda self, v: self.set("seed", v),
                    doc="Seed of connectivity and initial weights.")
    max_table_log2 = property(lambda self: self.get("max_table_log2"),
                              lambda self, v: self.set("max_table_log2", v),
                              doc="Largest allowed table is 2**value entries.")

    @property
    def last_error(self):
        """Message of the last failure recorded on this context ("" if none)."""
        return _last_error(self._live())

    def _settings(self):
        return {name: self.get(name) for name in ("threads", "seed", "max_table_log2")}

    def set_log(self, callback, max_level=0):
        """Install ``callback(level, status, message)`` (None removes it).

        :param max_level: 0 errors, 1 warnings, 2 info, 3 debug
        """
        if callback is None:
            fn = ctypes.cast(None, _LOG_FN)
        else:
            def fn_py(_user, level, code, msg):
                try:
                    callback(level, code, _s(msg))
                except Exception:  # never unwind through C
                    pass
            fn = _LOG_FN(fn_py)
        _check(_c.splut_ctx_set_log(self._live(), fn, None, max_level), self._h,
               "splut_ctx_set_log")
        self._log_fn = fn  # the C side keeps only the pointer

    def free(self, ptr):
        """Release memory the library allocated for the caller (``splut_free``)."""
        _c.splut_free(self._live(), ptr)


class Layer:
    """One layer description (``splut_layer_desc``).

    :param kind: ``"linear"``, ``"poly"``, ``"poly_add"`` or ``"neuralut"`` (or its number)
    :param width: neurons; :param fan_in: F; :param out_bits: output code bits
    :param degree: D; :param sub_neurons: A (poly_add); :param hidden: N (neuralut)
    """

    def __init__(self, kind, width, fan_in, out_bits, degree=0, sub_neurons=0, hidden=0):
        self.kind = KINDS.get(kind, kind) if isinstance(kind, str) else int(kind)
        if isinstance(kind, str) and kind not in KINDS:
            raise ValueError("unknown layer kind %r (one of %s)" % (kind, ", ".join(KINDS)))
        self.width, self.fan_in, self.out_bits = width, fan_in, out_bits
        self.degree, self.sub_neurons, self.hidden = degree, sub_neurons, hidden

    def _desc(self):
        u32 = ctypes.c_uint32
        fields = [_to_int(self.kind, ctypes.c_int32, "Layer kind")]
        for name in ("width", "fan_in", "out_bits", "degree", "sub_neurons", "hidden"):
            fields.append(_to_int(getattr(self, name), u32, "Layer " + name))
        return LayerDesc(ctypes.sizeof(LayerDesc), *fields, 0)

    @classmethod
    def _from_desc(cls, d):
        return cls(d.kind, d.width, d.fan_in, d.out_bits, d.degree, d.sub_neurons, d.hidden)

    def __repr__(self):
        names = {v: k for k, v in KINDS.items()}
        return ("Layer(%r, width=%d, fan_in=%d, out_bits=%d, degree=%d, sub_neurons=%d, "
                "hidden=%d)" % (names.get(self.kind, self.kind), self.width, self.fan_in,
                                self.out_bits, self.degree, self.sub_neurons, self.hidden))

    def __eq__(self, other):
        return isinstance(other, Layer) and repr(self) == repr(other)


class Model(_Handle):
    """A model: layers, connectivity, parameters, BatchNorm statistics.

    Create one with ``Model(ctx, n_inputs, input_bits, layers)`` (a list of
    :class:`Layer`), :meth:`from_preset`, :meth:`load` or :meth:`deserialize`.
    """

    _owner = None
    _trainers = ()

    def __init__(self, ctx, n_inputs, input_bits, layers):
        h = ctypes.c_void_p()
        _check(_c.splut_model_create(ctx._live(), n_inputs, input_bits, ctypes.byref(h)),
               ctx._h, "splut_model_create")
        self._adopt(h.value, ctx)
        try:
            for layer in layers:
                desc = layer._desc() if isinstance(layer, Layer) else Layer(**layer)._desc()
                _check(_c.splut_model_add_layer(self._live(), ctypes.byref(desc)), self._ctx_h,
                       "splut_model_add_layer")
            _check(_c.splut_model_build(self._live()), self._ctx_h, "splut_model_build")
        except BaseException:
            self.close()
            raise

    def _adopt(self, handle, ctx, owner=None):
        self._h = handle
        self._owner = owner  # the Trainer, for its network in training (borrowed)
        self._ctx_h = _c.splut_model_ctx(handle)
        self.context = ctx if ctx is not None else Context._borrow(self._ctx_h)
        self._trainers = []

    def _live(self):
        """The handle; for a trainer's network in training also a check that the
        trainer is open and still trains this network (the switch epoch frees
        the surrogate, compaction replaces it)."""
        h = _Handle._live(self)
        owner = self._owner
        if owner is not None and (not owner._h or
                                  _c.splut_trainer_model_in_training(owner._h) != h):
            raise Error(E_STATE, "the trainer was closed or has replaced its network in "
                        "training (switch epoch); read model_in_training again", "Model")
        return h

    @classmethod
    def _wrap(cls, handle, ctx, owner=None):
        obj = cls.__new__(cls)
        obj._adopt(handle, ctx, owner)
        return obj

    @classmethod
    def from_preset(cls, ctx, name):
        """A built preset (see :func:`presets`)."""
        h = ctypes.c_void_p()
        _check(_c.splut_model_create_preset(ctx._live(), name.encode(), ctypes.byref(h)),
               ctx._h, "splut_model_create_preset")
        return cls._wrap(h.value, ctx)

    @classmethod
    def from_arch(cls, ctx, spec):
        """A built model from an architecture string such as
        ``"784:2 add:256:F6:b2:A2 linear:10:F6:b2"`` (grammar: ``splut_model_create_arch``).

        :raises Error: ``E_INVALID`` naming the token that does not parse
        """
        if not isinstance(spec, str):
            raise TypeError("the architecture is a str, not %s" % type(spec).__name__)
        h = ctypes.c_void_p()
        _check(_c.splut_model_create_arch(ctx._live(), spec.encode(), ctypes.byref(h)),
               ctx._h, "splut_model_create_arch")
        return cls._wrap(h.value, ctx)

    @classmethod
    def load(cls, ctx, path):
        """Load a model file (or the model part of a trainer file)."""
        h = ctypes.c_void_p()
        _check(_c.splut_model_load(ctx._live(), _b(path), ctypes.byref(h)), ctx._h,
               "splut_model_load")
        return cls._wrap(h.value, ctx)

    @classmethod
    def from_checkpoint(cls, ctx, path):
        """The live model stored in a run checkpoint (:meth:`Run.save_checkpoint`)."""
        h = ctypes.c_void_p()
        _check(_c.splut_run_checkpoint_model(ctx._live(), _b(path), ctypes.byref(h)), ctx._h,
               "splut_run_checkpoint_model")
        return cls._wrap(h.value, ctx)

    @classmethod
    def deserialize(cls, ctx, data):
        """A model from bytes written by :meth:`serialize`."""
        buf = bytes(data)
        h = ctypes.c_void_p()
        _check(_c.splut_model_deserialize(ctx._live(), buf, len(buf), ctypes.byref(h)),
               ctx._h, "splut_model_deserialize")
        return cls._wrap(h.value, ctx)

    def close(self):
        """Destroy the model (and first every trainer of it still open)."""
        for t in list(self._trainers):
            t.close()
        if self._h and self._owner is None:
            _c.splut_model_destroy(self._h)
        self._h = None

    def clone(self):
        """Deep copy (parameters, state, connectivity, metadata)."""
        h = ctypes.c_void_p()
        _check(_c.splut_model_clone(self._live(), ctypes.byref(h)), self._ctx_h,
               "splut_model_clone")
        return Model._wrap(h.value, self.context)

    # copy.copy and copy.deepcopy clone (sharing the Context); pickle stores the
    # model file and the context's settings.
    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        return self.clone()

    def __reduce_ex__(self, protocol):
        return _unpickle_model, (self.serialize(), self.context._settings())

    def save(self, path):
        """Write the model file atomically."""
        _check(_c.splut_model_save(self._live(), _b(path)), self._ctx_h, "splut_model_save")

    def serialize(self):
        """The model file as bytes."""
        need = ctypes.c_size_t()
        st = _c.splut_model_serialize(self._live(), None, 0, need)
        if st not in (OK, E_BUFFER_TOO_SMALL):
            _check(st, self._ctx_h, "splut_model_serialize")
        buf = ctypes.create_string_buffer(need.value)
        _check(_c.splut_model_serialize(self._live(), buf, need.value, need), self._ctx_h,
               "splut_model_serialize")
        return buf.raw[:need.value]

    def __repr__(self):
        try:
            self._live()
        except Error as exc:
            return "<sparselut.Model (%s)>" % ("closed" if not self._h else exc.message)
        return "<sparselut.Model inputs=%d x %d bits, layers=%r>" % (
            self.num_inputs, self.input_bits, self.layers)

    # -- properties
    num_inputs = property(lambda self: int(_c.splut_model_num_inputs(self._live())),
                          doc="Number of input features.")
    input_bits = property(lambda self: int(_c.splut_model_input_bits(self._live())),
                          doc="Bits per input code.")
    num_layers = property(lambda self: int(_c.splut_model_num_layers(self._live())),
                          doc="Number of layers.")
    num_outputs = property(lambda self: int(_c.splut_model_num_outputs(self._live())),
                           doc="Width of the last layer.")
    num_params = property(lambda self: int(_c.splut_model_num_params(self._live())),
                          doc="Number of trainable scalars.")

    def layer(self, index):
        """Description of layer ``index`` as a :class:`Layer`."""
        desc = LayerDesc(ctypes.sizeof(LayerDesc))
        _check(_c.splut_model_layer(self._live(), index, ctypes.byref(desc)), self._ctx_h,
               "splut_model_layer")
        return Layer._from_desc(desc)

    @property
    def layers(self):
        """Every layer as a list of :class:`Layer`."""
        return [self.layer(i) for i in range(self.num_layers)]

    def get(self, name):
        """Read a model parameter by name (``"input_mode"``, ``"recipe_lr"``, …)."""
        return _get_param(self._live(), self._ctx_h, name, _c.splut_model_get_int,
                          _c.splut_model_get_double, "splut_model")

    def set(self, name, value):
        """Set a model parameter by name; int or double chosen from its type."""
        _set_param(self._live(), self._ctx_h, name, value, _c.splut_model_set_int,
                   _c.splut_model_set_double, "splut_model")

    # -- connectivity
    def get_inputs(self, layer, neuron):
        """Sorted input indices (A·F) of a neuron, as a list."""
        n = ctypes.c_size_t()
        st = _c.splut_model_get_inputs(self._live(), layer, neuron, None, 0, n)
        if st not in (OK, E_BUFFER_TOO_SMALL):
            _check(st, self._ctx_h, "splut_model_get_inputs")
        buf = (ctypes.c_uint32 * max(n.value, 1))()
        _check(_c.splut_model_get_inputs(self._live(), layer, neuron, buf, n.value, n),
               self._ctx_h, "splut_model_get_inputs")
        return list(buf[:n.value])

    def set_inputs(self, layer, neuron, inputs):
        """Replace a neuron's input list (strictly ascending, A·F entries)."""
        vals = [int(v) for v in inputs]
        buf = (ctypes.c_uint32 * max(len(vals), 1))(*vals)
        _check(_c.splut_model_set_inputs(self._live(), layer, neuron, buf, len(vals)),
               self._ctx_h, "splut_model_set_inputs")

    def randomize_connectivity(self, seed):
        """Redraw random connectivity of every layer from ``seed``."""
        _check(_c.splut_model_randomize_connectivity(self._live(), seed), self._ctx_h,
               "splut_model_randomize_connectivity")

    def prune(self, layer, neuron, slot):
        """Zero every weight depending on input ``slot`` of a neuron."""
        _check(_c.splut_model_prune_input(self._live(), layer, neuron, slot), self._ctx_h,
               "splut_model_prune_input")

    def grow(self, layer, neuron, slot, input, weight):
        """Rewire input ``slot`` of a neuron to ``input`` with degree-1 ``weight``."""
        _check(_c.splut_model_grow_input(self._live(), layer, neuron, slot, input, weight),
               self._ctx_h, "splut_model_grow_input")

    def validate(self):
        """Check every invariant; raises :class:`Error` on a violation."""
        _check(_c.splut_model_validate(self._live()), self._ctx_h, "splut_model_validate")

    def import_masks(self, directory):
        """Replace the connectivity by SparseLUT CSV masks (``mask_layer_<k>.csv``)."""
        _check(_c.splut_model_import_masks(self._live(), _b(directory)), self._ctx_h,
               "splut_model_import_masks")

    def export_masks(self, directory):
        """Write the connectivity as SparseLUT CSV masks into ``directory``."""
        _check(_c.splut_model_export_masks(self._live(), _b(directory)), self._ctx_h,
               "splut_model_export_masks")

    # -- parameters vector
    @property
    def params(self):
        """The trainable parameter vector (float32 array or list), a copy."""
        ptr, holder = _arrays.new_buffer(ctypes.c_float, self.num_params, 0)
        _check(_c.splut_model_params(self._live(), ptr, 1), self._ctx_h, "splut_model_params")
        return _arrays.result(holder)

    @params.setter
    def params(self, values):
        ptr, n, keep = _arrays.to_c(values, ctypes.c_float, 0, vector=True)
        if n != self.num_params:
            raise Error(E_INVALID, "need %d parameters, got %d" % (self.num_params, n),
                        "splut_model_params")
        _check(_c.splut_model_params(self._live(), ptr, 0), self._ctx_h, "splut_model_params")
        del keep

    # -- inference
    def input_codes(self, x):
        """Layer-0 quantiser: features (n × num_inputs) → input codes (n × num_inputs)."""
        xp, n, keep = _arrays.to_c(x, ctypes.c_float, self.num_inputs)
        out, holder = _arrays.new_buffer(ctypes.c_uint16, n, self.num_inputs)
        _check(_c.splut_model_input_codes(self._live(), xp, n, out), self._ctx_h,
               "splut_model_input_codes")
        del keep
        return _arrays.result(holder)

    def forward_codes(self, codes):
        """Eval-mode network: input codes (n × num_inputs) → output codes (n × num_outputs)."""
        cp, n, keep = _arrays.to_c(codes, ctypes.c_uint16, self.num_inputs)
        out, holder = _arrays.new_buffer(ctypes.c_uint16, n, self.num_outputs)
        _check(_c.splut_model_forward_codes(self._live(), cp, n, out), self._ctx_h,
               "splut_model_forward_codes")
        del keep
        return _arrays.result(holder)

    def predict(self, x, return_codes=False):
        """Class index per row of features; with ``return_codes`` also the output codes."""
        xp, n, keep = _arrays.to_c(x, ctypes.c_float, self.num_inputs)
        pred, pred_holder = _arrays.new_buffer(ctypes.c_int32, n, 0)
        codes, codes_holder = (_arrays.new_buffer(ctypes.c_uint16, n, self.num_outputs)
                               if return_codes else (None, None))
        _check(_c.splut_model_predict(self._live(), xp, n, pred, codes), self._ctx_h,
               "splut_model_predict")
        del keep
        if return_codes:
            return _arrays.result(pred_holder), _arrays.result(codes_holder)
        return _arrays.result(pred_holder)

    def classify_codes(self, out_codes):
        """Class index per row of output codes (same rule as :meth:`predict`)."""
        cp, n, keep = _arrays.to_c(out_codes, ctypes.c_uint16, self.num_outputs)
        pred, holder = _arrays.new_buffer(ctypes.c_int32, n, 0)
        _check(_c.splut_model_classify_codes(self._live(), cp, n, pred), self._ctx_h,
               "splut_model_classify_codes")
        del keep
        return _arrays.result(holder)

    def output_values(self, out_codes):
        """The values the classifier compares (the logits), one per output code."""
        cp, n, keep = _arrays.to_c(out_codes, ctypes.c_uint16, self.num_outputs)
        vals, holder = _arrays.new_buffer(ctypes.c_float, n, self.num_outputs)
        _check(_c.splut_model_output_values(self._live(), cp, n, vals), self._ctx_h,
               "splut_model_output_values")
        del keep
        return _arrays.result(holder)

    def tables(self):
        """Enumerate the truth tables (:class:`Tables`)."""
        return Tables(self)


def _unpickle_model(data, settings):
    """A Model from :meth:`Model.__reduce_ex__`: its bytes in a new Context."""
    return Model.deserialize(Context(**settings), data)


class Trainer(_Handle):
    """AdamW quantisation-aware training of one :class:`Model` (which it modifies).

    Hyper-parameters are read and written by name: ``trainer.set("learning_rate",
    1e-2)``, ``trainer.get("step")``; learned connectivity through
    ``"connectivity"``, ``"steps_per_epoch"``, ``"switch_epoch"``, ``"conn_tau"``, …
    (see :func:`param_names`).
    """

    def __init__(self, model, **params):
        h = ctypes.c_void_p()
        _check(_c.splut_trainer_create(model._live(), ctypes.byref(h)), model._ctx_h,
               "splut_trainer_create")
        self._h = h.value
        self.model = model
        self._ctx_h = model._ctx_h
        model._trainers.append(self)
        for name, value in params.items():
            self.set(name, value)

    def close(self):
        """Destroy the trainer (the model stays)."""
        if self._h:
            _c.splut_trainer_destroy(self._h)
            self._h = None
            if self in self.model._trainers:
                self.model._trainers.remove(self)

    def get(self, name):
        """Read a trainer parameter by name."""
        return _get_param(self._live(), self._ctx_h, name, _c.splut_trainer_get_int,
                          _c.splut_trainer_get_double, "splut_trainer")

    def set(self, name, value):
        """Set a trainer parameter by name."""
        _set_param(self._live(), self._ctx_h, name, value, _c.splut_trainer_set_int,
                   _c.splut_trainer_set_double, "splut_trainer")

    def _batch(self, x, labels):
        xp, n, kx = _arrays.to_c(x, ctypes.c_float, self.model.num_inputs)
        lp, nl, kl = _arrays.to_c(labels, ctypes.c_int32, 0, vector=True)
        if nl != n:
            raise Error(E_INVALID, "%d feature rows but %d labels" % (n, nl), "Trainer")
        return xp, lp, n, (kx, kl)

    def step(self, x, labels):
        """One optimiser step on a batch (n ≥ 2); returns the batch loss before the update."""
        xp, lp, n, keep = self._batch(x, labels)
        loss = ctypes.c_double()
        _check(_c.splut_trainer_step(self._live(), xp, lp, n, loss), self._ctx_h,
               "splut_trainer_step")
        del keep
        return loss.value

    def loss_grad(self, x, labels, grad=True):
        """Mean loss and (if ``grad``) the gradient vector, without updating anything."""
        xp, lp, n, keep = self._batch(x, labels)
        loss = ctypes.c_double()
        gp, holder = (_arrays.new_buffer(ctypes.c_float, self.model.num_params, 0)
                      if grad else (None, None))
        _check(_c.splut_trainer_loss_grad(self._live(), xp, lp, n, loss, gp), self._ctx_h,
               "splut_trainer_loss_grad")
        del keep
        return (loss.value, _arrays.result(holder)) if grad else loss.value

    def _soft_batch(self, x, targets):
        xp, n, kx = _arrays.to_c(x, ctypes.c_float, self.model.num_inputs)
        tp, nt, kt = _arrays.to_c(targets, ctypes.c_float, self.model.num_outputs)
        if nt != n:
            raise Error(E_INVALID, "%d feature rows but %d target rows" % (n, nt), "Trainer")
        return xp, tp, n, (kx, kt)

    def step_soft(self, x, targets):
        """One optimiser step towards soft targets (n × num_outputs probabilities,
        rows summing to 1); returns the batch loss before the update."""
        xp, tp, n, keep = self._soft_batch(x, targets)
        loss = ctypes.c_double()
        _check(_c.splut_trainer_step_soft(self._live(), xp, tp, n, loss), self._ctx_h,
               "splut_trainer_step_soft")
        del keep
        return loss.value

    def loss_grad_soft(self, x, targets, grad=True):
        """Mean soft-target loss and (if ``grad``) its gradient, without updating anything."""
        xp, tp, n, keep = self._soft_batch(x, targets)
        loss = ctypes.c_double()
        gp, holder = (_arrays.new_buffer(ctypes.c_float, self.model.num_params, 0)
                      if grad else (None, None))
        _check(_c.splut_trainer_loss_grad_soft(self._live(), xp, tp, n, loss, gp), self._ctx_h,
               "splut_trainer_loss_grad_soft")
        del keep
        return (loss.value, _arrays.result(holder)) if grad else loss.value

    def calibrate_bn(self, x, batch=128):
        """Replace every BatchNorm running mean/variance by its estimate over ``x``.

        Train-mode forward passes run on consecutive batches of ``batch`` rows
        of ``x`` (n × num_inputs features, n ≥ 2; a last batch of one row is
        skipped), and each running statistic becomes the average over the
        batches of the batch mean / unbiased batch variance. Parameters and
        optimiser state are untouched; on error nothing changes. ``batch``
        (≥ 2) is best the training batch size. Not allowed while learned
        connectivity is in phase 1 (``E_STATE``).
        """
        if batch < 0:
            raise ValueError("batch %d is negative" % batch)
        xp, n, keep = _arrays.to_c(x, ctypes.c_float, self.model.num_inputs)
        _check(_c.splut_trainer_calibrate_bn(self._live(), xp, n, batch), self._ctx_h,
               "splut_trainer_calibrate_bn")
        del keep

    def connections(self, layer):
        """``(active, candidates)`` connection counts of a layer."""
        active, cand = ctypes.c_uint64(), ctypes.c_uint64()
        _check(_c.splut_trainer_connections(self._live(), layer, active, cand), self._ctx_h,
               "splut_trainer_connections")
        return active.value, cand.value

    @property
    def model_in_training(self):
        """The network being updated (phase-1 surrogate or the model); owned by the trainer.

        A surrogate wrapper keeps the trainer alive but raises :class:`Error`
        (``E_STATE``) once the trainer is closed or no longer trains it (a step
        reached the switch epoch, or compaction replaced it): read this
        property again after every step."""
        h = _c.splut_trainer_model_in_training(self._live())
        if h == self.model._h:
            return self.model
        return Model._wrap(h, self.model.context, owner=self)

    def save(self, path):
        """Save optimiser state and model (bit-exact resume)."""
        _check(_c.splut_trainer_save(self._live(), _b(path)), self._ctx_h, "splut_trainer_save")

    def load(self, path):
        """Restore a state written by :meth:`save` (model parameters included)."""
        _check(_c.splut_trainer_load(self._live(), _b(path)), self._ctx_h, "splut_trainer_load")



def _make_dataset(ctx_h, data, features):
    """A C dataset (a copy) from ``(x, y)`` or ``(x, y, (width, height, background))``,
    or the handle of an object that has one (``._h``); returns (handle, owned)."""
    if hasattr(data, "_h"):
        return _c.splut_dataset_ref(data._h), True
    x, y = data[0], data[1]
    image = data[2] if len(data) > 2 else None
    xp, n, kx = _arrays.to_c(x, ctypes.c_float, features)
    yp, ny, ky = _arrays.to_c(y, ctypes.c_int32, 0, vector=True)
    if n != ny:
        raise Error(E_INVALID, "%d feature rows but %d labels" % (n, ny), "Run")
    h = ctypes.c_void_p()
    _check(_c.splut_dataset_create(ctx_h, n, features, xp, yp, 0, ctypes.byref(h)), ctx_h,
           "splut_dataset_create")
    del kx, ky
    if image is not None:
        st = _c.splut_dataset_set_image(h.value, int(image[0]), int(image[1]), float(image[2]))
        if st != OK:
            _c.splut_dataset_destroy(h.value)
            _check(st, ctx_h, "splut_dataset_set_image")
    return h.value, True


def _record(rec):
    """A history record as a dict."""
    out = {"epoch": rec.epoch, "loss": rec.loss, "train_accuracy": rec.train_accuracy,
           "test_accuracy": rec.test_accuracy, "live_test_accuracy": rec.live_test_accuracy,
           "seconds": rec.seconds}
    out["active_connections"] = [int(rec.active[i]) for i in range(rec.n_layers)]
    return out


class Run(_Handle):
    """A whole training run (``splut_run``): what ``sparselut train`` does.

    ``Run(model, train, test=None, **params)`` trains ``model`` in place on
    ``train`` (``(x, y)``, or ``(x, y, (width, height, background))`` for
    images, which the image shift needs), evaluating on ``test`` after every
    epoch. Keyword parameters are run keys (``epochs``, ``batch``, ``seed``
    (= ``run_seed``), ``restart_epochs``, ``ema``, ``bn_calibrate``,
    ``bn_freeze``, ``keep_best``, ``augment_shift``, ``distill_alpha``,
    ``distill_temperature``) or trainer keys (``learning_rate``,
    ``connectivity``, ``switch_epoch``, ``conn_*``, …), and also:

    * ``teacher`` – a :class:`Model` to distil from
    * ``checkpoint`` – a file written after every epoch (:meth:`resume` reads it)
    * ``progress`` – ``callback(info)`` after every step and epoch; ``info`` is a
      dict (``kind`` ``"step"`` or ``"epoch"``, ``epoch``, ``batch``, ``loss``,
      ``samples_per_s``, ``eta_seconds``, ``record`` at epochs); returning
      ``True`` stops the run (:class:`Error` ``E_CANCELLED``; :meth:`fit`
      continues exactly where it stopped)
    * ``transform`` – ``callback(x, label, seed, epoch, position)`` may change
      the sample ``x`` (a float32 array) in place; it must be a pure function
      of its arguments for the run to stay deterministic

    Use :meth:`fit` to train to the end or :meth:`epoch` for one epoch;
    :attr:`history` lists every epoch and :attr:`final_model` is what
    ``sparselut train --out`` would write.
    """

    def __init__(self, model, train, test=None, teacher=None, checkpoint=None, progress=None,
                 transform=None, **params):
        self.model = model
        self._ctx_h = model._ctx_h
        self._teacher = teacher
        self._error = None
        self._progress = self._transform = None
        features = model.num_inputs
        datasets = []
        try:
            datasets.append(_make_dataset(self._ctx_h, train, features)[0])
            if test is not None:
                datasets.append(_make_dataset(self._ctx_h, test, features)[0])
            h = ctypes.c_void_p()
            _check(_c.splut_run_create(model._live(), datasets[0],
                                       datasets[1] if test is not None else None,
                                       ctypes.byref(h)), self._ctx_h, "splut_run_create")
        finally:
            for d in datasets:  # the run holds its own references
                _c.splut_dataset_destroy(d)
        self._h = h.value
        model._trainers.append(self)  # closed before the model
        try:
            for name, value in params.items():
                self.set("run_seed" if name == "seed" else name, value)
            if teacher is not None:
                _check(_c.splut_run_set_teacher(self._h, teacher._live()), self._ctx_h,
                       "splut_run_set_teacher")
            if checkpoint is not None:
                _check(_c.splut_run_set_checkpoint(self._h, _b(checkpoint)), self._ctx_h,
                       "splut_run_set_checkpoint")
            if progress is not None:
                self.set_progress(progress)
            if transform is not None:
                self.set_transform(transform)
        except BaseException:
            self.close()
            raise

    def close(self):
        """Destroy the run (the model stays, trained so far)."""
        if self._h:
            _c.splut_run_destroy(self._h)
            self._h = None
            if self in self.model._trainers:
                self.model._trainers.remove(self)

    def get(self, name):
        """Read a run or trainer parameter by name."""
        return _get_param(self._live(), self._ctx_h, name, _c.splut_run_get_int,
                          _c.splut_run_get_double, "splut_run")

    def set(self, name, value):
        """Set a run or trainer parameter by name (before the first epoch)."""
        _set_param(self._live(), self._ctx_h, name, value, _c.splut_run_set_int,
                   _c.splut_run_set_double, "splut_run")

    def _call(self, fn, name):
        self._error = None
        st = fn(self._live())
        if self._error is not None:  # a Python callback raised: re-raise it here
            err, self._error = self._error, None
            raise err
        _check(st, self._ctx_h, name)

    def set_progress(self, callback):
        """Install ``callback(info)`` (None removes it); a true result stops the run."""
        if callback is None:
            fn = ctypes.cast(None, _PROGRESS_FN)
        else:
            def fn_py(_user, p):
                try:
                    info = p.contents
                    d = {"kind": "epoch" if info.kind == 1 else "step", "epoch": info.epoch,
                         "epochs": info.epochs, "batch": info.batch, "batches": info.batches,
                         "loss": info.loss, "samples_per_s": info.samples_per_s,
                         "eta_seconds": info.eta_seconds}
                    if info.record:
                        d["record"] = _record(info.record.contents)
                    return 1 if callback(d) else 0
                except BaseException as exc:  # never unwind through C
                    self._error = exc
                    return 1
            fn = _PROGRESS_FN(fn_py)
        _check(_c.splut_run_set_progress(self._live(), fn, None), self._ctx_h,
               "splut_run_set_progress")
        self._progress = fn  # the C side keeps only the pointer

    def set_transform(self, callback):
        """Install ``callback(x, label, seed, epoch, position)`` (None removes it)."""
        if callback is None:
            fn = ctypes.cast(None, _TRANSFORM_FN)
        else:
            def fn_py(_user, x, features, label, seed, epoch, position):
                try:
                    callback(_arrays.view_mutable(x, features), label, seed, epoch, position)
                    return 0
                except BaseException as exc:  # never unwind through C
                    self._error = exc
                    return 1
            fn = _TRANSFORM_FN(fn_py)
        _check(_c.splut_run_set_transform(self._live(), fn, None), self._ctx_h,
               "splut_run_set_transform")
        self._transform = fn

    def epoch(self):
        """Train one epoch (or the rest of one a callback stopped); returns its record."""
        self._call(_c.splut_run_epoch, "splut_run_epoch")
        return self.history[-1]

    def fit(self):
        """Train the remaining epochs; returns :attr:`history`."""
        self._call(_c.splut_run_fit, "splut_run_fit")
        return self.history

    def record(self, epoch):
        """The record of epoch ``epoch`` (1-based) as a dict."""
        rec = _RunRecord(ctypes.sizeof(_RunRecord))
        _check(_c.splut_run_history(self._live(), epoch, ctypes.byref(rec)), self._ctx_h,
               "splut_run_history")
        return _record(rec)

    @property
    def history(self):
        """Every finished epoch as a dict (loss, accuracies, seconds, connections)."""
        return [self.record(e) for e in range(1, self.get("epochs_done") + 1)]

    def _model(self, fn):
        """A wrapper holding its own reference (splut_model_ref), so it stays
        valid after later epochs replace the run's copy and after close()."""
        h = fn(self._live())
        if not h:
            return None
        if h == self.model._h:
            return self.model
        return Model._wrap(_c.splut_model_ref(h), self.model.context)

    evaluated_model = property(lambda self: self._model(_c.splut_run_evaluated_model),
                               doc="The model the last epoch evaluated (a snapshot).")
    best_model = property(lambda self: self._model(_c.splut_run_best_model),
                          doc="The best epoch's model with keep_best (a snapshot).")
    final_model = property(lambda self: self._model(_c.splut_run_final_model),
                           doc="The result: best with keep_best, else the evaluated model.")

    def save_checkpoint(self, path):
        """Write everything a resume needs to ``path`` (between epochs)."""
        _check(_c.splut_run_save_checkpoint(self._live(), _b(path)), self._ctx_h,
               "splut_run_save_checkpoint")

    def resume(self, path):
        """Continue from a checkpoint (before the first epoch of this object)."""
        _check(_c.splut_run_resume(self._live(), _b(path)), self._ctx_h, "splut_run_resume")


class Tables(_Handle):
    """The enumerated truth tables of a model: LUT-mode inference, files, HDL.

    ``Tables(model)`` enumerates (multi-threaded); :meth:`load` reads a tables
    file. The tables do not depend on the model afterwards.
    """

    def __init__(self, model):
        h = ctypes.c_void_p()
        _check(_c.splut_tables_create(model._live(), ctypes.byref(h)), model._ctx_h,
               "splut_tables_create")
        self._adopt(h.value, model._ctx_h)

    def _adopt(self, handle, ctx_handle):
        # The C tables hold their own context reference (so do views, through
        # the resource); the Context object only gives Python access to it.
        self._res = _Resource(handle, _c.splut_tables_destroy)
        self._h = handle
        self.context = Context._borrow(ctx_handle)
        self._ctx_h = ctx_handle

    @classmethod
    def load(cls, ctx, path):
        """Read a tables file written by :meth:`save`."""
        h = ctypes.c_void_p()
        _check(_c.splut_tables_load(ctx._live(), _b(path), ctypes.byref(h)), ctx._h,
               "splut_tables_load")
        obj = cls.__new__(cls)
        obj._adopt(h.value, ctx._h)
        return obj

    def close(self):
        """Close the tables. Their memory is freed once no view returned by
        :meth:`data` and no :meth:`rows` iterator refers to it any more."""
        if self._h:
            self._h = None
            self._res = None
            self.context.close()

    @property
    def num_layers(self):
        """Number of layers."""
        return int(_c.splut_tables_num_layers(self._live()))

    def layer(self, index):
        """``(neurons, sub_neurons, in_width)`` of a layer (sub_neurons 0 without adder)."""
        vals = [ctypes.c_uint32() for _ in range(3)]
        _check(_c.splut_tables_layer(self._live(), index, *vals), self._ctx_h,
               "splut_tables_layer")
        return tuple(v.value for v in vals)

    def io(self):
        """Dict with ``inputs``, ``input_bits``, ``outputs``, ``output_bits``."""
        vals = [ctypes.c_uint32() for _ in range(4)]
        _check(_c.splut_tables_io(self._live(), *vals), self._ctx_h, "splut_tables_io")
        return dict(zip(("inputs", "input_bits", "outputs", "output_bits"),
                        (v.value for v in vals)))

    def info(self, layer, neuron, table=0):
        """Shape of a table: dict with ``in_fields``, ``in_bits``, ``out_bits``, ``entries``.

        ``table`` is the sub-neuron index (0 for plain kinds) or :data:`TABLE_ADDER`.
        """
        info = TableInfo(ctypes.sizeof(TableInfo))
        _check(_c.splut_tables_info(self._live(), layer, neuron, table, ctypes.byref(info)),
               self._ctx_h, "splut_tables_info")
        return {"in_fields": info.in_fields, "in_bits": info.in_bits,
                "out_bits": info.out_bits, "entries": info.entries}

    def data(self, layer, neuron, table=0):
        """Entries of a table indexed by address: a read-only numpy view (no copy)
        that keeps the tables' memory alive even after :meth:`close`, or a list
        without numpy."""
        entries = self.info(layer, neuron, table)["entries"]
        ptr = ctypes.POINTER(ctypes.c_uint16)()
        _check(_c.splut_tables_data(self._live(), layer, neuron, table, ctypes.byref(ptr)),
               self._ctx_h, "splut_tables_data")
        return _arrays.view(ptr, entries, ctypes.c_uint16, self._res)

    def inputs(self, layer, neuron):
        """Input indices of a neuron (A·F, sorted) as a list."""
        ptr = ctypes.POINTER(ctypes.c_uint32)()
        n = ctypes.c_size_t()
        _check(_c.splut_tables_inputs(self._live(), layer, neuron, ctypes.byref(ptr), n),
               self._ctx_h, "splut_tables_inputs")
        return list(ptr[:n.value])

    def rows(self, layer, neuron, table=0):
        """Iterate ``(address, input_codes, output_code)`` over a table in address order.

        The iterator raises :class:`Error` (``E_NULL``) once the tables are closed."""
        res = self._res  # keeps the rows' memory valid until the C iterator is gone
        it = ctypes.c_void_p()
        _check(_c.splut_tt_iter_create(self._live(), layer, neuron, table, ctypes.byref(it)),
               self._ctx_h, "splut_tt_iter_create")
        try:
            fields = self.info(layer, neuron, table)["in_fields"]
            has, addr, out = ctypes.c_int(), ctypes.c_uint64(), ctypes.c_uint16()
            ins = (ctypes.c_uint16 * max(fields, 1))()
            while True:
                self._live()  # closed tables: raise instead of reading on
                _check(_c.splut_tt_iter_next(it, has, addr, ins, fields, out), self._ctx_h,
                       "splut_tt_iter_next")
                if not has.value:
                    return
                yield addr.value, list(ins[:fields]), out.value
        finally:
            _c.splut_tt_iter_destroy(it)
            del res

    def totals(self):
        """``(entries, bits)`` summed over every table."""
        e, b = ctypes.c_uint64(), ctypes.c_uint64()
        _check(_c.splut_tables_totals(self._live(), e, b), self._ctx_h, "splut_tables_totals")
        return e.value, b.value

    def cost(self, layer=None):
        """Estimated LUT6 count of one layer, or of the whole model (``layer=None``)."""
        luts = ctypes.c_uint64()
        _check(_c.splut_tables_cost(self._live(), SIZE_MAX if layer is None else layer, luts),
               self._ctx_h, "splut_tables_cost")
        return luts.value

    def forward(self, codes):
        """LUT-mode inference: input codes (n × inputs) → output codes (n × outputs)."""
        io = self.io()
        cp, n, keep = _arrays.to_c(codes, ctypes.c_uint16, io["inputs"])
        out, holder = _arrays.new_buffer(ctypes.c_uint16, n, io["outputs"])
        _check(_c.splut_tables_forward(self._live(), cp, n, out), self._ctx_h,
               "splut_tables_forward")
        del keep
        return _arrays.result(holder)

    def save(self, path):
        """Write the binary tables file (CRC-checked) atomically."""
        _check(_c.splut_tables_save(self._live(), _b(path)), self._ctx_h, "splut_tables_save")

    def write_text(self, directory):
        """Write ``layer_<l>.txt`` per layer, human-readable, into ``directory``."""
        _check(_c.splut_tables_write_text(self._live(), _b(directory)), self._ctx_h,
               "splut_tables_write_text")

    @staticmethod
    def _opts(prefix, pipeline, full_case, dont_care=False, no_reset=False, input_stage=None):
        pipe = PIPELINES.get(pipeline, pipeline) if isinstance(pipeline, str) else pipeline
        if isinstance(pipeline, str) and pipeline not in PIPELINES:
            raise ValueError("unknown pipeline %r (one of %s)" % (pipeline, ", ".join(PIPELINES)))
        flags = ((HDL_FULL_CASE if full_case else 0) | (HDL_DONT_CARE if dont_care else 0) |
                 (HDL_NO_RESET if no_reset else 0))
        pipe = _to_int(pipe, ctypes.c_int32, "pipeline")
        opts = HdlOpts(ctypes.sizeof(HdlOpts), prefix.encode() if prefix else None, pipe,
                       flags, 0)
        if input_stage is not None:
            if not isinstance(input_stage, InputStage):
                raise TypeError("input_stage must be an InputStage")
            input_stage._fill(opts)
        return opts

    @staticmethod
    def _format(fmt):
        if isinstance(fmt, str):
            if fmt not in FORMATS:
                raise ValueError("unknown format %r (one of %s)" % (fmt, ", ".join(FORMATS)))
            return FORMATS[fmt]
        return int(fmt)

    def emit(self, fmt, directory, prefix=None, pipeline="none", full_case=False,
             dont_care=False, no_reset=False, input_stage=None):
        """Write the design as ``"verilog"``, ``"vhdl"`` or ``"hls"`` into ``directory``.

        ``dont_care`` and ``no_reset`` are SPLUT_HDL_DONT_CARE and SPLUT_HDL_NO_RESET;
        ``input_stage`` (an :class:`InputStage`) makes port M0 take raw features."""
        opts = self._opts(prefix, pipeline, full_case, dont_care, no_reset, input_stage)
        _check(_c.splut_tables_emit(self._live(), self._format(fmt), _b(directory),
                                    ctypes.byref(opts)), self._ctx_h, "splut_tables_emit")

    def emit_testbench(self, fmt, directory, codes, prefix=None, pipeline="none",
                       full_case=False, dont_care=False, no_reset=False):
        """Write test vectors (``<prefix>_in.hex``/``_out.hex``) and a testbench."""
        opts = self._opts(prefix, pipeline, full_case, dont_care, no_reset)
        cp, n, keep = _arrays.to_c(codes, ctypes.c_uint16, self.io()["inputs"])
        _check(_c.splut_tables_emit_testbench(self._live(), self._format(fmt), _b(directory),
                                              ctypes.byref(opts), cp, n),
               self._ctx_h, "splut_tables_emit_testbench")
        del keep

    def emit_testbench_raw(self, fmt, directory, input_stage, raw, codes, prefix=None,
                           pipeline="none", full_case=False, dont_care=False, no_reset=False):
        """Test vectors of raw features and a testbench for a design with ``input_stage``.

        ``raw`` is n × inputs raw integers, ``codes`` the software's input codes for
        them (:meth:`InputStage.software_codes`); the expected outputs come from
        ``codes``, so the simulation checks the comparators against the float path."""
        opts = self._opts(prefix, pipeline, full_case, dont_care, no_reset, input_stage)
        ins = self.io()["inputs"]
        rp, n, keep_r = _arrays.to_c(raw, ctypes.c_int32, ins)
        cp, nc, keep_c = _arrays.to_c(codes, ctypes.c_uint16, ins)
        if nc != n:
            raise ValueError("%d rows of codes for %d rows of raw features" % (nc, n))
        _check(_c.splut_tables_emit_testbench_raw(self._live(), self._format(fmt),
                                                  _b(directory), ctypes.byref(opts), rp, cp, n),
               self._ctx_h, "splut_tables_emit_testbench_raw")
        del keep_r, keep_c

    def fill_dont_cares(self):
        """New :class:`Tables` with the unreachable entries filled as :meth:`emit`
        fills them with ``dont_care=True`` (the ROM contents of that design);
        reachable entries are unchanged."""
        h = ctypes.c_void_p()
        _check(_c.splut_tables_fill_dont_cares(self._live(), ctypes.byref(h)), self._ctx_h,
               "splut_tables_fill_dont_cares")
        obj = Tables.__new__(Tables)
        obj._adopt(h.value, self._ctx_h)
        return obj

    def latency(self, pipeline="none", prefix=None):
        """Clock cycles between input and output of the emitted top level."""
        opts = self._opts(prefix, pipeline, False)
        cycles = ctypes.c_uint32()
        _check(_c.splut_hdl_latency(self._live(), ctypes.byref(opts), cycles), self._ctx_h,
               "splut_hdl_latency")
        return cycles.value


class InputFormat:
    """A raw fixed-point input format (``splut_input_format``; docs/hdl.md, "Input stage").

    ``InputFormat(bits, signed, frac_bits, offset, scale)`` is a FIXED format: raw x
    stands for ``((x / 2**frac_bits) - offset[f]) / scale[f]`` (offset/scale: one value
    per feature, e.g. the train mean and sd of :meth:`Dataset.feature_stats`, or None).
    :meth:`normalize` and :meth:`mnist` give the image formats, :meth:`fit` the format
    chosen from data (``splut_input_format_fit``).
    """

    def __init__(self, bits=8, signed=False, frac_bits=0, offset=None, scale=None):
        self._offset = self._doubles(offset)
        self._scale = self._doubles(scale)
        self._s = _InputFormat(ctypes.sizeof(_InputFormat), int(bits), 1 if signed else 0, 0,
                               int(frac_bits), self._offset, self._scale, 1.0, 0.0, 1.0)

    @staticmethod
    def _doubles(values):
        return None if values is None else (ctypes.c_double * len(values))(*values)

    @classmethod
    def normalize(cls, bits, divisor, mean, std):
        """``((float)x / divisor - mean) / std`` in float32 (torchvision Normalize)."""
        fmt = cls(bits)
        fmt._s.map = 1
        fmt._s.divisor, fmt._s.mean, fmt._s.std = divisor, mean, std
        return fmt

    @classmethod
    def mnist(cls):
        """8-bit pixels as the MNIST loaders present them (255, 0.1307, 0.3081)."""
        return cls.normalize(8, 255.0, 0.1307, 0.3081)

    @classmethod
    def fit(cls, datasets, bits=12, offset=None, scale=None):
        """The format of ``bits`` bits holding every value of ``datasets`` (unstandardised)."""
        datasets = list(datasets)
        if not datasets:
            raise ValueError("fit needs at least one Dataset")
        fmt = cls(bits, offset=offset, scale=scale)
        handles = (ctypes.c_void_p * len(datasets))(*[d._live() for d in datasets])
        _check(_c.splut_input_format_fit(handles, len(datasets), ctypes.byref(fmt._s)),
               datasets[0].context._h, "splut_input_format_fit")
        return fmt

    @property
    def bits(self):
        return self._s.bits

    @property
    def signed(self):
        return bool(self._s.is_signed)

    @property
    def frac_bits(self):
        return self._s.frac_bits

    def value(self, feature, raw):
        """The float the model reads for raw value ``raw`` of feature ``feature``."""
        v = ctypes.c_float()
        _check(_c.splut_input_value(ctypes.byref(self._s), int(feature), int(raw),
                                    ctypes.byref(v)), None, "splut_input_value")
        return v.value


class InputStage:
    """The layer-0 quantiser of ``model`` as comparators on raw inputs of ``fmt``.

    Holds the exact thresholds of ``splut_model_input_thresholds``; pass it to
    :meth:`Tables.emit` and :meth:`Tables.emit_testbench_raw`.
    """

    def __init__(self, model, fmt):
        if not isinstance(fmt, InputFormat):
            raise TypeError("fmt must be an InputFormat")
        n, k = model.num_inputs, (1 << model.input_bits) - 1
        for name, arr in (("offset", fmt._offset), ("scale", fmt._scale)):
            if arr is not None and len(arr) != n:
                raise ValueError("%s has %d values for %d inputs" % (name, len(arr), n))
        self.model, self.format = model, fmt
        self._thr = (ctypes.c_int32 * max(1, n * k))()
        self._codes = (ctypes.c_uint16 * (n * (k + 1)))()
        self._steps = (ctypes.c_uint32 * n)()
        _check(_c.splut_model_input_thresholds(model._live(), ctypes.byref(fmt._s), self._thr,
                                               self._codes, self._steps),
               model._ctx_h, "splut_model_input_thresholds")
        self._k = k

    def _fill(self, opts):
        opts.input = ctypes.pointer(self.format._s)
        opts.input_thresholds = ctypes.cast(self._thr, ctypes.POINTER(ctypes.c_int32))
        opts.input_codes = ctypes.cast(self._codes, ctypes.POINTER(ctypes.c_uint16))
        opts.input_steps = ctypes.cast(self._steps, ctypes.POINTER(ctypes.c_uint32))

    def thresholds(self, feature):
        """Ascending raw thresholds of ``feature`` (where its code changes)."""
        return [self._thr[feature * self._k + i] for i in range(self._steps[feature])]

    def software_codes(self, raw):
        """The model's input codes for rows of raw values (the floats of
        :meth:`InputFormat.value`, then ``splut_model_input_codes``): what the
        hardware comparators must give. One library call per value."""
        rows = [[self.format.value(f, x) for f, x in enumerate(row)] for row in raw]
        return self.model.input_codes(rows)


class _DatasetRef:
    """One C reference to a dataset, dropped when the last array view goes."""

    def __init__(self, handle):
        self.h = _c.splut_dataset_ref(handle)

    def __del__(self):
        try:
            _c.splut_dataset_destroy(self.h)
        except Exception:  # interpreter shutdown
            pass


class Dataset(_Handle):
    """Feature rows with integer labels (``splut_dataset``), immutable.

    ``Dataset(x, y, ctx=None)`` copies an (n, features) float array and n
    labels; :func:`load_dataset` returns loaded ones. ``.x`` and ``.y`` are
    read-only views of the library's memory (numpy) that keep the data alive
    after :meth:`close`; without numpy they are list copies.
    """

    def __init__(self, x, y, ctx=None):
        ctx = ctx if ctx is not None else Context()
        xs = _arrays.np.asarray(x) if _arrays.np is not None else x
        cols = (int(xs.shape[-1]) if _arrays.np is not None and xs.ndim == 2
                else len(x[0]) if x and isinstance(x[0], (list, tuple)) else 0)
        if cols <= 0:
            raise ValueError("x must be a 2-D array of n rows of features")
        px, n, keep_x = _arrays.to_c(x, ctypes.c_float, cols)
        py, ny, keep_y = _arrays.to_c(y, ctypes.c_int32, 0, vector=True)
        if ny != n:
            raise ValueError("%d labels for %d rows" % (ny, n))
        h = ctypes.c_void_p()
        _check(_c.splut_dataset_create(ctx._live(), n, cols, px, py, 0, ctypes.byref(h)),
               ctx._h, "splut_dataset_create")
        del keep_x, keep_y
        self._adopt(h.value, ctx)

    def _adopt(self, handle, ctx):
        self._h = handle
        self.context = ctx

    @classmethod
    def _wrap(cls, handle, ctx):
        obj = cls.__new__(cls)
        obj._adopt(handle, ctx)
        return obj

    def close(self):
        """Drop this handle's reference (views keep their own)."""
        if self._h:
            _c.splut_dataset_destroy(self._h)
            self._h = None

    def __copy__(self):
        return Dataset._wrap(_c.splut_dataset_ref(self._live()), self.context)

    def __deepcopy__(self, memo):
        return self.__copy__()  # immutable: sharing the data is a faithful copy

    def __reduce__(self):
        raise TypeError("Dataset cannot be pickled; pickle its .x and .y arrays")

    def __len__(self):
        return int(_c.splut_dataset_num_samples(self._live()))

    @property
    def num_features(self):
        """Floats per row."""
        return int(_c.splut_dataset_num_features(self._live()))

    @property
    def num_classes(self):
        """1 + the largest label."""
        return int(_c.splut_dataset_num_classes(self._live()))

    @property
    def fingerprint(self):
        """64-bit FNV-1a fingerprint of the contents."""
        return int(_c.splut_dataset_fingerprint(self._live()))

    @property
    def image(self):
        """``(width, height, background)``; (0, 0, 0.0) for a table."""
        w, h, bg = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_float()
        _check(_c.splut_dataset_image(self._live(), w, h, bg), None, "splut_dataset_image")
        return w.value, h.value, bg.value

    def feature_stats(self):
        """Per-feature ``(mean, sd)`` lists: population statistics in double, sd 0 → 1.

        The statistics ``load_dataset(..., standardize=True)`` uses (on the train set).
        """
        f = self.num_features
        mean, sd = (ctypes.c_double * f)(), (ctypes.c_double * f)()
        _check(_c.splut_dataset_feature_stats(self._live(), mean, sd), self.context._h,
               "splut_dataset_feature_stats")
        return list(mean), list(sd)

    def standardize(self, mean, sd):
        """A new :class:`Dataset` with feature f as ``(x - mean[f]) / sd[f]`` (a table)."""
        f = self.num_features
        if len(mean) != f or len(sd) != f:
            raise ValueError("mean and sd need %d values each" % f)
        cm, cs = (ctypes.c_double * f)(*mean), (ctypes.c_double * f)(*sd)
        h = ctypes.c_void_p()
        _check(_c.splut_dataset_standardize(self._live(), cm, cs, ctypes.byref(h)),
               self.context._h, "splut_dataset_standardize")
        return Dataset._wrap(h.value, self.context)

    @property
    def x(self):
        """The (n, features) float32 features (read-only view, or a list of rows)."""
        n, f = len(self), self.num_features
        flat = _arrays.view(_c.splut_dataset_features(self._h), n * f, ctypes.c_float,
                            _DatasetRef(self._h))
        if _arrays.np is None:
            return [flat[i * f:(i + 1) * f] for i in range(n)]
        return flat.reshape(n, f)

    @property
    def y(self):
        """The n int32 labels (read-only view, or a list)."""
        return _arrays.view(_c.splut_dataset_labels(self._live()), len(self), ctypes.c_int32,
                            _DatasetRef(self._h))


def load_dataset(spec, ctx=None, label=None, split=None, seed=None, standardize=False,
                 max_bytes=0):
    """Load a train and a test :class:`Dataset` from a spec string.

    :param spec: ``mnist:DIR``, ``fashion:DIR``, ``csv:TRAIN[,TEST]``, ``jsc:FILE`` or
                 ``unsw:FILE`` (docs/datasets.md)
    :param ctx: :class:`Context` (a new one by default)
    :param label: CSV label column, by name or 0-based index (default: the last)
    :param split: test fraction of a seeded split (default 0.2)
    :param seed: seed of the split permutation (default 42)
    :param standardize: CSV: scale features to train mean 0, std 1
    :param max_bytes: largest accepted file after decompression (0: 4 GiB)
    :returns: ``(train, test)``
    :raises Error: with the loader's message (file, line:column)
    :raises ImportError: libsparselut-data cannot be found
    """
    from . import _data_lib
    dl = _data_lib.lib()
    ctx = ctx if ctx is not None else Context()
    opts = _data_lib.DataOpts(ctypes.sizeof(_data_lib.DataOpts), None, 0.2, 42, 0, 0, 0)
    if label is not None:
        opts.label = str(label).encode()
    if split is not None:
        opts.split = float(split)
        opts.flags |= _data_lib.SPLIT_SET
    if seed is not None:
        if not 0 <= int(seed) <= 0xFFFFFFFF:
            raise ValueError("seed %r outside [0, 2**32-1]" % (seed,))
        opts.seed = int(seed)
    if standardize:
        opts.flags |= _data_lib.STANDARDIZE
    if not 0 <= int(max_bytes) < 2 ** 64:
        raise ValueError("max_bytes %r out of range" % (max_bytes,))
    opts.max_bytes = int(max_bytes)
    tr, te = ctypes.c_void_p(), ctypes.c_void_p()
    _check(dl.splut_data_load(ctx._live(), os.fsencode(spec), ctypes.byref(opts),
                              ctypes.byref(tr), ctypes.byref(te)), ctx._h, "splut_data_load")
    return Dataset._wrap(tr.value, ctx), Dataset._wrap(te.value, ctx)
