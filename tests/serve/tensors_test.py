"""The model server's pure parts, without a server: tensor decoding and encoding, and metrics
summed across forked processes. Run by ctest with /usr/bin/python3 (python3-numpy)."""
import os
import sys
import unittest
from unittest import mock

import numpy

# Everything under templates/ is embedded into mlctl: no __pycache__ may appear there.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "templates", "serve"))
import mlctl_metrics  # noqa: E402
import mlctl_tensors  # noqa: E402
from mlctl_tensors import BadRequest, decode_input, decode_request, encode_output  # noqa: E402


class TensorsTest(unittest.TestCase):
    def test_nested_and_flat_data_give_the_same_array_of_the_declared_type(self):
        nested = decode_input({"name": "x", "shape": [2, 3], "datatype": "INT32", "data": [[1, 2, 3], [4, 5, 6]]}, 0)
        flat = decode_input({"name": "x", "shape": [2, 3], "datatype": "INT32", "data": [1, 2, 3, 4, 5, 6]}, 0)
        for name, datatype, value in (nested, flat):
            self.assertEqual((name, datatype, value.dtype, value.tolist()),
                             ("x", "INT32", numpy.dtype("int32"), [[1, 2, 3], [4, 5, 6]]))

    def test_values_that_do_not_fit_the_datatype_are_refused(self):
        cases = [
            ("UINT8", [256], 'input \'x\': data[0] = 256 is not UINT8'),
            ("INT8", [-129], "input 'x': data[0] = -129 is not INT8"),
            ("INT64", [True], "input 'x': data[0] = true is not INT64"),
            ("BOOL", [1], "input 'x': data[0] = 1 is not BOOL"),
            ("INT64", [1.5], "input 'x': data[0] = 1.5 is not INT64"),
            ("FP32", [None], "input 'x': data[0] = null is not FP32"),
        ]
        for datatype, data, message in cases:
            with self.subTest(datatype=datatype, data=data):
                with self.assertRaises(BadRequest) as raised:
                    decode_input({"name": "x", "shape": [1], "datatype": datatype, "data": data}, 0)
                self.assertEqual(str(raised.exception), message)

    def test_malformed_tensors_name_what_is_wrong(self):
        cases = [
            ([], "inputs[0] is not an object"),
            ({"shape": [1], "datatype": "FP64", "data": [1]}, "inputs[0] has no name"),
            ({"name": "x", "shape": [-1], "datatype": "FP64", "data": [1]},
             "input 'x': shape must be a list of non-negative integers, got [-1]"),
            ({"name": "x", "shape": [1], "datatype": "FP64", "data": 1},
             "input 'x': data must be a list (flat, or nested as the shape)"),
        ]
        for tensor, message in cases:
            with self.subTest(tensor=tensor):
                with self.assertRaises(BadRequest) as raised:
                    decode_input(tensor, 0)
                self.assertEqual(str(raised.exception), message)
        with self.assertRaises(BadRequest) as raised:
            decode_request(b'{"id": 7, "inputs": []}')
        self.assertEqual(str(raised.exception), '"id" must be a string')

    def test_outputs_carry_the_shape_and_datatype_of_the_prediction(self):
        self.assertEqual(encode_output("predict", numpy.array([[1.5], [2.5]], dtype="float32")),
                         {"name": "predict", "shape": [2, 1], "datatype": "FP32", "data": [1.5, 2.5]})
        self.assertEqual(encode_output("predict", numpy.array(["a", "b"])),
                         {"name": "predict", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]})
        self.assertEqual(encode_output("predict", [True, False])["datatype"], "BOOL")

    def test_without_numpy_tensors_are_nested_lists(self):
        with mock.patch.object(mlctl_tensors, "numpy", None):
            self.assertEqual(decode_input({"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]}, 0),
                             ("x", "FP64", [[1, 2], [3, 4]]))
            self.assertEqual(encode_output("predict", [[1, 2], [3, 4]]),
                             {"name": "predict", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]})
            self.assertEqual(encode_output("predict", ["yes", "no"])["datatype"], "BYTES")


class MetricsTest(unittest.TestCase):
    def test_counts_from_forked_processes_add_up(self):
        metrics = mlctl_metrics.SharedMetrics()
        self.addCleanup(metrics.close)
        children = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                metrics.after_fork()
                for _ in range(100):
                    metrics.record("infer", 200, 0.003)
                metrics.record("infer", 400, 20.0)
                os._exit(0)
            children.append(pid)
        for pid in children:
            self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 0)
        metrics.record("health_ready", 200, 0.0)
        snapshot = metrics.snapshot()
        self.assertEqual(snapshot["requests"], {("infer", 200): 300, ("infer", 400): 3, ("health_ready", 200): 1})
        self.assertEqual(snapshot["errors"], 3)
        self.assertEqual(snapshot["count"], 303)
        self.assertAlmostEqual(snapshot["sum"], 300 * 0.003 + 60.0)

        text = mlctl_metrics.render(snapshot, 'a"b', True)
        self.assertIn('mlctl_requests_total{model="a\\"b",endpoint="infer",code="200"} 300\n', text)
        self.assertIn('mlctl_request_duration_seconds_bucket{model="a\\"b",le="0.0025"} 0\n', text)
        self.assertIn('mlctl_request_duration_seconds_bucket{model="a\\"b",le="0.005"} 300\n', text)
        self.assertIn('mlctl_request_duration_seconds_bucket{model="a\\"b",le="10.0"} 300\n', text)
        self.assertIn('mlctl_request_duration_seconds_bucket{model="a\\"b",le="+Inf"} 303\n', text)
        self.assertIn('mlctl_request_errors_total{model="a\\"b"} 3\n', text)
        self.assertIn("# TYPE mlctl_model_loaded gauge\nmlctl_model_loaded{model=\"a\\\"b\"} 1\n", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
