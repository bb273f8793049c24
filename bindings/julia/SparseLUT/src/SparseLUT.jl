# SPDX-License-Identifier: Apache-2.0
"""
    SparseLUT

Julia binding of libsparselut (`ccall` over the C API of
`include/sparselut/sparselut.h`). UNTESTED: Julia is not packaged for
Debian 12, so this module has never been run by the project's CI; only the
test `bindings-api-coverage` checks that every C function is bound here by name.

Two layers:
* `SparseLUT.splut_*` — one thin Julia function per C function, same name
  and arguments (pointers as `Ptr`/`Ref`), returning the raw C result;
* `Context`, `Model`, `Trainer`, `Tables` — handles with finalizers and
  `close`, Julia arrays in and out, errors thrown as `SparseLUTError`.

The library is `ENV["SPARSELUT_LIB"]` if set, else `libsparselut` on the
dynamic loader's path.
"""
module SparseLUT

__precompile__(false)  # the library path is read from ENV at load time

export Context, Model, Trainer, Tables, Layer, SparseLUTError
export train_step!, loss_grad, calibrate_bn!, predict, input_codes, forward_codes, classify_codes
export train_step_soft!, loss_grad_soft, output_values
export tables_forward, emit, emit_testbench, latency, presets, version, fill_dont_cares
export Run, fit!, epoch!, history, final_model, save_checkpoint, resume!, checkpoint_model

const libsparselut = get(ENV, "SPARSELUT_LIB", "libsparselut")

# ---------------------------------------------------------------- C structs
"""Mirror of `splut_layer_desc`."""
struct LayerDesc
    size::Csize_t
    kind::Int32
    width::UInt32
    fan_in::UInt32
    out_bits::UInt32
    degree::UInt32
    sub_neurons::UInt32
    hidden::UInt32
    reserved::UInt32
end
LayerDesc() = LayerDesc(sizeof(LayerDesc), 0, 0, 0, 0, 0, 0, 0, 0)

"""Mirror of `splut_table_info`."""
struct TableInfo
    size::Csize_t
    in_fields::UInt32
    in_bits::UInt32
    out_bits::UInt32
    reserved::UInt32
    entries::UInt64
end
TableInfo() = TableInfo(sizeof(TableInfo), 0, 0, 0, 0, 0)

"""Mirror of `splut_hdl_opts`."""
struct HdlOpts
    size::Csize_t
    prefix::Cstring
    pipeline::Int32
    flags::UInt32
    reserved::UInt32
end

"""Mirror of `splut_run_record`."""
struct RunRecord
    size::Csize_t
    epoch::UInt64
    loss::Cdouble
    train_accuracy::Cdouble
    test_accuracy::Cdouble
    live_test_accuracy::Cdouble
    seconds::Cdouble
    n_layers::UInt32
    reserved::UInt32
    active::NTuple{16,UInt64}
end
RunRecord() = RunRecord(sizeof(RunRecord), 0, 0, 0, 0, 0, 0, 0, 0, ntuple(_ -> UInt64(0), 16))

const TABLE_ADDER = UInt32(0xFFFF)
const SIZE_MAX = typemax(Csize_t)
const KINDS = Dict(:linear => 0, :poly => 1, :poly_add => 2, :neuralut => 3)
const FORMATS = Dict(:verilog => 0, :vhdl => 1, :hls => 2)
const PIPELINES = Dict(:none => 0, :layer => 1, :sublayer => 2)

# ------------------------------------------------ one function per C function
# Thin `ccall` wrappers, one per `SPLUT_API` function, same names and arguments.
const H = Ptr{Cvoid}   # any opaque handle
const S = Cint         # splut_status

splut_version_number() = ccall((:splut_version_number, libsparselut), Cuint, ())
splut_version_string() = ccall((:splut_version_string, libsparselut), Cstring, ())
splut_status_str(s) = ccall((:splut_status_str, libsparselut), Cstring, (S,), s)
splut_ctx_create(alloc, out) = ccall((:splut_ctx_create, libsparselut), S, (H, Ref{H}), alloc, out)
splut_ctx_ref(c) = ccall((:splut_ctx_ref, libsparselut), H, (H,), c)
splut_ctx_unref(c) = ccall((:splut_ctx_unref, libsparselut), Cvoid, (H,), c)
splut_ctx_set_log(c, fn, user, lvl) =
    ccall((:splut_ctx_set_log, libsparselut), S, (H, Ptr{Cvoid}, Ptr{Cvoid}, Cint), c, fn, user, lvl)
splut_ctx_last_error(c) = ccall((:splut_ctx_last_error, libsparselut), Cstring, (H,), c)
splut_ctx_copy_last_error(c, buf, cap, need) =
    ccall((:splut_ctx_copy_last_error, libsparselut), S, (H, Ptr{UInt8}, Csize_t, Ref{Csize_t}),
          c, buf, cap, need)
splut_free(c, p) = ccall((:splut_free, libsparselut), Cvoid, (H, Ptr{Cvoid}), c, p)
splut_ctx_set_error(c, st, msg) =
    ccall((:splut_ctx_set_error, libsparselut), Cint, (H, Cint, Cstring), c, st, msg)
splut_param_info(k, t, lo, hi, d) = ccall((:splut_param_info, libsparselut), S,
    (Cint, Ref{Cint}, Ref{Cdouble}, Ref{Cdouble}, Ref{Cdouble}), k, t, lo, hi, d)
splut_param_name(k) = ccall((:splut_param_name, libsparselut), Ptr{UInt8}, (Cint,), k)
splut_param_describe(k, o, f) = ccall((:splut_param_describe, libsparselut), S,
    (Cint, Ref{Cint}, Ref{Cuint}), k, o, f)
splut_param_next(k) = ccall((:splut_param_next, libsparselut), Cint, (Cint,), k)
splut_ctx_set_int(c, k, v) = ccall((:splut_ctx_set_int, libsparselut), S, (H, Cint, Int64), c, k, v)
splut_ctx_get_int(c, k, v) = ccall((:splut_ctx_get_int, libsparselut), S, (H, Cint, Ref{Int64}), c, k, v)

splut_model_create(c, n, b, out) =
    ccall((:splut_model_create, libsparselut), S, (H, UInt32, UInt32, Ref{H}), c, n, b, out)
splut_model_add_layer(m, d) = ccall((:splut_model_add_layer, libsparselut), S, (H, Ref{LayerDesc}), m, d)
splut_model_build(m) = ccall((:splut_model_build, libsparselut), S, (H,), m)
splut_model_create_preset(c, name, out) =
    ccall((:splut_model_create_preset, libsparselut), S, (H, Cstring, Ref{H}), c, name, out)
splut_model_create_arch(c, spec, out) =
    ccall((:splut_model_create_arch, libsparselut), S, (H, Cstring, Ref{H}), c, spec, out)
splut_preset_name(i) = ccall((:splut_preset_name, libsparselut), Ptr{UInt8}, (Csize_t,), i)
splut_model_destroy(m) = ccall((:splut_model_destroy, libsparselut), Cvoid, (H,), m)
splut_model_clone(m, out) = ccall((:splut_model_clone, libsparselut), S, (H, Ref{H}), m, out)
splut_model_ref(m) = ccall((:splut_model_ref, libsparselut), H, (H,), m)
splut_dataset_create(c, n, f, x, y, flags, out) = ccall((:splut_dataset_create, libsparselut), S,
    (H, Csize_t, UInt32, Ptr{Float32}, Ptr{Int32}, Cuint, Ref{H}), c, n, f, x, y, flags, out)
splut_dataset_create_filled(c, n, f, fill, u, out) =
    ccall((:splut_dataset_create_filled, libsparselut), S,
          (H, Csize_t, UInt32, Ptr{Cvoid}, Ptr{Cvoid}, Ref{H}), c, n, f, fill, u, out)
