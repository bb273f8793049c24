# SPDX-License-Identifier: Apache-2.0
"""Tests of the Python binding; run with and without numpy (SPARSELUT_NO_NUMPY=1).

Expected values come from independent computations: a pure-Python LUT
simulator over the table data, the model's own eval-mode forward pass, and
files read back through a second path.
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

import sparselut as sl

NUMPY_WANTED = os.environ.get("SPARSELUT_NO_NUMPY", "") in ("", "0")


def as_lists(a):
    """Nested lists from a numpy array or lists (for comparisons)."""
    return a.tolist() if hasattr(a, "tolist") else [list(r) if isinstance(r, list) else r
                                                    for r in a]


def toy_data(n, features, seed):
    """Features and labels where the class is decided by features 0 and 1."""
    r = random.Random(seed)
    x = [[r.gauss(0.0, 1.0) for _ in range(features)] for _ in range(n)]
    y = [int(row[0] > 0) + int(row[1] > 0) for row in x]
    return x, y


def random_codes(n, features, bits, seed):
    r = random.Random(seed)
    return [[r.randrange(1 << bits) for _ in range(features)] for _ in range(n)]


def small_model(ctx):
    """8 inputs of 2 bits -> PolyLUT-Add (A=2, F=2, D=2) 6 wide -> PolyLUT 3 wide."""
    return sl.Model(ctx, 8, 2, [sl.Layer("poly_add", 6, 2, 2, degree=2, sub_neurons=2),
                                sl.Layer("poly", 3, 3, 2, degree=2)])


def lut_simulate(tables, codes):
    """Pure-Python LUT inference from tables.data/inputs/info (MS field first)."""
    out = []
    for row in codes:
        cur = list(row)
        for layer in range(tables.num_layers):
            neurons, subs, _ = tables.layer(layer)
            nxt = []
            for n in range(neurons):
                idx = tables.inputs(layer, n)
                if subs == 0:
                    nxt.append(lookup(tables, layer, n, 0, [cur[i] for i in idx]))
                    continue
                fan = len(idx) // subs
                partial = [lookup(tables, layer, n, a, [cur[i] for i in idx[a * fan:(a + 1) * fan]])
                           for a in range(subs)]
                nxt.append(lookup(tables, layer, n, sl.TABLE_ADDER, partial))
            cur = nxt
        out.append(cur)
    return out


def lookup(tables, layer, neuron, table, fields):
    bits = tables.info(layer, neuron, table)["in_bits"]
    addr = 0
    for f in fields:
        addr = (addr << bits) | f
    return int(tables.data(layer, neuron, table)[addr])


class Base(unittest.TestCase):
    def setUp(self):
        self.ctx = sl.Context(threads=2, seed=7)
        self.tmp = tempfile.mkdtemp(prefix="splut-py-")

    def tearDown(self):
        self.ctx.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class TestModule(Base):
    def test_numpy_mode_is_the_requested_one(self):
        if NUMPY_WANTED:
            try:
                import numpy  # noqa: F401
            except ImportError:
                self.skipTest("numpy not installed")
            self.assertTrue(sl.have_numpy())
        else:
            self.assertFalse(sl.have_numpy())

    def test_version_presets_params(self):
        self.assertEqual(sl.version().count("."), 2)
        major, minor, patch = (int(v) for v in sl.version().split("."))
        self.assertEqual(sl.version_number(), major * 10000 + minor * 100 + patch)
        self.assertIn("hdr-add2", sl.presets())
        info = sl.param_info("learning_rate")
        self.assertEqual(info["type"], "double")
        self.assertEqual(sl.param_info("threads")["type"], "int")
        self.assertIn("switch_epoch", sl.param_names())
        self.assertEqual(sl.lut6_cost(6, 3), 3)
        self.assertEqual(sl.lut6_cost(0, 3), 0)

    def test_context_properties(self):
        self.ctx.threads = 3
        self.ctx.seed = 99
        self.assertEqual((self.ctx.threads, self.ctx.seed), (3, 99))
        self.assertEqual(self.ctx.get("max_table_log2"), 20)

    def test_log_callback_receives_errors(self):
        seen = []
        self.ctx.set_log(lambda level, code, msg: seen.append((level, code, msg)))
        with self.assertRaises(sl.Error):
            self.ctx.threads = -1
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0][1], sl.E_OUT_OF_RANGE)
        self.assertIn("-1", seen[0][2])
        self.ctx.set_log(None)


class TestLoading(unittest.TestCase):
    def run_python(self, env_lib, code):
        env = dict(os.environ)
        env["SPARSELUT_LIB"] = env_lib
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True)

    def test_explicit_library_path_is_used(self):
        res = self.run_python(sl.library_path, "import sparselut; print(sparselut.library_path)")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.strip(), sl.library_path)

    def test_bad_explicit_library_path_fails_without_fallback(self):
        res = self.run_python("/nonexistent/libsparselut.so", "import sparselut")
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("SPARSELUT_LIB=/nonexistent/libsparselut.so", res.stderr)


class TestLifetimes(Base):
    def test_tables_outlive_model_and_context(self):
        codes = random_codes(20, 8, 2, 8)
        with small_model(self.ctx) as m:
            want = as_lists(m.forward_codes(codes))
            tb = m.tables()
        self.ctx.close()
        self.assertEqual(as_lists(tb.forward(codes)), want)
        tb.close()

    def test_closing_model_closes_its_trainers(self):
        m = small_model(self.ctx)
        t = sl.Trainer(m)
        m.close()
        with self.assertRaises(sl.Error) as cm:
            t.get("step")
        self.assertEqual(cm.exception.status, sl.E_NULL)
        t.close()


class TestErrors(Base):
    def assertStatus(self, status, fn, *args):
        with self.assertRaises(sl.Error) as cm:
            fn(*args)
        self.assertEqual(cm.exception.status, status, str(cm.exception))
        self.assertEqual(cm.exception.name, sl.STATUS_NAMES[status])
        return cm.exception

    def test_out_of_range_parameter_message_names_value(self):
        err = self.assertStatus(sl.E_OUT_OF_RANGE, self.ctx.set, "threads", 999)
        self.assertIn("999", err.message)
        self.assertEqual(err.message, self.ctx.last_error)
        self.assertEqual(err.function, "splut_ctx_set_int")

    def test_statuses(self):
        self.assertStatus(sl.E_UNKNOWN_PRESET, sl.Model.from_preset, self.ctx, "no-such")
        self.assertStatus(sl.E_UNKNOWN_PARAM, self.ctx.set, "no_such_param", 1)
        self.assertStatus(sl.E_IO, sl.Model.load, self.ctx, os.path.join(self.tmp, "missing"))
        with small_model(self.ctx) as m:
            self.assertStatus(sl.E_OUT_OF_RANGE, m.forward_codes, [[4] * 8])
            x, y = toy_data(4, 8, 1)
            y[2] = 3
            with sl.Trainer(m) as t:
                self.assertStatus(sl.E_LABEL, t.step, x, y)
                self.assertStatus(sl.E_INVALID, t.step, x[:1], y[:1])
                self.assertStatus(sl.E_OUT_OF_RANGE, t.set, "learning_rate", -1.0)
            self.assertStatus(sl.E_CONNECTIVITY, m.set_inputs, 0, 0, [3, 2, 1, 0])
            self.assertStatus(sl.E_INDEX, m.get_inputs, 5, 0)
            self.assertStatus(sl.E_NON_FINITE, m.predict, [[float("nan")] * 8])
            with m.tables() as tb:
                self.assertStatus(sl.E_INDEX, tb.info, 0, 99, 0)
                self.assertStatus(sl.E_INVALID, tb.emit, "verilog", self.tmp, "bad__prefix")
        bad = os.path.join(self.tmp, "bad.splut")
        with open(bad, "wb") as f:
            f.write(b"not a model file at all" * 4)
        err = self.assertStatus(sl.E_FORMAT, sl.Model.load, self.ctx, bad)
        self.assertTrue(err.message)

    def test_values_outside_c_types_raise_instead_of_wrapping(self):
        with small_model(self.ctx) as m:
            with self.assertRaises(ValueError):
                m.forward_codes([[65536 + 1] * 8])
            with self.assertRaises(ValueError):
                m.forward_codes([[-1] * 8])
            with self.assertRaises(ValueError):
                m.forward_codes([[1] * 7])  # not a whole row

    def test_table_too_large(self):
        self.ctx.max_table_log2 = 4
        self.assertStatus(sl.E_TABLE_TOO_LARGE, sl.Model.from_preset, self.ctx, "hdr")

    def test_closed_handle(self):
        m = small_model(self.ctx)
        m.close()
        m.close()
        self.assertStatus(sl.E_NULL, lambda: m.num_inputs)


class TestPipeline(Base):
    def test_small_model_trains_and_loss_drops(self):
        x, y = toy_data(128, 8, 3)
        with small_model(self.ctx) as m, sl.Trainer(m, learning_rate=0.05) as t:
            losses = [t.step(x, y) for _ in range(40)]
            self.assertEqual(t.get("step"), 40)
            self.assertLess(sum(losses[-5:]) / 5, 0.8 * losses[0])
            pred = as_lists(m.predict(x))
            acc = sum(int(p == q) for p, q in zip(pred, y)) / len(y)
            self.assertGreater(acc, 0.5)
            # predict == classify(forward(input_codes)) through three other calls
            codes = m.input_codes(x)
            self.assertEqual(as_lists(m.classify_codes(m.forward_codes(codes))), pred)
            p2, out = m.predict(x, return_codes=True)
            self.assertEqual(as_lists(out), as_lists(m.forward_codes(codes)))

    def test_soft_targets_and_output_values(self):
        x, y = toy_data(64, 8, 3)
        one_hot = [[1.0 if k == c else 0.0 for k in range(3)] for c in y]
        with small_model(self.ctx) as m, sl.Trainer(m, learning_rate=0.05) as t:
            # one-hot targets: the label loss and gradient
            loss, grad = t.loss_grad(x, y)
            loss_s, grad_s = t.loss_grad_soft(x, one_hot)
            self.assertAlmostEqual(loss, loss_s, places=6)
            self.assertEqual(as_lists(grad), as_lists(grad_s))
            self.assertEqual(t.loss_grad_soft(x, one_hot, grad=False), loss_s)
            t.step_soft(x, [[0.2, 0.3, 0.5]] * len(y))
            self.assertEqual(t.get("step"), 1)
            for bad in ([[0.2, 0.3, 0.6]] * len(y), one_hot[:10]):
                with self.assertRaises(sl.Error) as cm:
                    t.step_soft(x, bad)
                self.assertEqual(cm.exception.status, sl.E_INVALID)
            self.assertEqual(t.get("step"), 1)
            # the classifier takes the argmax of the output values
            _, out = m.predict(x, return_codes=True)
            values = as_lists(m.output_values(out))
            pred = as_lists(m.classify_codes(out))
            for row, p in zip(values, pred):
                self.assertEqual(row.index(max(row)), p)

    def test_tables_forward_equals_model_and_python_lut(self):
        x, y = toy_data(64, 8, 5)
        with small_model(self.ctx) as m:
            with sl.Trainer(m, learning_rate=0.05) as t:
                for _ in range(10):
                    t.step(x, y)
            codes = random_codes(200, 8, 2, 11)
            with m.tables() as tb:
                by_tables = as_lists(tb.forward(codes))
                self.assertEqual(by_tables, as_lists(m.forward_codes(codes)))
                self.assertEqual(lut_simulate(tb, codes[:40]), by_tables[:40])
                io = tb.io()
                self.assertEqual((io["inputs"], io["outputs"]), (8, 3))
                entries, bits = tb.totals()
                self.assertEqual(entries, sum(tb.info(l, n, t)["entries"]
                                              for l, n, t in self.all_tables(tb)))
                self.assertEqual(tb.cost(), tb.cost(0) + tb.cost(1))
                self.assertEqual(tb.cost(1), sum(
                    sl.lut6_cost(i["in_fields"] * i["in_bits"], i["out_bits"])
                    for i in (tb.info(1, n, 0) for n in range(3))))
                for layer in range(tb.num_layers):
                    for n in range(tb.layer(layer)[0]):
                        self.assertEqual(tb.inputs(layer, n), m.get_inputs(layer, n))
                rows = list(tb.rows(1, 2))
                data = as_lists(tb.data(1, 2))
                self.assertEqual(len(rows), len(data))
                bits_in = tb.info(1, 2)["in_bits"]
                for addr, fields, outv in rows:
                    packed = 0
                    for f in fields:
                        packed = (packed << bits_in) | f
                    self.assertEqual((packed, outv), (addr, data[addr]))

    @staticmethod
    def all_tables(tb):
        for layer in range(tb.num_layers):
            neurons, subs, _ = tb.layer(layer)
            for n in range(neurons):
                ids = list(range(subs)) + [sl.TABLE_ADDER] if subs else [0]
                for t in ids:
                    yield layer, n, t

    def test_table_data_view(self):
        with small_model(self.ctx) as m:
            tb = m.tables()
            data = tb.data(0, 1, sl.TABLE_ADDER)
            tb = None  # the view keeps the tables alive
            self.assertEqual(len(data), 64)
            if sl.have_numpy():
                self.assertEqual(str(data.dtype), "uint16")
                self.assertFalse(data.flags.writeable)
            else:
                self.assertIsInstance(data, list)

    def test_files_roundtrip(self):
        with small_model(self.ctx) as m:
            path = os.path.join(self.tmp, "m.splut")
            m.set("test_accuracy", 0.5)
            m.save(path)
            with sl.Model.load(self.ctx, path) as m2:
                self.assertEqual(m2.serialize(), m.serialize())
                self.assertEqual(m2.layers, m.layers)
                self.assertEqual(m2.get("test_accuracy"), 0.5)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), m.serialize())
            with sl.Model.deserialize(self.ctx, m.serialize()) as m3, m.clone() as m4:
                self.assertEqual(as_lists(m3.params), as_lists(m.params))
                self.assertEqual(m4.serialize(), m.serialize())
            masks = os.path.join(self.tmp, "masks")
            m.export_masks(masks)
            self.assertEqual(sorted(os.listdir(masks)), ["mask_layer_1.csv", "mask_layer_2.csv"])
            with small_model(self.ctx) as other:
                other.randomize_connectivity(12345)
                other.import_masks(masks)
                self.assertEqual(other.get_inputs(0, 4), m.get_inputs(0, 4))
            with m.tables() as tb:
                tpath = os.path.join(self.tmp, "t.bin")
                tb.save(tpath)
                codes = random_codes(30, 8, 2, 2)
                with sl.Tables.load(self.ctx, tpath) as tb2:
                    self.assertEqual(as_lists(tb2.forward(codes)), as_lists(tb.forward(codes)))
                tb.write_text(os.path.join(self.tmp, "txt"))
                self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, "txt"))),
                                 ["layer_0.txt", "layer_1.txt"])

    def test_trainer_save_load_resumes_exactly(self):
        x, y = toy_data(64, 8, 9)
        path = os.path.join(self.tmp, "t.trnr")
        with small_model(self.ctx) as m, sl.Trainer(m, learning_rate=0.02) as t:
            t.step(x, y)
            t.save(path)
            after = [t.step(x, y) for _ in range(3)]
            t.load(path)
            self.assertEqual(t.get("step"), 1)
            self.assertEqual([t.step(x, y) for _ in range(3)], after)

    def test_params_mutation_validate(self):
        x, y = toy_data(32, 8, 4)
        with small_model(self.ctx) as m:
            vals = as_lists(m.params)
            self.assertEqual(len(vals), m.num_params)
            m.params = [v * 0.5 for v in vals]
            self.assertEqual(as_lists(m.params), [float(v * 0.5) for v in vals])
            with sl.Trainer(m) as t:
                loss, grad = t.loss_grad(x, y)
                self.assertEqual(len(as_lists(grad)), m.num_params)
                self.assertEqual(t.loss_grad(x, y, grad=False), loss)
                self.assertEqual(t.connections(0), (6 * 2 * 2, 6 * 2 * 2))
                self.assertIs(t.model_in_training, m)
            inputs = m.get_inputs(1, 0)
            m.prune(1, 0, 0)
            free = min(set(range(6)) - set(inputs))
            m.grow(1, 0, 0, free, 0.25)
            self.assertIn(free, m.get_inputs(1, 0))
            m.validate()
            m.set_inputs(1, 0, [0, 1, 2])
            self.assertEqual(m.get_inputs(1, 0), [0, 1, 2])

    def test_calibrate_bn_replaces_running_stats_only(self):
        x, y = toy_data(64, 8, 13)
        # calibration data of another distribution than the training batches
        xc = [[3.0 * v + 1.0 for v in row] for row in toy_data(48, 8, 14)[0]]
        nan_x = [list(row) for row in xc]
        nan_x[40][5] = float("nan")  # in the last of the three batches of 16
        with small_model(self.ctx) as m, sl.Trainer(m, learning_rate=0.05) as t:
            for _ in range(3):
                t.step(x, y)
            params, before = as_lists(m.params), m.serialize()
            out_before = as_lists(m.predict(xc, return_codes=True)[1])
            loss, grad = t.loss_grad(x, y)
            t.calibrate_bn(xc, batch=len(xc))
            once = m.serialize()
            out_once = as_lists(m.predict(xc, return_codes=True)[1])
            self.assertNotEqual(once, before)
            self.assertNotEqual(out_once, out_before)
            self.assertEqual(as_lists(m.params), params)
            # train-mode passes read no running statistic; the step count stays
            loss2, grad2 = t.loss_grad(x, y)
            self.assertEqual((loss2, as_lists(grad2)), (loss, as_lists(grad)))
            self.assertEqual(t.get("step"), 3)
            # replaces rather than accumulates: the same call again changes nothing,
            # and a batch larger than the data is the same single batch
            t.calibrate_bn(xc, batch=len(xc))
            self.assertEqual(m.serialize(), once)
            t.calibrate_bn(xc, batch=1000)
            self.assertEqual(m.serialize(), once)
            t.calibrate_bn(xc, batch=16)
            self.assertNotEqual(m.serialize(), once)
            t.calibrate_bn(xc, batch=len(xc))
            self.assertEqual(m.serialize(), once)
            for bad_x, batch, status in ((nan_x, 16, sl.E_NON_FINITE), (xc, 1, sl.E_INVALID),
                                         (xc[:1], 16, sl.E_INVALID)):
                with self.assertRaises(sl.Error) as cm:
                    t.calibrate_bn(bad_x, batch=batch)
                self.assertEqual(cm.exception.status, status)
                self.assertEqual(cm.exception.function, "splut_trainer_calibrate_bn")
                self.assertEqual(m.serialize(), once)
            self.assertEqual(as_lists(m.predict(xc, return_codes=True)[1]), out_once)
            with self.assertRaises(ValueError):
                t.calibrate_bn(xc, batch=-1)
            with self.assertRaises(ValueError):
                t.calibrate_bn(xc[0][:7])  # not a whole row

    def test_learned_connectivity_shrinks_candidates(self):
        x, y = toy_data(32, 8, 6)
        with sl.Model(self.ctx, 8, 2, [sl.Layer("linear", 4, 2, 2, degree=1),
                                       sl.Layer("linear", 3, 2, 2, degree=1)]) as m:
            with sl.Trainer(m, learning_rate=0.05, connectivity=1, steps_per_epoch=2,
                            switch_epoch=3, conn_tau=0.5) as t:
                self.assertEqual(t.get("connectivity"), 1)
                t.step(x, y)
                active, cand = t.connections(0)
                self.assertGreater(cand, 4 * 2)
                self.assertLessEqual(active, cand)
                self.assertIsNot(t.model_in_training, m)
                with self.assertRaises(sl.Error) as cm:
                    t.calibrate_bn(x, batch=16)
                self.assertEqual(cm.exception.status, sl.E_STATE)
                self.assertEqual(t.model_in_training.num_outputs, 3)
                for _ in range(8):
                    t.step(x, y)
                self.assertEqual(t.connections(0), (8, 8))
                m.validate()

    def test_from_arch(self):
        with sl.Model.from_arch(self.ctx, "8:2:relu poly:4:F2:b2:D2 linear:3:F4:b2") as m:
            self.assertEqual((m.num_inputs, m.input_bits, m.num_outputs), (8, 2, 3))
            self.assertEqual(m.layers[0].kind, sl.KINDS["poly"])
        for bad in ("784:2 poly:10:", "784:2xyz linear:2:F2:b2", "8:2 linear:2:F2:b2:F3"):
            with self.assertRaises(sl.Error) as cm:
                sl.Model.from_arch(self.ctx, bad)
            self.assertEqual(cm.exception.status, sl.E_INVALID)
        with self.assertRaises(TypeError):
            sl.Model.from_arch(self.ctx, b"8:2 linear:2:F2:b2")

    def test_preset_properties(self):
        with sl.Model.from_preset(self.ctx, "jsc-m-lite-add2") as m:
            self.assertEqual((m.num_inputs, m.input_bits, m.num_outputs), (16, 3, 5))
            self.assertEqual(m.num_layers, len(m.layers))
            self.assertEqual(m.layers[0].kind, sl.KINDS["poly_add"])


class TestEmit(Base):
    def test_emit_every_format(self):
        with small_model(self.ctx) as m, m.tables() as tb:
            for fmt, ext in (("verilog", ".v"), ("vhdl", ".vhd"), ("hls", ".c")):
                d = os.path.join(self.tmp, fmt)
                tb.emit(fmt, d, prefix="py", pipeline="layer")
                self.assertTrue(any(f.endswith(ext) for f in os.listdir(d)), fmt)
            self.assertEqual(tb.latency("none"), 0)
            self.assertEqual(tb.latency("layer"), 2)
            self.assertGreaterEqual(tb.latency("sublayer"), tb.latency("layer"))

    def test_hls_testbench_compiles_and_passes(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        with small_model(self.ctx) as m, m.tables() as tb:
            d = os.path.join(self.tmp, "hls")
            codes = random_codes(50, 8, 2, 3)
            tb.emit("hls", d, prefix="py")
            tb.emit_testbench("hls", d, codes, prefix="py")
            with open(os.path.join(d, "py_in.hex")) as f:
                self.assertEqual(len(f.read().split()), 50)
            subprocess.run([cc, "-std=c99", "-O1", "-o", "tb", "py.c", "py_tb.c"], cwd=d,
                           check=True)
            res = subprocess.run(["./tb"], cwd=d, capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertIn("vectors=50 mismatches=0", res.stdout)

    def test_flags_dont_care_and_no_reset(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        with small_model(self.ctx) as m, m.tables() as tb:
            d = os.path.join(self.tmp, "flags")
            tb.emit("verilog", d, prefix="py", pipeline="layer", no_reset=True)
            with open(os.path.join(d, "py_reg.v")) as f:
                self.assertNotIn("if (rst)", f.read())
            tb.emit("verilog", d, prefix="pr", pipeline="layer")
            with open(os.path.join(d, "pr_reg.v")) as f:
                self.assertIn("if (rst)", f.read())
            # don't-cares keep every output: the HLS driver checks 200 vectors
            codes = random_codes(200, 8, 2, 5)
            tb.emit("hls", d, prefix="dc", dont_care=True)
            tb.emit_testbench("hls", d, codes, prefix="dc", dont_care=True)
            subprocess.run([cc, "-std=c99", "-O1", "-o", "tb", "dc.c", "dc_tb.c"], cwd=d,
                           check=True)
            res = subprocess.run(["./tb"], cwd=d, capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertIn("vectors=200 mismatches=0", res.stdout)

    def test_fill_dont_cares(self):
        with small_model(self.ctx) as m, m.tables() as tb, tb.fill_dont_cares() as filled:
            self.assertEqual(filled.num_layers, tb.num_layers)
            codes = random_codes(300, 8, 2, 7)
            self.assertEqual(lut_simulate(filled, codes), lut_simulate(tb, codes))
            # emitting the filled tables plainly gives the design of the flag
            a, b = os.path.join(self.tmp, "dc"), os.path.join(self.tmp, "filled")
            tb.emit("hls", a, prefix="x", dont_care=True)
            filled.emit("hls", b, prefix="x")
            with open(os.path.join(a, "x.c")) as fa, open(os.path.join(b, "x.c")) as fb:
                self.assertEqual(fa.read(), fb.read())


class TestInputStage(Base):
    """Raw fixed-point features through the hardware comparators (HLS C driver)."""

    def _raw_model(self):
        m = small_model(self.ctx)
        r = random.Random(11)
        # a trained-looking layer-0 BatchNorm: per-feature shifts and scales of both signs
        with sl.Trainer(m) as tr:
            x = [[r.uniform(-3, 3) for _ in range(8)] for _ in range(64)]
            y = [r.randrange(3) for _ in range(64)]
            tr.step(x, y)
        return m

    def test_fit_and_thresholds(self):
        rows = [[-1.5, 3.2], [0.0, 1.0]]
        ds = sl.Dataset(rows, [0, 1], self.ctx)
        fmt = sl.InputFormat.fit([ds], bits=8)
        self.assertEqual((fmt.signed, fmt.frac_bits), (True, 5))
        self.assertAlmostEqual(fmt.value(0, -48), -1.5)
        with self.assertRaises(sl.Error) as cm:
            sl.InputFormat.fit([sl.Dataset([[300.0]], [0], self.ctx)], bits=8)
        self.assertEqual(cm.exception.name, "SPLUT_E_OUT_OF_RANGE")
        with self.assertRaises(ValueError):
            sl.InputStage(small_model(self.ctx), sl.InputFormat(8, offset=[0.0] * 3))

    def test_hls_raw_testbench_bit_exact(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        with self._raw_model() as m, m.tables() as tb:
            fmt = sl.InputFormat(10, signed=True, frac_bits=7)  # s10.7: [-4, 4)
            stage = sl.InputStage(m, fmt)
            for f in range(8):
                t = stage.thresholds(f)
                self.assertEqual(t, sorted(t))
                # the code changes exactly at each threshold (float path itself)
                for th in t:
                    lo, hi = stage.software_codes([[th - 1 if g == f else 0 for g in range(8)],
                                                   [th if g == f else 0 for g in range(8)]])
                    self.assertNotEqual(list(lo)[f], list(hi)[f])
            r = random.Random(3)
            raw = [[r.randrange(-512, 512) for _ in range(8)] for _ in range(300)]
            raw += [[t for _ in range(8)] for f in range(8) for t in stage.thresholds(f)]
            codes = stage.software_codes(raw)
            d = os.path.join(self.tmp, "raw")
            tb.emit("hls", d, prefix="rw", input_stage=stage)
            tb.emit_testbench_raw("hls", d, stage, raw, codes, prefix="rw")
            subprocess.run([cc, "-std=c99", "-O1", "-o", "tb", "rw.c", "rw_tb.c"], cwd=d,
                           check=True)
            res = subprocess.run(["./tb"], cwd=d, capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertIn("vectors=%d mismatches=0" % len(raw), res.stdout)
            # the testbench can fail: wrong expected codes give mismatches
            bad = [[(c + 1) % 4 for c in row] for row in (list(map(list, codes)))]
            tb.emit_testbench_raw("hls", d, stage, raw, bad, prefix="rw")
            subprocess.run([cc, "-std=c99", "-O1", "-o", "tb", "rw.c", "rw_tb.c"], cwd=d,
                           check=True)
            res = subprocess.run(["./tb"], cwd=d, capture_output=True, text=True)
            self.assertNotEqual(res.returncode, 0)


if __name__ == "__main__":
    unittest.main()
