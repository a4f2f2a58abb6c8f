"""templates/serve/server.py as users run it: a real server with two worker processes on loopback.

The model is the sklearn template's (templates/init/sklearn/train.py), so the predictions the
server gives can be compared with the model's own in this process. Every wait is bounded and
tearDown kills the server's whole process group. Run by ctest with /usr/bin/python3 (Debian's
python3-sklearn and python3-numpy).
"""
import collections
import http.client
import json
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import numpy
from sklearn.datasets import load_breast_cancer

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVE = os.path.join(SOURCE, "templates", "serve")
TRAIN = os.path.join(SOURCE, "templates", "init", "sklearn", "train.py")
TIMEOUT = 30.0

HOOK = '''
import pickle

def load(path):
    with open(path, "rb") as source:
        return pickle.load(source)

def predict(model, inputs):
    return model.predict_proba(inputs[0])[:, 1]
'''


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def endpoint_of(path):
    """The endpoint label the server's metrics give a request for `path`."""
    if path in ("/metrics", "/v2"):
        return {"/metrics": "metrics", "/v2": "server_metadata"}[path]
    if path.startswith("/v2/health/"):
        return "health_" + path.rsplit("/", 1)[1]
    return {"infer": "infer", "ready": "model_ready"}.get(path.rsplit("/", 1)[1], "model_metadata")


