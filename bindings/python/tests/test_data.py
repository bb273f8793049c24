# SPDX-License-Identifier: Apache-2.0
"""Dataset and load_dataset: loaders through libsparselut-data, array views
that outlive the handle, errors with file:line:column, copy and pickle."""

import copy
import gc
import os
import pickle
import shutil
import tempfile
import unittest

import sparselut as sl

CSV = "a,b,label\n1,2,0\n3,4,1\n5,6,1\n7,8,0\n9,10,2\n"


def rows(x):
    return [list(map(float, r)) for r in x]


class DatasetTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.csv = os.path.join(self.dir, "d.csv")
        with open(self.csv, "w") as f:
            f.write(CSV)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_csv_split_and_views_outlive_close(self):
        train, test = sl.load_dataset("csv:" + self.csv, split=0.2, seed=42)
        self.assertEqual((len(train), len(test)), (4, 1))
        self.assertEqual(train.num_features, 2)
        got = sorted(rows(train.x) + rows(test.x))
        self.assertEqual(got, [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]])
        want = {(1.0, 2.0): 0, (3.0, 4.0): 1, (5.0, 6.0): 1, (7.0, 8.0): 0, (9.0, 10.0): 2}
        for part in (train, test):
            for r, label in zip(rows(part.x), list(part.y)):
                self.assertEqual(want[tuple(r)], int(label))
        x, y = train.x, train.y
        before = (rows(x), [int(v) for v in y])
        train.close()
        test.close()
        del train, test
        gc.collect()
        # the views keep their own reference to the C dataset
        self.assertEqual((rows(x), [int(v) for v in y]), before)
        if sl.have_numpy():
            self.assertFalse(x.flags.writeable)
            self.assertEqual(x.shape, (4, 2))

    def test_separate_test_file_standardize(self):
        other = os.path.join(self.dir, "t.csv")
        with open(other, "w") as f:
            f.write("a,b,label\n1,1,1\n")
        train, test = sl.load_dataset("csv:%s,%s" % (self.csv, other), standardize=True)
        self.assertEqual((len(train), len(test)), (5, 1))
        col = [r[0] for r in rows(train.x)]
        self.assertAlmostEqual(sum(col) / 5, 0.0, places=5)

    def test_errors_name_file_line_column(self):
        bad = os.path.join(self.dir, "bad.csv")
        with open(bad, "w") as f:
            f.write("a,b\n1,0\n1e300,1\n")
        with self.assertRaises(sl.Error) as cm:
            sl.load_dataset("csv:" + bad)
        self.assertEqual(cm.exception.name, "SPLUT_E_FORMAT")
        self.assertIn("bad.csv:3:1", cm.exception.message)
        with self.assertRaises(sl.Error) as cm:
            sl.load_dataset("csv:" + self.csv, label="zz")
        self.assertIn("no column named 'zz'", cm.exception.message)
        with self.assertRaises(sl.Error) as cm:
            sl.load_dataset("mnist:" + self.dir)
        self.assertIn("not found", cm.exception.message)
        with self.assertRaises(ValueError):
            sl.load_dataset("csv:" + self.csv, seed=2 ** 32)

    def test_from_arrays_copy_and_pickle(self):
        train, _ = sl.load_dataset("csv:" + self.csv, split=0.2, seed=1)
        x, y = rows(train.x), [int(v) for v in train.y]
        made = sl.Dataset(x, y)
        self.assertEqual(made.fingerprint, train.fingerprint)
        self.assertEqual(made.num_classes, max(y) + 1)
        twin = copy.copy(made)
        made.close()
        self.assertEqual(rows(twin.x), x)
        self.assertEqual(copy.deepcopy(twin).fingerprint, train.fingerprint)
        with self.assertRaises(TypeError):
            pickle.dumps(twin)
        with self.assertRaises(sl.Error):
            len(made)
        with self.assertRaises(sl.Error):
            sl.Dataset([[1.0, float("nan")]], [0])


    def test_standardize_matches_loader(self):
        raw_tr, raw_te = sl.load_dataset("csv:" + self.csv, split=0.2, seed=1)
        std_tr, std_te = sl.load_dataset("csv:" + self.csv, split=0.2, seed=1, standardize=True)
        mean, sd = raw_tr.feature_stats()
        self.assertEqual(len(mean), raw_tr.num_features)
        self.assertTrue(all(v > 0 for v in sd))
        self.assertEqual(raw_tr.standardize(mean, sd).fingerprint, std_tr.fingerprint)
        self.assertEqual(raw_te.standardize(mean, sd).fingerprint, std_te.fingerprint)
        with self.assertRaises(ValueError):
            raw_tr.standardize(mean[:-1], sd)
        with self.assertRaises(sl.Error) as cm:
            raw_tr.standardize(mean, [0.0] * len(sd))
        self.assertEqual(cm.exception.name, "SPLUT_E_INVALID")


if __name__ == "__main__":
    unittest.main()