splut_dataset_ref(d) = ccall((:splut_dataset_ref, libsparselut), H, (H,), d)
splut_dataset_destroy(d) = ccall((:splut_dataset_destroy, libsparselut), Cvoid, (H,), d)
splut_dataset_ctx(d) = ccall((:splut_dataset_ctx, libsparselut), H, (H,), d)
splut_dataset_num_samples(d) = ccall((:splut_dataset_num_samples, libsparselut), Csize_t, (H,), d)
splut_dataset_num_features(d) = ccall((:splut_dataset_num_features, libsparselut), UInt32, (H,), d)
splut_dataset_num_classes(d) = ccall((:splut_dataset_num_classes, libsparselut), UInt32, (H,), d)
splut_dataset_features(d) = ccall((:splut_dataset_features, libsparselut), Ptr{Float32}, (H,), d)
splut_dataset_labels(d) = ccall((:splut_dataset_labels, libsparselut), Ptr{Int32}, (H,), d)
splut_dataset_set_image(d, w, h, bg) = ccall((:splut_dataset_set_image, libsparselut), S,
    (H, UInt32, UInt32, Float32), d, w, h, bg)
splut_dataset_image(d, w, h, bg) = ccall((:splut_dataset_image, libsparselut), S,
    (H, Ref{UInt32}, Ref{UInt32}, Ref{Float32}), d, w, h, bg)
splut_dataset_fingerprint(d) = ccall((:splut_dataset_fingerprint, libsparselut), UInt64, (H,), d)
splut_dataset_feature_stats(d, mean, sd) = ccall((:splut_dataset_feature_stats, libsparselut), S,
    (H, Ptr{Float64}, Ptr{Float64}), d, mean, sd)
splut_dataset_standardize(d, mean, sd, out) = ccall((:splut_dataset_standardize, libsparselut), S,
    (H, Ptr{Float64}, Ptr{Float64}, Ref{H}), d, mean, sd, out)
splut_input_format_fit(sets, n, fmt) = ccall((:splut_input_format_fit, libsparselut), S,
    (Ptr{H}, Csize_t, Ptr{Cvoid}), sets, n, fmt)
splut_model_ctx(m) = ccall((:splut_model_ctx, libsparselut), H, (H,), m)
splut_model_num_inputs(m) = ccall((:splut_model_num_inputs, libsparselut), UInt32, (H,), m)
splut_model_input_bits(m) = ccall((:splut_model_input_bits, libsparselut), UInt32, (H,), m)
splut_model_num_layers(m) = ccall((:splut_model_num_layers, libsparselut), Csize_t, (H,), m)
splut_model_num_outputs(m) = ccall((:splut_model_num_outputs, libsparselut), UInt32, (H,), m)
splut_model_num_params(m) = ccall((:splut_model_num_params, libsparselut), Csize_t, (H,), m)
splut_model_layer(m, l, d) =
    ccall((:splut_model_layer, libsparselut), S, (H, Csize_t, Ref{LayerDesc}), m, l, d)
splut_model_set_int(m, k, v) = ccall((:splut_model_set_int, libsparselut), S, (H, Cint, Int64), m, k, v)
splut_model_get_int(m, k, v) = ccall((:splut_model_get_int, libsparselut), S, (H, Cint, Ref{Int64}), m, k, v)
splut_model_set_double(m, k, v) =
    ccall((:splut_model_set_double, libsparselut), S, (H, Cint, Cdouble), m, k, v)
splut_model_get_double(m, k, v) =
    ccall((:splut_model_get_double, libsparselut), S, (H, Cint, Ref{Cdouble}), m, k, v)

splut_model_get_inputs(m, l, n, idx, cap, cnt) = ccall((:splut_model_get_inputs, libsparselut), S,
    (H, Csize_t, UInt32, Ptr{UInt32}, Csize_t, Ref{Csize_t}), m, l, n, idx, cap, cnt)
splut_model_set_inputs(m, l, n, idx, cnt) = ccall((:splut_model_set_inputs, libsparselut), S,
    (H, Csize_t, UInt32, Ptr{UInt32}, Csize_t), m, l, n, idx, cnt)
splut_model_randomize_connectivity(m, seed) =
    ccall((:splut_model_randomize_connectivity, libsparselut), S, (H, UInt64), m, seed)
splut_model_prune_input(m, l, n, slot) =
    ccall((:splut_model_prune_input, libsparselut), S, (H, Csize_t, UInt32, UInt32), m, l, n, slot)
splut_model_grow_input(m, l, n, slot, inp, w) = ccall((:splut_model_grow_input, libsparselut), S,
    (H, Csize_t, UInt32, UInt32, UInt32, Cfloat), m, l, n, slot, inp, w)
splut_model_validate(m) = ccall((:splut_model_validate, libsparselut), S, (H,), m)

splut_model_input_codes(m, x, n, codes) = ccall((:splut_model_input_codes, libsparselut), S,
    (H, Ptr{Cfloat}, Csize_t, Ptr{UInt16}), m, x, n, codes)
splut_model_forward_codes(m, i, n, o) = ccall((:splut_model_forward_codes, libsparselut), S,
    (H, Ptr{UInt16}, Csize_t, Ptr{UInt16}), m, i, n, o)
splut_model_predict(m, x, n, pred, o) = ccall((:splut_model_predict, libsparselut), S,
    (H, Ptr{Cfloat}, Csize_t, Ptr{Int32}, Ptr{UInt16}), m, x, n, pred, o)
splut_model_classify_codes(m, o, n, pred) = ccall((:splut_model_classify_codes, libsparselut), S,
    (H, Ptr{UInt16}, Csize_t, Ptr{Int32}), m, o, n, pred)
splut_model_output_values(m, o, n, v) = ccall((:splut_model_output_values, libsparselut), S,
    (H, Ptr{UInt16}, Csize_t, Ptr{Cfloat}), m, o, n, v)

splut_trainer_create(m, out) = ccall((:splut_trainer_create, libsparselut), S, (H, Ref{H}), m, out)
splut_trainer_destroy(t) = ccall((:splut_trainer_destroy, libsparselut), Cvoid, (H,), t)
splut_trainer_set_int(t, k, v) = ccall((:splut_trainer_set_int, libsparselut), S, (H, Cint, Int64), t, k, v)
splut_trainer_get_int(t, k, v) =
    ccall((:splut_trainer_get_int, libsparselut), S, (H, Cint, Ref{Int64}), t, k, v)
splut_trainer_set_double(t, k, v) =
    ccall((:splut_trainer_set_double, libsparselut), S, (H, Cint, Cdouble), t, k, v)
splut_trainer_get_double(t, k, v) =
    ccall((:splut_trainer_get_double, libsparselut), S, (H, Cint, Ref{Cdouble}), t, k, v)
splut_trainer_step(t, x, y, n, loss) = ccall((:splut_trainer_step, libsparselut), S,
    (H, Ptr{Cfloat}, Ptr{Int32}, Csize_t, Ref{Cdouble}), t, x, y, n, loss)
splut_trainer_loss_grad(t, x, y, n, loss, g) = ccall((:splut_trainer_loss_grad, libsparselut), S,
    (H, Ptr{Cfloat}, Ptr{Int32}, Csize_t, Ref{Cdouble}, Ptr{Cfloat}), t, x, y, n, loss, g)
splut_trainer_step_soft(t, x, p, n, loss) = ccall((:splut_trainer_step_soft, libsparselut), S,
    (H, Ptr{Cfloat}, Ptr{Cfloat}, Csize_t, Ref{Cdouble}), t, x, p, n, loss)
splut_trainer_loss_grad_soft(t, x, p, n, loss, g) =
    ccall((:splut_trainer_loss_grad_soft, libsparselut), S,
          (H, Ptr{Cfloat}, Ptr{Cfloat}, Csize_t, Ref{Cdouble}, Ptr{Cfloat}), t, x, p, n, loss, g)
splut_trainer_calibrate_bn(t, x, n, b) = ccall((:splut_trainer_calibrate_bn, libsparselut), S,
    (H, Ptr{Cfloat}, Csize_t, Csize_t), t, x, n, b)
splut_trainer_connections(t, l, a, c) = ccall((:splut_trainer_connections, libsparselut), S,
    (H, Csize_t, Ref{UInt64}, Ref{UInt64}), t, l, a, c)