def parent_of(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="mlctl-serve-test-")
        cls.model_path = os.path.join(cls.work, "model.pkl")
        subprocess.run([sys.executable, TRAIN, "--model", cls.model_path, "--metrics",
                        os.path.join(cls.work, "metrics.json")], check=True, timeout=300, stdout=subprocess.DEVNULL)
        with open(cls.model_path, "rb") as source:
            cls.model = pickle.load(source)
        cls.rows = load_breast_cancer(return_X_y=True)[0][:20]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.server = None
        self.dir = tempfile.mkdtemp(prefix="server-", dir=self.work)
        self.answers = collections.Counter()  # (endpoint, code) of every answer this test got

    def tearDown(self):
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=TIMEOUT)

    def start(self, hook=None, **env):
        """Copies the server (and a predict.py hook) into a folder, as mlctl serve does, and runs it."""
        for name in os.listdir(SERVE):
            if name.endswith(".py"):
                shutil.copy(os.path.join(SERVE, name), self.dir)
        if hook is not None:
            with open(os.path.join(self.dir, "predict.py"), "w") as out:
                out.write(hook)
        self.port = free_port()
        environment = dict(os.environ, MLCTL_MODEL_NAME="cancer", MLCTL_MODEL_VERSION="3", MLCTL_FLAVOR="sklearn",
                           MLCTL_MODEL_PATH=self.model_path, MLCTL_HOST="127.0.0.1", MLCTL_PORT=str(self.port),
                           MLCTL_WORKERS="2")
        environment.update(env)
        self.log_path = os.path.join(self.dir, "server.log")
        with open(self.log_path, "wb") as log:
            self.server = subprocess.Popen([sys.executable, os.path.join(self.dir, "server.py")], env=environment,
                                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                           start_new_session=True)
        wait_until(lambda: self.events("serving") or self.server.poll() is not None, "the server to load the model")
        self.assertIsNone(self.server.poll(), self.read_log())
        wait_until(lambda: self.ready(), "/v2/health/ready to answer 200")

    def ready(self):
        try:
            return self.request("GET", "/v2/health/ready")[0] == 200
        except OSError:
            return False

    def read_log(self):
        with open(self.log_path) as log:
            return log.read()

    def events(self, event):
        found = []
        for line in self.read_log().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line being written
            if record["event"] == event:
                found.append(record)
        return found

    def request(self, method, path, body=None):
        """(status, JSON or text body) over a new connection, so that either worker may answer."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
            connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        self.answers[(endpoint_of(path), response.status)] += 1
        if response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, json.loads(text)
        return response.status, text

    def infer(self, rows, **extra):
        body = {"inputs": [{"name": "x", "shape": list(rows.shape), "datatype": "FP64", "data": rows.tolist()}]}
        body.update(extra)
        return self.request("POST", "/v2/models/cancer/infer", body)

    def stop(self):
        self.server.send_signal(signal.SIGTERM)
        return self.server.wait(timeout=TIMEOUT)

    def test_metadata_names_the_model_and_its_version(self):
        self.start()
        status, metadata = self.request("GET", "/v2/models/cancer")
        self.assertEqual(status, 200)
        self.assertEqual(metadata, {"name": "cancer", "versions": ["3"], "platform": "sklearn",
                                    "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 30]}],
                                    "outputs": [{"name": "predict", "datatype": "INT64", "shape": [-1]}]})
        self.assertEqual(self.request("GET", "/v2/models/cancer/versions/3/ready"),
                         (200, {"name": "cancer", "ready": True}))
        self.assertEqual(self.request("GET", "/v2"), (200, {"name": "mlctl", "version": "1", "extensions": []}))

    def test_infer_gives_the_models_own_predictions(self):
        self.start()
        expected = self.model.predict(self.rows).tolist()
        status, response = self.infer(self.rows, id="req-7")
        self.assertEqual(status, 200, response)
        self.assertEqual(response, {"model_name": "cancer", "model_version": "3", "id": "req-7",
                                    "outputs": [{"name": "predict", "shape": [20], "datatype": "INT64",
                                                 "data": expected}]})
        flat = {"inputs": [{"name": "x", "shape": [20, 30], "datatype": "FP64", "data": self.rows.ravel().tolist()}]}
        status, response = self.request("POST", "/v2/models/cancer/versions/3/infer", flat)
        self.assertEqual(status, 200, response)
        self.assertEqual(response["outputs"][0]["data"], expected)
        self.assertNotIn("id", response)

    def test_bad_requests_get_400_with_a_message_and_unknown_models_404(self):
        self.start()
        cases = [
            (b"{not json", "the body is not JSON: Expecting property name enclosed in double quotes: "
                           "line 1 column 2 (char 1)"),
            ({"inputs": []}, '"inputs" must be a non-empty list of tensors {"name", "shape", "datatype", "data"}'),
            ({"inputs": [{"name": "x", "shape": [20, 3], "datatype": "FP64", "data": self.rows[:, :3].tolist()}]},
             "input 'x' has shape [20, 3]; the model takes [-1, 30] (rows of 30 features)"),
            ({"inputs": [{"name": "x", "shape": [2, 30], "datatype": "FP64", "data": [1.0] * 59}]},
             "input 'x': shape [2, 30] holds 60 values, data has 59"),
            ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": ["a"] * 30}]},
             "input 'x': data[0] = \"a\" is not FP64"),
            ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP128", "data": [1.0] * 30}]},
             "input 'x': datatype \"FP128\" is not one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, "
             "INT32, INT64, FP16, FP32, FP64, BYTES"),
            ({"inputs": [{"name": "x", "shape": [1, 30], "datatype": "BYTES", "data": ["a"] * 30}]},
             "input 'x' is BYTES; the model takes numbers (FP64)"),
        ]
        for body, message in cases:
            with self.subTest(body=str(body)[:60]):
                self.assertEqual(self.request("POST", "/v2/models/cancer/infer", body), (400, {"error": message}))
        self.assertEqual(self.request("POST", "/v2/models/other/infer", {"inputs": []}),
                         (404, {"error": "model 'other' is not served here; this server serves 'cancer'"}))
        self.assertEqual(self.request("GET", "/v2/models/cancer/versions/2"),
                         (404, {"error": "cancer version 2 is not served here; this server serves version 3"}))

    def test_metrics_count_every_request_of_both_workers_and_the_model_is_loaded_once(self):
        self.start()
        for _ in range(10):
            self.assertEqual(self.infer(self.rows[:2])[0], 200)
        self.assertEqual(self.request("POST", "/v2/models/cancer/infer", b"[]")[0], 400)
        self.assertEqual(self.request("GET", "/v2/models/nope")[0], 404)
        workers = {line["worker"] for line in self.events("worker started")}
        self.assertEqual(len(workers), 2)

        def answered_by():
            return {line["pid"] for line in self.events("request")}
        # Which worker accepts a connection is the kernel's choice: ask until both have answered.
        for _ in range(200):
            if answered_by() == workers:
                break
            self.infer(self.rows[:1])
        self.assertEqual(answered_by(), workers)

        status, text = self.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.answers[("metrics", 200)] -= 1  # a scrape counts the requests before it
        counted = {(endpoint, int(code)): int(value) for endpoint, code, value in re.findall(
            r'^mlctl_requests_total\{model="cancer",endpoint="(\w+)",code="(\d+)"\} (\d+)$', text, re.M)}
        self.assertEqual(counted, {key: n for key, n in self.answers.items() if n})
        infers = sum(n for (endpoint, _), n in self.answers.items() if endpoint == "infer")
        self.assertIn(f'mlctl_request_duration_seconds_count{{model="cancer"}} {infers}\n', text)
        self.assertIn(f'mlctl_request_duration_seconds_bucket{{model="cancer",le="+Inf"}} {infers}\n', text)
        self.assertIn('mlctl_request_errors_total{model="cancer"} 2\n', text)
        self.assertIn('mlctl_model_loaded{model="cancer"} 1\n', text)

        loaded = self.events("model loaded")
        self.assertEqual(len(loaded), 1, "the parent loads the model once; workers never do")
        self.assertEqual(loaded[0]["pid"], self.server.pid)
        self.assertEqual({parent_of(pid) for pid in workers}, {self.server.pid})

    def test_sigterm_stops_every_worker_and_exits_zero(self):
        self.start()
        workers = {line["worker"] for line in self.events("worker started")}
        self.assertEqual(self.stop(), 0, self.read_log())
        self.assertEqual([pid for pid in workers if alive(pid)], [])
        self.assertEqual(self.events("stopped")[0]["pid"], self.server.pid)

    def test_a_dead_worker_is_replaced(self):
        self.start()
        first = {line["worker"] for line in self.events("worker started")}
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(self.events("worker started")) == 3, "a new worker")
        exited = self.events("worker exited")
        self.assertEqual([(line["worker"], line["status"]) for line in exited], [(victim, "killed by SIGKILL")])
        self.assertEqual(self.infer(self.rows)[1]["outputs"][0]["data"], self.model.predict(self.rows).tolist())
        self.assertEqual(len(self.events("model loaded")), 1)
        self.assertEqual(self.stop(), 0)

    def test_a_predict_hook_replaces_loading_and_prediction(self):
        self.start(hook=HOOK)
        status, response = self.infer(self.rows)
        self.assertEqual(status, 200, response)
        output = response["outputs"][0]
        self.assertEqual((output["datatype"], output["shape"]), ("FP64", [20]))
        numpy.testing.assert_allclose(output["data"], self.model.predict_proba(self.rows)[:, 1], rtol=1e-12)
        self.assertEqual(self.events("predict hook")[0]["load"], True)

    def test_a_predict_py_without_load_or_predict_is_ignored(self):
        with open(os.path.join(SOURCE, "templates", "init", "sklearn", "predict.py")) as template:
            self.start(hook=template.read())
        self.assertEqual(self.events("predict hook ignored")[0]["reason"],
                         "it defines neither load(path) nor predict(model, inputs)")
        self.assertEqual(self.infer(self.rows)[1]["outputs"][0]["data"], self.model.predict(self.rows).tolist())

    def test_a_directory_holding_one_file_of_any_name_serves_that_file(self):
        # As a model image mounted by Kubernetes (packaging modelcar) holds a file artifact:
        # models/<its own name>.
        models = os.path.join(self.dir, "image", "models")
        os.makedirs(models)
        shutil.copy(self.model_path, os.path.join(models, "cancer-v3.joblib"))
        self.start(MLCTL_MODEL_PATH=models)
        self.assertEqual(self.infer(self.rows)[1]["outputs"][0]["data"], self.model.predict(self.rows).tolist())
        self.assertEqual(self.events("model loaded")[0]["path"], models)

    def test_bad_configuration_exits_2_and_a_missing_model_1(self):
        empty, several = os.path.join(self.dir, "empty"), os.path.join(self.dir, "several")
        os.makedirs(empty)
        os.makedirs(os.path.join(several, "weights"))
        for name in ("a.bin", "b.bin"):
            shutil.copy(self.model_path, os.path.join(several, name))
        for env, code, message in [
            ({"MLCTL_WORKERS": "zero"}, 2, "MLCTL_WORKERS='zero' is not a number"),
            ({"MLCTL_FLAVOR": "pytorch"}, 2, "MLCTL_FLAVOR=pytorch: this server serves sklearn and generic models"),
            ({"MLCTL_MODEL_PATH": empty}, 1, f"MLCTL_MODEL_PATH={empty}: no model.pkl in it, and no other file"),
            ({"MLCTL_MODEL_PATH": several}, 2, f"MLCTL_MODEL_PATH={several}: no model.pkl in it, and not exactly one "
                                               "file: it holds a.bin, b.bin, weights; point MLCTL_MODEL_PATH at the "
                                               "model file"),
            ({"MLCTL_MODEL_PATH": os.path.join(several, "weights")}, 1,
             f"MLCTL_MODEL_PATH={several}/weights: no model.pkl in it, and no other file"),
            ({"MLCTL_MODEL_PATH": os.path.join(several, "nothing")}, 1,
             f"MLCTL_MODEL_PATH={several}/nothing: no such file"),
        ]:
            with self.subTest(env=env):
                # Run in templates/serve, which is embedded into mlctl: no __pycache__ there.
                environment = dict(os.environ, MLCTL_MODEL_NAME="cancer", MLCTL_MODEL_PATH=self.model_path,
                                   MLCTL_HOST="127.0.0.1", MLCTL_PORT=str(free_port()), PYTHONDONTWRITEBYTECODE="1")
                environment.update(env)
                done = subprocess.run([sys.executable, os.path.join(SERVE, "server.py")], env=environment,
                                      capture_output=True, text=True, timeout=TIMEOUT)
                self.assertEqual(done.returncode, code, done.stderr)
                self.assertIn(message, json.loads(done.stderr.splitlines()[-1])["error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