splut_trainer_model_in_training(t) = ccall((:splut_trainer_model_in_training, libsparselut), H, (H,), t)
splut_model_params(m, v, get) = ccall((:splut_model_params, libsparselut), S, (H, Ptr{Cfloat}, Cint), m, v, get)

splut_model_save(m, p) = ccall((:splut_model_save, libsparselut), S, (H, Cstring), m, p)
splut_model_load(c, p, out) = ccall((:splut_model_load, libsparselut), S, (H, Cstring, Ref{H}), c, p, out)
splut_model_serialize(m, buf, cap, need) = ccall((:splut_model_serialize, libsparselut), S,
    (H, Ptr{UInt8}, Csize_t, Ref{Csize_t}), m, buf, cap, need)
splut_model_deserialize(c, buf, n, out) = ccall((:splut_model_deserialize, libsparselut), S,
    (H, Ptr{UInt8}, Csize_t, Ref{H}), c, buf, n, out)
splut_trainer_save(t, p) = ccall((:splut_trainer_save, libsparselut), S, (H, Cstring), t, p)
splut_trainer_load(t, p) = ccall((:splut_trainer_load, libsparselut), S, (H, Cstring), t, p)

splut_tables_create(m, out) = ccall((:splut_tables_create, libsparselut), S, (H, Ref{H}), m, out)
splut_tables_destroy(t) = ccall((:splut_tables_destroy, libsparselut), Cvoid, (H,), t)
splut_tables_num_layers(t) = ccall((:splut_tables_num_layers, libsparselut), Csize_t, (H,), t)
splut_tables_layer(t, l, n, a, w) = ccall((:splut_tables_layer, libsparselut), S,
    (H, Csize_t, Ref{UInt32}, Ref{UInt32}, Ref{UInt32}), t, l, n, a, w)
splut_tables_info(t, l, n, k, info) = ccall((:splut_tables_info, libsparselut), S,
    (H, Csize_t, UInt32, UInt32, Ref{TableInfo}), t, l, n, k, info)
splut_tables_data(t, l, n, k, p) = ccall((:splut_tables_data, libsparselut), S,
    (H, Csize_t, UInt32, UInt32, Ref{Ptr{UInt16}}), t, l, n, k, p)
splut_tables_inputs(t, l, n, p, cnt) = ccall((:splut_tables_inputs, libsparselut), S,
    (H, Csize_t, UInt32, Ref{Ptr{UInt32}}, Ref{Csize_t}), t, l, n, p, cnt)
splut_tables_totals(t, e, b) =
    ccall((:splut_tables_totals, libsparselut), S, (H, Ref{UInt64}, Ref{UInt64}), t, e, b)
splut_tables_forward(t, i, n, o) = ccall((:splut_tables_forward, libsparselut), S,
    (H, Ptr{UInt16}, Csize_t, Ptr{UInt16}), t, i, n, o)
splut_tables_io(t, a, b, c, d) = ccall((:splut_tables_io, libsparselut), S,
    (H, Ref{UInt32}, Ref{UInt32}, Ref{UInt32}, Ref{UInt32}), t, a, b, c, d)
splut_tt_iter_create(t, l, n, k, out) = ccall((:splut_tt_iter_create, libsparselut), S,
    (H, Csize_t, UInt32, UInt32, Ref{H}), t, l, n, k, out)
splut_tt_iter_next(it, has, addr, ins, cap, out) = ccall((:splut_tt_iter_next, libsparselut), S,
    (H, Ref{Cint}, Ref{UInt64}, Ptr{UInt16}, Csize_t, Ref{UInt16}), it, has, addr, ins, cap, out)
splut_tt_iter_destroy(it) = ccall((:splut_tt_iter_destroy, libsparselut), Cvoid, (H,), it)
splut_tables_save(t, p) = ccall((:splut_tables_save, libsparselut), S, (H, Cstring), t, p)
splut_tables_load(c, p, out) = ccall((:splut_tables_load, libsparselut), S, (H, Cstring, Ref{H}), c, p, out)
splut_tables_write_text(t, d) = ccall((:splut_tables_write_text, libsparselut), S, (H, Cstring), t, d)
splut_model_import_masks(m, d) = ccall((:splut_model_import_masks, libsparselut), S, (H, Cstring), m, d)
splut_model_export_masks(m, d) = ccall((:splut_model_export_masks, libsparselut), S, (H, Cstring), m, d)
splut_lut6_cost(x, y) = ccall((:splut_lut6_cost, libsparselut), UInt64, (UInt32, UInt32), x, y)
splut_tables_cost(t, l, luts) =
    ccall((:splut_tables_cost, libsparselut), S, (H, Csize_t, Ref{UInt64}), t, l, luts)

splut_tables_emit(t, fmt, dir, opts) = ccall((:splut_tables_emit, libsparselut), S,
    (H, Cint, Cstring, Ref{HdlOpts}), t, fmt, dir, opts)
splut_tables_emit_testbench(t, fmt, dir, opts, codes, n) =
    ccall((:splut_tables_emit_testbench, libsparselut), S,
          (H, Cint, Cstring, Ref{HdlOpts}, Ptr{UInt16}, Csize_t), t, fmt, dir, opts, codes, n)
splut_hdl_latency(t, opts, cycles) = ccall((:splut_hdl_latency, libsparselut), S,
    (H, Ref{HdlOpts}, Ref{UInt32}), t, opts, cycles)
splut_tables_fill_dont_cares(t, out) = ccall((:splut_tables_fill_dont_cares, libsparselut), S,
    (H, Ref{H}), t, out)
# Input stage in hardware: the format is an opaque pointer here; HdlOpts
# mirrors the 0.1 struct, which the library still accepts.
splut_input_value(fmt, f, raw, value) = ccall((:splut_input_value, libsparselut), S,
    (Ptr{Cvoid}, UInt32, Int32, Ref{Float32}), fmt, f, raw, value)
splut_model_input_thresholds(m, fmt, thr, codes, steps) =
    ccall((:splut_model_input_thresholds, libsparselut), S,
          (H, Ptr{Cvoid}, Ptr{Int32}, Ptr{UInt16}, Ptr{UInt32}), m, fmt, thr, codes, steps)
splut_tables_emit_testbench_raw(t, fmt, dir, opts, raw, codes, n) =
    ccall((:splut_tables_emit_testbench_raw, libsparselut), S,
          (H, Cint, Cstring, Ref{HdlOpts}, Ptr{Int32}, Ptr{UInt16}, Csize_t),
          t, fmt, dir, opts, raw, codes, n)
# Trainable LUT nodes (DWN): thermometer thresholds
splut_model_fit_thermometer(m, x, n) = ccall((:splut_model_fit_thermometer, libsparselut), S,
    (H, Ptr{Float32}, Csize_t), m, x, n)
splut_model_thermometer_uniform(m, lo, hi) =
    ccall((:splut_model_thermometer_uniform, libsparselut), S, (H, Cdouble, Cdouble), m, lo, hi)
splut_model_num_classes(m) = ccall((:splut_model_num_classes, libsparselut), UInt32, (H,), m)
# LUT-node (DWN) tables and hardware
splut_tables_thermometer_levels(t) =
    ccall((:splut_tables_thermometer_levels, libsparselut), UInt32, (H,), t)
splut_tables_num_classes(t) = ccall((:splut_tables_num_classes, libsparselut), UInt32, (H,), t)
splut_tables_classify(t, i, n, p, c) = ccall((:splut_tables_classify, libsparselut), S,
    (H, Ptr{UInt16}, Csize_t, Ptr{Int32}, Ptr{UInt16}), t, i, n, p, c)
splut_hdl_estimate(t, o, l, f) = ccall((:splut_hdl_estimate, libsparselut), S,
    (H, Ref{HdlOpts}, Ref{UInt64}, Ref{UInt64}), t, o, l, f)

splut_run_create(m, tr, te, out) = ccall((:splut_run_create, libsparselut), S, (H, H, H, Ref{H}),
    m, tr, te, out)
splut_run_destroy(r) = ccall((:splut_run_destroy, libsparselut), Cvoid, (H,), r)
splut_run_set_int(r, k, v) = ccall((:splut_run_set_int, libsparselut), S, (H, Cint, Int64), r, k, v)
splut_run_get_int(r, k, v) =
    ccall((:splut_run_get_int, libsparselut), S, (H, Cint, Ref{Int64}), r, k, v)
splut_run_set_double(r, k, v) =
    ccall((:splut_run_set_double, libsparselut), S, (H, Cint, Cdouble), r, k, v)
splut_run_get_double(r, k, v) =
    ccall((:splut_run_get_double, libsparselut), S, (H, Cint, Ref{Cdouble}), r, k, v)
splut_run_set_teacher(r, t) = ccall((:splut_run_set_teacher, libsparselut), S, (H, H), r, t)
splut_run_set_transform(r, f, u) =
    ccall((:splut_run_set_transform, libsparselut), S, (H, Ptr{Cvoid}, Ptr{Cvoid}), r, f, u)
splut_run_set_progress(r, f, u) =
    ccall((:splut_run_set_progress, libsparselut), S, (H, Ptr{Cvoid}, Ptr{Cvoid}), r, f, u)
splut_run_set_checkpoint(r, p) =
    ccall((:splut_run_set_checkpoint, libsparselut), S, (H, Cstring), r, p)
splut_run_epoch(r) = ccall((:splut_run_epoch, libsparselut), S, (H,), r)
splut_run_fit(r) = ccall((:splut_run_fit, libsparselut), S, (H,), r)
splut_run_history(r, e, rec) =
    ccall((:splut_run_history, libsparselut), S, (H, UInt64, Ref{RunRecord}), r, e, rec)
splut_run_model(r) = ccall((:splut_run_model, libsparselut), H, (H,), r)
splut_run_evaluated_model(r) = ccall((:splut_run_evaluated_model, libsparselut), H, (H,), r)
splut_run_best_model(r) = ccall((:splut_run_best_model, libsparselut), H, (H,), r)
splut_run_final_model(r) = ccall((:splut_run_final_model, libsparselut), H, (H,), r)
splut_run_save_checkpoint(r, p) =
    ccall((:splut_run_save_checkpoint, libsparselut), S, (H, Cstring), r, p)
splut_run_resume(r, p) = ccall((:splut_run_resume, libsparselut), S, (H, Cstring), r, p)
splut_run_checkpoint_model(c, p, out) = ccall((:splut_run_checkpoint_model, libsparselut), S,
    (H, Cstring, Ref{H}), c, p, out)

# ------------------------------------------------------------------- errors
"""A libsparselut call failed: `status` (negative C code), `name` (its
description from `splut_status_str`), `message` (the context's last error),
`func` (the C function)."""
struct SparseLUTError <: Exception
    status::Int
    name::String
    message::String
    func::String
end
Base.showerror(io::IO, e::SparseLUTError) =
    print(io, e.func, ": ", e.name, " (", e.status, ")", isempty(e.message) ? "" : ": " * e.message)

"""The context's last failure message, copied under its lock (other threads
may be failing on handles of the same context)."""
function copy_last_error(ctxptr)
    ctxptr == C_NULL && return ""
    need = Ref{Csize_t}(0)
    buf = Vector{UInt8}(undef, 512)
    while splut_ctx_copy_last_error(ctxptr, buf, length(buf), need) == -110  # too small
        resize!(buf, need[])
    end
    len = findfirst(iszero, buf)
    return String(buf[1:(len === nothing ? length(buf) : len - 1)])
end

function check(status, ctxptr, func)
    status == 0 && return nothing
    msg = copy_last_error(ctxptr)
    throw(SparseLUTError(Int(status), unsafe_string(splut_status_str(status)), msg, func))
end

closed_error(what) = SparseLUTError(-100, unsafe_string(splut_status_str(-100)),
                                    what * " is closed", what)

"""Version string of the loaded library."""
version() = unsafe_string(splut_version_string())

"""Names of the built-in presets."""
function presets()
    names = String[]
    i = 0
    while true
        p = splut_preset_name(i)
        p == C_NULL && return names
        push!(names, unsafe_string(p))
        i += 1
    end
end

"""Parameter key of a name such as `:learning_rate` (walks every key the library knows)."""
function param_key(name::Union{Symbol,AbstractString})
    k = splut_param_next(0)
    while k != 0
        p = splut_param_name(k)
        p != C_NULL && unsafe_string(p) == String(name) && return Int(k)
        k = splut_param_next(k)
    end
    throw(SparseLUTError(-104, "unknown parameter", String(name), "param_key"))
end

"""True when the parameter `key` is an integer parameter."""
function param_is_int(key)
    t = Ref{Cint}(0); lo = Ref{Cdouble}(0); hi = Ref{Cdouble}(0); d = Ref{Cdouble}(0)
    check(splut_param_info(key, t, lo, hi, d), C_NULL, "splut_param_info")
    return t[] == 0
end

# ------------------------------------------------------------------ handles
"""Context: threads, seed, table limit and last error (reference counted)."""
mutable struct Context
    ptr::Ptr{Cvoid}
    function Context(; threads=nothing, seed=nothing, max_table_log2=nothing)
        out = Ref{Ptr{Cvoid}}(C_NULL)
        check(splut_ctx_create(C_NULL, out), C_NULL, "splut_ctx_create")
        c = finalizer(close, new(out[]))
        threads === nothing || setparam!(c, :threads, threads)
        seed === nothing || setparam!(c, :seed, seed)
        max_table_log2 === nothing || setparam!(c, :max_table_log2, max_table_log2)
        return c
    end
end
function Base.close(c::Context)
    c.ptr == C_NULL || splut_ctx_unref(c.ptr)
    c.ptr = C_NULL
    nothing
end
setparam!(c::Context, name, v) =
    check(splut_ctx_set_int(c.ptr, param_key(name), Int64(v)), c.ptr, "splut_ctx_set_int")
function getparam(c::Context, name)
    v = Ref{Int64}(0)
    check(splut_ctx_get_int(c.ptr, param_key(name), v), c.ptr, "splut_ctx_get_int")
    return v[]
end
last_error(c::Context) = copy_last_error(c.ptr)
# A copy would share the C handle: refuse, as for every handle but Model.
Base.deepcopy_internal(::Context, ::IdDict) = error("a Context cannot be copied; create another")

"""One layer: `Layer(:poly_add, width, fan_in, out_bits; degree, sub_neurons, hidden)`."""
Layer(kind::Symbol, width, fan_in, out_bits; degree=0, sub_neurons=0, hidden=0) =
    LayerDesc(sizeof(LayerDesc), KINDS[kind], width, fan_in, out_bits, degree, sub_neurons,
              hidden, 0)

"""A model (layers, connectivity, parameters). Keeps its context alive.

Every Model owns one C reference (released by `close` or the finalizer), except
the one `model_in_training` returns: that one borrows the trainer's network,
keeps the trainer alive and refuses to be used once the trainer is closed or
has replaced that network (switch epoch, compaction)."""
mutable struct Model
    ptr::Ptr{Cvoid}
    ctx::Context
    owner::Any   # `nothing`, or the Trainer whose network in training this is
end
owned_model(ptr, ctx) = finalizer(close, Model(ptr, ctx, nothing))

"""The C handle of `m`, or an error when it is closed or no longer the trainer's."""
function handle(m::Model)
    m.ptr == C_NULL && throw(closed_error("Model"))
    o = m.owner
    if o !== nothing && (o.ptr == C_NULL || splut_trainer_model_in_training(o.ptr) != m.ptr)
        throw(SparseLUTError(-200, unsafe_string(splut_status_str(-200)),
                             "the trainer was closed or replaced its network in training " *
                             "(switch epoch); call model_in_training again", "Model"))
    end
    return m.ptr
end
function Model(ctx::Context, n_inputs::Integer, input_bits::Integer, layers::Vector{LayerDesc})
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_model_create(ctx.ptr, n_inputs, input_bits, out), ctx.ptr, "splut_model_create")
    m = owned_model(out[], ctx)
    for d in layers
        check(splut_model_add_layer(m.ptr, Ref(d)), ctx.ptr, "splut_model_add_layer")
    end
    check(splut_model_build(m.ptr), ctx.ptr, "splut_model_build")
    return m
end
"""A built preset such as `"hdr-add2"`."""
function Model(ctx::Context, preset::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_model_create_preset(ctx.ptr, preset, out), ctx.ptr, "splut_model_create_preset")
    return owned_model(out[], ctx)
end
"""A built model from an architecture string such as `"784:2 add:256:F6:b2 linear:10:F6:b2"`."""
function model_from_arch(ctx::Context, spec::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_model_create_arch(ctx.ptr, spec, out), ctx.ptr, "splut_model_create_arch")
    return finalizer(close, Model(out[], ctx, true))
end
"""Load a model file."""
function load_model(ctx::Context, path::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_model_load(ctx.ptr, path, out), ctx.ptr, "splut_model_load")
    return owned_model(out[], ctx)
end
"""A model from the bytes of `serialize`."""
function deserialize(ctx::Context, bytes::Vector{UInt8})
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_model_deserialize(ctx.ptr, bytes, length(bytes), out), ctx.ptr,
          "splut_model_deserialize")
    return owned_model(out[], ctx)
end
function Base.close(m::Model)
    m.owner === nothing && m.ptr != C_NULL && splut_model_destroy(m.ptr)
    m.ptr = C_NULL
    nothing
end
ctxptr(m::Model) = splut_model_ctx(handle(m))
num_inputs(m::Model) = Int(splut_model_num_inputs(handle(m)))
input_bits(m::Model) = Int(splut_model_input_bits(handle(m)))
num_layers(m::Model) = Int(splut_model_num_layers(handle(m)))
num_outputs(m::Model) = Int(splut_model_num_outputs(handle(m)))
num_params(m::Model) = Int(splut_model_num_params(handle(m)))
function layer(m::Model, l::Integer)
    d = Ref(LayerDesc())
    check(splut_model_layer(handle(m), l, d), ctxptr(m), "splut_model_layer")
    return d[]
end
function Base.copy(m::Model)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_model_clone(handle(m), out), ctxptr(m), "splut_model_clone")
    return owned_model(out[], m.ctx)
end
# deepcopy would duplicate the pointer (and free it twice): clone instead.
Base.deepcopy_internal(m::Model, ::IdDict) = copy(m)
save(m::Model, path::AbstractString) = check(splut_model_save(handle(m), path), ctxptr(m), "splut_model_save")
function serialize(m::Model)
    need = Ref{Csize_t}(0)
    splut_model_serialize(handle(m), C_NULL, 0, need)
    buf = Vector{UInt8}(undef, need[])
    check(splut_model_serialize(handle(m), buf, length(buf), need), ctxptr(m), "splut_model_serialize")
    return buf
end
function setparam!(m::Model, name, v)
    k = param_key(name)
    param_is_int(k) ? check(splut_model_set_int(handle(m), k, Int64(v)), ctxptr(m), "splut_model_set_int") :
                      check(splut_model_set_double(handle(m), k, Float64(v)), ctxptr(m), "splut_model_set_double")
end
function getparam(m::Model, name)
    k = param_key(name)
    if param_is_int(k)
        v = Ref{Int64}(0)
        check(splut_model_get_int(handle(m), k, v), ctxptr(m), "splut_model_get_int")
    else
        v = Ref{Cdouble}(0)
        check(splut_model_get_double(handle(m), k, v), ctxptr(m), "splut_model_get_double")
    end
    return v[]
end

# connectivity
function get_inputs(m::Model, l::Integer, n::Integer)
    cnt = Ref{Csize_t}(0)
    splut_model_get_inputs(handle(m), l, n, C_NULL, 0, cnt)
    idx = Vector{UInt32}(undef, cnt[])
    check(splut_model_get_inputs(handle(m), l, n, idx, length(idx), cnt), ctxptr(m), "splut_model_get_inputs")
    return idx
end
set_inputs!(m::Model, l, n, idx::Vector{UInt32}) =
    check(splut_model_set_inputs(handle(m), l, n, idx, length(idx)), ctxptr(m), "splut_model_set_inputs")
randomize_connectivity!(m::Model, seed) = check(splut_model_randomize_connectivity(handle(m), seed),
                                                ctxptr(m), "splut_model_randomize_connectivity")
prune!(m::Model, l, n, slot) = check(splut_model_prune_input(handle(m), l, n, slot), ctxptr(m),
                                     "splut_model_prune_input")
grow!(m::Model, l, n, slot, input, w) = check(splut_model_grow_input(handle(m), l, n, slot, input, w),
                                              ctxptr(m), "splut_model_grow_input")
validate(m::Model) = check(splut_model_validate(handle(m)), ctxptr(m), "splut_model_validate")
import_masks!(m::Model, dir) = check(splut_model_import_masks(handle(m), dir), ctxptr(m), "splut_model_import_masks")
export_masks(m::Model, dir) = check(splut_model_export_masks(handle(m), dir), ctxptr(m), "splut_model_export_masks")
function params(m::Model)
    v = Vector{Cfloat}(undef, num_params(m))
    check(splut_model_params(handle(m), v, 1), ctxptr(m), "splut_model_params")
    return v
end
function setparams!(m::Model, v::Vector{Cfloat})
    length(v) == num_params(m) ||
        throw(DimensionMismatch("$(length(v)) values for $(num_params(m)) parameters"))
    check(splut_model_params(handle(m), v, 0), ctxptr(m), "splut_model_params")
end

# inference: matrices are features × samples (column-major = C row-major per sample)
"""Throw unless `a` has `rows` rows (the C side reads rows × size(a, 2) values)."""
function check_rows(a::AbstractMatrix, rows::Integer, what)
    size(a, 1) == rows ||
        throw(DimensionMismatch("$what has $(size(a, 1)) rows, the model needs $rows"))
    return size(a, 2)
end
function check_labels(x::AbstractMatrix, labels::AbstractVector)
    length(labels) == size(x, 2) ||
        throw(DimensionMismatch("$(size(x, 2)) samples but $(length(labels)) labels"))
end
"""Input codes of features `x` (num_inputs × n, Float32)."""
function input_codes(m::Model, x::Matrix{Cfloat})
    n = check_rows(x, num_inputs(m), "x")
    codes = Matrix{UInt16}(undef, size(x)...)
    check(splut_model_input_codes(handle(m), x, n, codes), ctxptr(m), "splut_model_input_codes")
    return codes
end
"""Output codes (num_outputs × n) of input codes (num_inputs × n)."""
function forward_codes(m::Model, codes::Matrix{UInt16})
    n = check_rows(codes, num_inputs(m), "codes")
    out = Matrix{UInt16}(undef, num_outputs(m), n)
    check(splut_model_forward_codes(handle(m), codes, n, out), ctxptr(m),
          "splut_model_forward_codes")
    return out
end
"""Class index (0-based) per column of `x`."""
function predict(m::Model, x::Matrix{Cfloat})
    n = check_rows(x, num_inputs(m), "x")
    pred = Vector{Int32}(undef, n)
    check(splut_model_predict(handle(m), x, n, pred, C_NULL), ctxptr(m), "splut_model_predict")
    return pred
end
"""The values the classifier compares (logits), num_outputs × n."""
function output_values(m::Model, out::Matrix{UInt16})
    n = check_rows(out, num_outputs(m), "out")
    v = Matrix{Cfloat}(undef, size(out)...)
    check(splut_model_output_values(handle(m), out, n, v), ctxptr(m),
          "splut_model_output_values")
    return v
end
function classify_codes(m::Model, out::Matrix{UInt16})
    n = check_rows(out, num_outputs(m), "out")
    pred = Vector{Int32}(undef, n)
    check(splut_model_classify_codes(handle(m), out, n, pred), ctxptr(m),
          "splut_model_classify_codes")
    return pred
end

"""AdamW training of one model.

The C trainer holds its own reference on its model, so the finalizers of a
Trainer and of its Model may run in either order."""
mutable struct Trainer
    ptr::Ptr{Cvoid}
    model::Model
    mptr::Ptr{Cvoid}  # the trainer's model, alive while the C trainer is
end
function Trainer(m::Model)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    mp = handle(m)
    check(splut_trainer_create(mp, out), ctxptr(m), "splut_trainer_create")
    return finalizer(close, Trainer(out[], m, mp))
end
function Base.close(t::Trainer)
    t.ptr == C_NULL || splut_trainer_destroy(t.ptr)
    t.ptr = C_NULL
    t.mptr = C_NULL
    nothing
end
Base.deepcopy_internal(::Trainer, ::IdDict) = error("a Trainer cannot be copied")
"""The C handle of `t`, or an error once it is closed."""
function handle(t::Trainer)
    t.ptr == C_NULL && throw(closed_error("Trainer"))
    return t.ptr
end
tctx(t::Trainer) = splut_model_ctx(t.mptr)
tparams(t::Trainer) = Int(splut_model_num_params(t.mptr))
num_inputs(t::Trainer) = (handle(t); Int(splut_model_num_inputs(t.mptr)))
num_outputs(t::Trainer) = (handle(t); Int(splut_model_num_outputs(t.mptr)))
# Set / read parameter `name` of handle `p` through the object's int and double accessors.
function setparam_via(p, c, name, v, set_int, set_double, fname)
    k = param_key(name)
    param_is_int(k) ? check(set_int(p, k, Int64(v)), c, fname * "_set_int") :
                      check(set_double(p, k, Float64(v)), c, fname * "_set_double")
end
function getparam_via(p, c, name, get_int, get_double, fname)
    k = param_key(name)
    if param_is_int(k)
        v = Ref{Int64}(0)
        check(get_int(p, k, v), c, fname * "_get_int")
    else
        v = Ref{Cdouble}(0)
        check(get_double(p, k, v), c, fname * "_get_double")
    end
    return v[]
end
setparam!(t::Trainer, name, v) = setparam_via(handle(t), tctx(t), name, v,
    splut_trainer_set_int, splut_trainer_set_double, "splut_trainer")
getparam(t::Trainer, name) = getparam_via(handle(t), tctx(t), name,
    splut_trainer_get_int, splut_trainer_get_double, "splut_trainer")
"""One optimiser step on features `x` (num_inputs × n) and 0-based labels; returns the loss."""
function train_step!(t::Trainer, x::Matrix{Cfloat}, labels::Vector{Int32})
    n = check_rows(x, num_inputs(t), "x")
    check_labels(x, labels)
    loss = Ref{Cdouble}(0)
    check(splut_trainer_step(handle(t), x, labels, n, loss), tctx(t), "splut_trainer_step")
    return loss[]
end
"""One optimiser step towards soft targets `p` (num_outputs × n probabilities)."""
function train_step_soft!(t::Trainer, x::Matrix{Cfloat}, p::Matrix{Cfloat})
    n = check_rows(x, num_inputs(t), "x")
    check_rows(p, num_outputs(t), "p") == n || throw(DimensionMismatch("x and p differ in samples"))
    loss = Ref{Cdouble}(0)
    check(splut_trainer_step_soft(handle(t), x, p, n, loss), tctx(t),
          "splut_trainer_step_soft")
    return loss[]
end
function loss_grad_soft(t::Trainer, x::Matrix{Cfloat}, p::Matrix{Cfloat})
    n = check_rows(x, num_inputs(t), "x")
    check_rows(p, num_outputs(t), "p") == n || throw(DimensionMismatch("x and p differ in samples"))
    loss = Ref{Cdouble}(0)
    g = Vector{Cfloat}(undef, tparams(t))
    check(splut_trainer_loss_grad_soft(handle(t), x, p, n, loss, g), tctx(t),
          "splut_trainer_loss_grad_soft")
    return loss[], g
end
function loss_grad(t::Trainer, x::Matrix{Cfloat}, labels::Vector{Int32})
    n = check_rows(x, num_inputs(t), "x")
    check_labels(x, labels)
    loss = Ref{Cdouble}(0)
    g = Vector{Cfloat}(undef, tparams(t))
    check(splut_trainer_loss_grad(handle(t), x, labels, n, loss, g), tctx(t),
          "splut_trainer_loss_grad")
    return loss[], g
end
"""
Replace every BatchNorm running mean/variance by its estimate over features `x`
(num_inputs × n, n ≥ 2): the average over consecutive batches of `batch` (≥ 2)
samples of the batch mean / unbiased batch variance. Parameters untouched.
"""
function calibrate_bn!(t::Trainer, x::Matrix{Cfloat}; batch::Integer=128)
    n = check_rows(x, num_inputs(t), "x")
    check(splut_trainer_calibrate_bn(handle(t), x, n, batch), tctx(t),
          "splut_trainer_calibrate_bn")
end
function connections(t::Trainer, l::Integer)
    a = Ref{UInt64}(0); c = Ref{UInt64}(0)
    check(splut_trainer_connections(handle(t), l, a, c), tctx(t), "splut_trainer_connections")
    return a[], c[]
end
"""The network being updated (phase-1 surrogate or the model), owned by the trainer.

The result keeps the trainer alive and throws once the trainer is closed or has
replaced that network (the step reaching the switch epoch frees the surrogate):
call it again after every step."""
function model_in_training(t::Trainer)
    p = splut_trainer_model_in_training(handle(t))
    return p == t.mptr && t.model.ptr == p ? t.model : Model(p, t.model.ctx, t)
end
save(t::Trainer, path::AbstractString) = check(splut_trainer_save(handle(t), path), tctx(t), "splut_trainer_save")
load!(t::Trainer, path::AbstractString) = check(splut_trainer_load(handle(t), path), tctx(t), "splut_trainer_load")

"""Enumerated truth tables."""
mutable struct Tables
    ptr::Ptr{Cvoid}
    ctx::Ptr{Cvoid}   # a reference of its own, so the tables outlive the model
end
function Tables(m::Model)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_tables_create(handle(m), out), ctxptr(m), "splut_tables_create")
    return finalizer(close, Tables(out[], splut_ctx_ref(ctxptr(m))))
end
function load_tables(ctx::Context, path::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_tables_load(ctx.ptr, path, out), ctx.ptr, "splut_tables_load")
    return finalizer(close, Tables(out[], splut_ctx_ref(ctx.ptr)))
end
"""Tables with the unreachable entries filled as `emit(...; dont_care=true)` fills them."""
function fill_dont_cares(t::Tables)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_tables_fill_dont_cares(t.ptr, out), t.ctx, "splut_tables_fill_dont_cares")
    return finalizer(close, Tables(out[], splut_ctx_ref(t.ctx)))
end
function Base.close(t::Tables)
    if t.ptr != C_NULL
        splut_tables_destroy(t.ptr)
        splut_ctx_unref(t.ctx)
    end
    t.ptr = C_NULL
    t.ctx = C_NULL  # its last reference may be gone: no error message after close
    nothing
end
Base.deepcopy_internal(::Tables, ::IdDict) = error("Tables cannot be copied; save and load them")
num_layers(t::Tables) = Int(splut_tables_num_layers(t.ptr))
function layer(t::Tables, l::Integer)
    n = Ref{UInt32}(0); a = Ref{UInt32}(0); w = Ref{UInt32}(0)
    check(splut_tables_layer(t.ptr, l, n, a, w), t.ctx, "splut_tables_layer")
    return (neurons=n[], sub_neurons=a[], in_width=w[])
end
function info(t::Tables, l::Integer, n::Integer, k::Integer=0)
    r = Ref(TableInfo())
    check(splut_tables_info(t.ptr, l, n, k, r), t.ctx, "splut_tables_info")
    return r[]
end
"""Entries of a table (a copy)."""
function data(t::Tables, l::Integer, n::Integer, k::Integer=0)
    p = Ref{Ptr{UInt16}}(C_NULL)
    check(splut_tables_data(t.ptr, l, n, k, p), t.ctx, "splut_tables_data")
    return copy(unsafe_wrap(Array, p[], Int(info(t, l, n, k).entries)))
end
function inputs(t::Tables, l::Integer, n::Integer)
    p = Ref{Ptr{UInt32}}(C_NULL); cnt = Ref{Csize_t}(0)
    check(splut_tables_inputs(t.ptr, l, n, p, cnt), t.ctx, "splut_tables_inputs")
    return copy(unsafe_wrap(Array, p[], Int(cnt[])))
end
"""Rows `(address, input codes, output)` of one table."""
function rows(t::Tables, l::Integer, n::Integer, k::Integer=0)
    it = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_tt_iter_create(t.ptr, l, n, k, it), t.ctx, "splut_tt_iter_create")
    fields = Int(info(t, l, n, k).in_fields)
    result = Tuple{UInt64,Vector{UInt16},UInt16}[]
    try
        has = Ref{Cint}(0); addr = Ref{UInt64}(0); out = Ref{UInt16}(0)
        ins = Vector{UInt16}(undef, max(fields, 1))
        while true
            check(splut_tt_iter_next(it[], has, addr, ins, fields, out), t.ctx, "splut_tt_iter_next")
            has[] == 0 && break
            push!(result, (addr[], ins[1:fields], out[]))
        end
    finally
        splut_tt_iter_destroy(it[])
    end
    return result
end
function totals(t::Tables)
    e = Ref{UInt64}(0); b = Ref{UInt64}(0)
    check(splut_tables_totals(t.ptr, e, b), t.ctx, "splut_tables_totals")
    return e[], b[]
end
function io(t::Tables)
    a = Ref{UInt32}(0); b = Ref{UInt32}(0); c = Ref{UInt32}(0); d = Ref{UInt32}(0)
    check(splut_tables_io(t.ptr, a, b, c, d), t.ctx, "splut_tables_io")
    return (inputs=a[], input_bits=b[], outputs=c[], output_bits=d[])
end
"""LUT6 estimate of a layer, or of the whole model (`layer=nothing`)."""
function cost(t::Tables, l=nothing)
    luts = Ref{UInt64}(0)
    check(splut_tables_cost(t.ptr, l === nothing ? SIZE_MAX : l, luts), t.ctx, "splut_tables_cost")
    return luts[]
end
lut6_cost(in_bits, out_bits) = splut_lut6_cost(in_bits, out_bits)
"""LUT-mode inference: input codes (inputs × n) → output codes (outputs × n)."""
function tables_forward(t::Tables, codes::Matrix{UInt16})
    shape = io(t)
    n = check_rows(codes, shape.inputs, "codes")
    out = Matrix{UInt16}(undef, shape.outputs, n)
    check(splut_tables_forward(t.ptr, codes, n, out), t.ctx, "splut_tables_forward")
    return out
end
save(t::Tables, path::AbstractString) = check(splut_tables_save(t.ptr, path), t.ctx, "splut_tables_save")
write_text(t::Tables, dir::AbstractString) = check(splut_tables_write_text(t.ptr, dir), t.ctx,
                                                   "splut_tables_write_text")

# SPLUT_HDL_FULL_CASE, SPLUT_HDL_DONT_CARE, SPLUT_HDL_NO_RESET
hdl_flags(full_case, dont_care, no_reset) =
    UInt32((full_case ? 0x1 : 0) | (dont_care ? 0x2 : 0) | (no_reset ? 0x4 : 0))

function with_opts(f, prefix, pipeline, flags)
    GC.@preserve prefix begin
        opts = HdlOpts(sizeof(HdlOpts), prefix === nothing ? Cstring(C_NULL) : Base.unsafe_convert(Cstring, prefix),
                       PIPELINES[pipeline], flags, 0)
        return f(Ref(opts))
    end
end
"""Write the design in `fmt` (`:verilog`, `:vhdl`, `:hls`) into `dir`; `dont_care` and
`no_reset` set SPLUT_HDL_DONT_CARE and SPLUT_HDL_NO_RESET."""
emit(t::Tables, fmt::Symbol, dir::AbstractString; prefix=nothing, pipeline=:none, full_case=false,
     dont_care=false, no_reset=false) =
    with_opts(prefix, pipeline, hdl_flags(full_case, dont_care, no_reset)) do opts
        check(splut_tables_emit(t.ptr, FORMATS[fmt], dir, opts), t.ctx, "splut_tables_emit")
    end
"""Write test vectors (columns of `codes`) and a self-checking testbench."""
emit_testbench(t::Tables, fmt::Symbol, dir::AbstractString, codes::Matrix{UInt16}; prefix=nothing,
               pipeline=:none, full_case=false, dont_care=false, no_reset=false) =
    with_opts(prefix, pipeline, hdl_flags(full_case, dont_care, no_reset)) do opts
        n = check_rows(codes, io(t).inputs, "codes")
        check(splut_tables_emit_testbench(t.ptr, FORMATS[fmt], dir, opts, codes, n),
              t.ctx, "splut_tables_emit_testbench")
    end
"""Latency in clock cycles of the emitted top level."""
latency(t::Tables; pipeline=:none) =
    with_opts(nothing, pipeline, UInt32(0)) do opts
        cycles = Ref{UInt32}(0)
        check(splut_hdl_latency(t.ptr, opts, cycles), t.ctx, "splut_hdl_latency")
        cycles[]
    end


# ------------------------------------------------ libsparselut-data (loaders)
# `ENV["SPARSELUT_DATA_LIB"]` if set, else `libsparselut-data` on the loader's path.
const libsparselut_data = get(ENV, "SPARSELUT_DATA_LIB", "libsparselut-data")

"""Mirror of `splut_data_opts`."""
struct DataOpts
    size::Csize_t
    label::Ptr{UInt8}
    split::Cdouble
    seed::UInt64
    flags::UInt32
    reserved::UInt32
    max_bytes::UInt64
end
const DATA_STANDARDIZE = UInt32(1)
const DATA_SPLIT_SET = UInt32(2)

splut_data_load(c, spec, o, tr, te) = ccall((:splut_data_load, libsparselut_data), S,
    (H, Cstring, Ref{DataOpts}, Ref{H}, Ref{H}), c, spec, o, tr, te)
splut_data_load_idx(c, dir, o, tr, te) = ccall((:splut_data_load_idx, libsparselut_data), S,
    (H, Cstring, Ref{DataOpts}, Ref{H}, Ref{H}), c, dir, o, tr, te)
splut_data_load_csv(c, a, b, o, tr, te) = ccall((:splut_data_load_csv, libsparselut_data), S,
    (H, Cstring, Ptr{UInt8}, Ref{DataOpts}, Ref{H}, Ref{H}), c, a, b, o, tr, te)
splut_data_load_jsc(c, p, o, tr, te) = ccall((:splut_data_load_jsc, libsparselut_data), S,
    (H, Cstring, Ref{DataOpts}, Ref{H}, Ref{H}), c, p, o, tr, te)
splut_data_load_unsw(c, p, o, tr, te) = ccall((:splut_data_load_unsw, libsparselut_data), S,
    (H, Cstring, Ref{DataOpts}, Ref{H}, Ref{H}), c, p, o, tr, te)
splut_data_parse_csv(c, t, n, name, o, out) = ccall((:splut_data_parse_csv, libsparselut_data),
    S, (H, Ptr{UInt8}, Csize_t, Cstring, Ref{DataOpts}, Ref{H}), c, t, n, name, o, out)
splut_data_parse_idx(c, im, ni, lb, nl, name, out) =
    ccall((:splut_data_parse_idx, libsparselut_data), S,
          (H, Ptr{UInt8}, Csize_t, Ptr{UInt8}, Csize_t, Cstring, Ref{H}),
          c, im, ni, lb, nl, name, out)
splut_data_parse_jsc(c, t, n, name, o, tr, te) =
    ccall((:splut_data_parse_jsc, libsparselut_data), S,
          (H, Ptr{UInt8}, Csize_t, Cstring, Ref{DataOpts}, Ref{H}, Ref{H}),
          c, t, n, name, o, tr, te)
splut_data_parse_unsw(c, t, n, name, o, tr, te) =
    ccall((:splut_data_parse_unsw, libsparselut_data), S,
          (H, Ptr{UInt8}, Csize_t, Cstring, Ref{DataOpts}, Ref{H}, Ref{H}),
          c, t, n, name, o, tr, te)
splut_data_read_file(c, p, max, buf, n) = ccall((:splut_data_read_file, libsparselut_data), S,
    (H, Cstring, UInt64, Ref{Ptr{Cvoid}}, Ref{Csize_t}), c, p, max, buf, n)
splut_data_free(p) = ccall((:splut_data_free, libsparselut_data), Cvoid, (Ptr{Cvoid},), p)
splut_data_has_zlib() = ccall((:splut_data_has_zlib, libsparselut_data), Cint, ())

"""Features and labels (`splut_dataset`), immutable; `features(d)` and `labels(d)`
copy them into Julia arrays. The C dataset holds its own reference to its context,
so the order in which finalizers run does not matter."""
mutable struct Dataset
    ptr::H
end
function Base.close(d::Dataset)
    d.ptr == C_NULL && return nothing
    splut_dataset_destroy(d.ptr)
    d.ptr = C_NULL
    return nothing
end
function live(d::Dataset)
    d.ptr == C_NULL && throw(SparseLUTError(-100, "NULL pointer", "dataset is closed", "Dataset"))
    return d.ptr
end
Base.length(d::Dataset) = Int(splut_dataset_num_samples(live(d)))
num_features(d::Dataset) = Int(splut_dataset_num_features(live(d)))
num_classes(d::Dataset) = Int(splut_dataset_num_classes(live(d)))
fingerprint(d::Dataset) = splut_dataset_fingerprint(live(d))
"""The features as a features × n Matrix{Float32} (column j = row j of the C data)."""
function features(d::Dataset)
    n, f = length(d), num_features(d)
    return copy(unsafe_wrap(Array, splut_dataset_features(live(d)), (f, n)))
end
"""The n labels as a Vector{Int32}."""
labels(d::Dataset) = copy(unsafe_wrap(Array, splut_dataset_labels(live(d)), length(d)))

"""
    load_dataset(spec; ctx, label, split, seed, standardize, max_bytes) -> (train, test)

Load `mnist:DIR`, `fashion:DIR`, `csv:TRAIN[,TEST]`, `jsc:FILE` or `unsw:FILE` through
libsparselut-data (docs/datasets.md).
"""
function load_dataset(spec::AbstractString; ctx::Context=Context(), label=nothing,
                      split=nothing, seed::Integer=42, standardize::Bool=false,
                      max_bytes::Integer=0)
    flags = (standardize ? DATA_STANDARDIZE : UInt32(0)) |
            (split === nothing ? UInt32(0) : DATA_SPLIT_SET)
    lab = label === nothing ? "" : string(label)
    tr, te = Ref{H}(C_NULL), Ref{H}(C_NULL)
    GC.@preserve lab begin
        o = DataOpts(sizeof(DataOpts), label === nothing ? C_NULL : pointer(lab),
                     split === nothing ? 0.2 : Float64(split), UInt64(seed), flags, 0,
                     UInt64(max_bytes))
        check(splut_data_load(ctx.ptr, spec, Ref(o), tr, te), ctx.ptr, "splut_data_load")
    end
    return finalizer(close, Dataset(tr[])), finalizer(close, Dataset(te[]))
end
export Dataset, load_dataset, features, labels
# ------------------------------------------------------------ training runs
"""
A training run (`splut_run`): `Run(model, xtrain, ytrain; xtest, ytest, image, teacher,
checkpoint, params...)` with features as `num_inputs × n` matrices and 0-based labels;
`image = (width, height, background)` declares image rows (needed by `augment_shift`).
Parameters are run keys (`epochs`, `batch`, `run_seed`, `restart_epochs`, `ema`,
`bn_calibrate`, `bn_freeze`, `keep_best`, `augment_shift`, `distill_alpha`,
`distill_temperature`) or trainer keys (`learning_rate`, `connectivity`, …).
"""
mutable struct Run
    ptr::Ptr{Cvoid}
    model::Model
    datasets::Vector{Ptr{Cvoid}}
    teacher::Union{Model,Nothing}
end
function run_dataset(m::Model, x::Matrix{Cfloat}, y::Vector{Int32}, image)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_dataset_create(ctxptr(m), size(x, 2), size(x, 1), x, y, 0, out), ctxptr(m),
          "splut_dataset_create")
    if image !== nothing
        st = splut_dataset_set_image(out[], image[1], image[2], image[3])
        st == 0 || splut_dataset_destroy(out[])
        check(st, ctxptr(m), "splut_dataset_set_image")
    end
    return out[]
end
function Run(m::Model, xtrain::Matrix{Cfloat}, ytrain::Vector{Int32}; xtest=nothing,
             ytest=nothing, image=nothing, teacher=nothing, checkpoint=nothing, params...)
    ds = Ptr{Cvoid}[run_dataset(m, xtrain, ytrain, image)]
    xtest === nothing || push!(ds, run_dataset(m, xtest, ytest, nothing))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    st = splut_run_create(m.ptr, ds[1], length(ds) > 1 ? ds[2] : C_NULL, out)
    st == 0 || foreach(splut_dataset_destroy, ds)
    check(st, ctxptr(m), "splut_run_create")
    r = finalizer(close, Run(out[], m, ds, teacher))
    for (k, v) in params
        setparam!(r, k, v)
    end
    teacher === nothing ||
        check(splut_run_set_teacher(r.ptr, teacher.ptr), ctxptr(m), "splut_run_set_teacher")
    checkpoint === nothing ||
        check(splut_run_set_checkpoint(r.ptr, checkpoint), ctxptr(m), "splut_run_set_checkpoint")
    return r
end
function Base.close(r::Run)
    r.ptr == C_NULL || splut_run_destroy(r.ptr)
    foreach(splut_dataset_destroy, r.datasets)
    empty!(r.datasets)
    r.ptr = C_NULL
    nothing
end
setparam!(r::Run, name, v) = setparam_via(r.ptr, ctxptr(r.model), name, v,
    splut_run_set_int, splut_run_set_double, "splut_run")
getparam(r::Run, name) = getparam_via(r.ptr, ctxptr(r.model), name,
    splut_run_get_int, splut_run_get_double, "splut_run")
"""Train one epoch (or the rest of a stopped one)."""
epoch!(r::Run) = check(splut_run_epoch(r.ptr), ctxptr(r.model), "splut_run_epoch")
"""Train the remaining epochs."""
fit!(r::Run) = check(splut_run_fit(r.ptr), ctxptr(r.model), "splut_run_fit")
"""Per-epoch records (`RunRecord`) of the epochs done."""
function history(r::Run)
    recs = RunRecord[]
    for e in 1:getparam(r, :epochs_done)
        rec = Ref(RunRecord())
        check(splut_run_history(r.ptr, e, rec), ctxptr(r.model), "splut_run_history")
        push!(recs, rec[])
    end
    return recs
end
"""The run's result (best with `keep_best`, else the evaluated model), owned by the run."""
function final_model(r::Run)
    p = splut_run_final_model(r.ptr)
    p == C_NULL && throw(SparseLUTError(-200, "state", "no epoch trained", "final_model"))
    return owned_model(splut_model_ref(p), r.model.ctx)  # its own reference
end
save_checkpoint(r::Run, path) =
    check(splut_run_save_checkpoint(r.ptr, path), ctxptr(r.model), "splut_run_save_checkpoint")
resume!(r::Run, path) = check(splut_run_resume(r.ptr, path), ctxptr(r.model), "splut_run_resume")
"""The live model stored in a run checkpoint."""
function checkpoint_model(ctx::Context, path::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(splut_run_checkpoint_model(ctx.ptr, path, out), ctx.ptr, "splut_run_checkpoint_model")
    return finalizer(close, Model(out[], ctx, true))
end

end # module SparseLUT
