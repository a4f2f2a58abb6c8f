"""The mlctl model server: one registered model over the Open Inference Protocol v2 (KServe v2 REST).

`mlctl serve --local` runs it (see mlctl-serve(1)); it needs Python 3.11's standard library and
whatever the model needs to unpickle (sklearn, numpy). Configured by the environment:

  MLCTL_MODEL_NAME     the model's name, as clients write it in /v2/models/NAME (required)
  MLCTL_MODEL_VERSION  its version (default 1)
  MLCTL_MODEL_PATH     the model: a pickle, or a directory holding model.pkl or else exactly one
                       file, of any name (a model image's models/ folder) (required)
  MLCTL_FLAVOR         sklearn or generic (the default): a pickle whose object has .predict()
  MLCTL_PREDICT        a predict.py hook (default: predict.py next to this file, if there is one)
  MLCTL_HOST           the address to listen on (default 0.0.0.0)
  MLCTL_PORT           the port (default 8080)
  MLCTL_WORKERS        worker processes (default 2)

A predict.py hook may define load(path) -> model and predict(model, inputs) -> list or array,
where inputs holds the request's tensors in order as numpy arrays (nested lists without numpy);
each one it defines replaces the default. One that defines neither (a command-line script) is
ignored.

Each request is logged as one JSON line on stderr (never its body). Exit status: 0 after SIGTERM
or SIGINT, 1 when the port or the model cannot be had, 2 for bad configuration.

This file loads the model and runs the workers; mlctl_http.py answers requests in a worker,
mlctl_tensors.py converts tensors and mlctl_metrics.py keeps the metrics all workers share.
"""
import dataclasses
import functools
import gc
import importlib.util
import os
import pickle
import select
import signal
import socket
import sys
import time
import traceback

from mlctl_http import STOP_GRACE, STOP_SIGNALS, App, log, run_worker
from mlctl_metrics import SharedMetrics
from mlctl_tensors import NUMERIC, BadRequest, datatype_of, numpy

FLAVORS = ("sklearn", "generic")


class ConfigError(Exception):
    """Bad configuration: exit 2."""


class StartupError(Exception):
    """The port or the model cannot be had: exit 1."""


@dataclasses.dataclass(frozen=True)
class Config:
    name: str
    version: str
    path: str
    flavor: str
    predict: str
    host: str
    port: int
    workers: int


def _number(env, key, default, low, high):
    text = env.get(key, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{key}={text!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{key}={value}: expected {low}..{high}")
    return value


def read_config(env):
    if not env.get("MLCTL_MODEL_NAME"):
        raise ConfigError("MLCTL_MODEL_NAME is not set: the name clients use in /v2/models/NAME")
    if not env.get("MLCTL_MODEL_PATH"):
        raise ConfigError("MLCTL_MODEL_PATH is not set: the model file, or a directory holding model.pkl or one file")
    return Config(name=env["MLCTL_MODEL_NAME"], version=env.get("MLCTL_MODEL_VERSION") or "1",
                  path=env["MLCTL_MODEL_PATH"], flavor=env.get("MLCTL_FLAVOR") or "generic",
                  predict=env.get("MLCTL_PREDICT", ""), host=env.get("MLCTL_HOST") or "0.0.0.0",
                  port=_number(env, "MLCTL_PORT", 8080, 0, 65535), workers=_number(env, "MLCTL_WORKERS", 2, 1, 256))


@dataclasses.dataclass
class Served:
    config: Config
    model: object
    predict: object  # [(name, datatype, value)] -> result
    signature: dict  # {"inputs": [...], "outputs": [...]} for the metadata endpoint


def load_hook(config):
    """The predict.py module, or None when there is none or it defines neither load nor predict."""
    path = config.predict or os.path.join(os.path.dirname(os.path.abspath(__file__)), "predict.py")
    if not os.path.isfile(path):
        if config.predict:
            raise ConfigError(f"MLCTL_PREDICT={path}: no such file")
        return None
    spec = importlib.util.spec_from_file_location("mlctl_predict_hook", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise StartupError(f"importing {path}: {type(error).__name__}: {error}") from error
    if not callable(getattr(module, "load", None)) and not callable(getattr(module, "predict", None)):
        log("predict hook ignored", level="warning", path=path,
            reason="it defines neither load(path) nor predict(model, inputs)")
        return None
    log("predict hook", path=path, load=callable(getattr(module, "load", None)),
        predict=callable(getattr(module, "predict", None)))
    return module


def model_file(path):
    """The file MLCTL_MODEL_PATH names: itself, a directory's model.pkl, or the one file a directory holds."""
    if not os.path.isdir(path):
        if not os.path.isfile(path):
            raise StartupError(f"MLCTL_MODEL_PATH={path}: no such file")
        return path
    pickled = os.path.join(path, "model.pkl")
    if os.path.isfile(pickled):
        return pickled
    entries = sorted(os.listdir(path))
    if not entries:
        raise StartupError(f"MLCTL_MODEL_PATH={path}: no model.pkl in it, and no other file")
    if len(entries) == 1 and os.path.isfile(os.path.join(path, entries[0])):
        return os.path.join(path, entries[0])
    shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
    raise ConfigError(f"MLCTL_MODEL_PATH={path}: no model.pkl in it, and not exactly one file: it holds {shown}; "
                      "point MLCTL_MODEL_PATH at the model file")


def load_pickle(path):
    with open(model_file(path), "rb") as source:
        return pickle.load(source)


def signature(model):
    features = getattr(model, "n_features_in_", None)
    output = "FP64"
    classes = getattr(model, "classes_", None)
    if classes is not None and numpy is not None:
        try:
            output = datatype_of(numpy.asarray(classes).dtype)
        except ValueError:
            pass
    return {"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, int(features) if features else -1]}],
            "outputs": [{"name": "predict", "datatype": output, "shape": [-1]}]}


def default_predict(model, features, inputs):
    """model.predict on the one input, checked first so a wrong tensor gets a clear 400."""
    if len(inputs) != 1:
        raise BadRequest(f"this model takes one input tensor, got {len(inputs)} (a predict.py hook can take several)")
    name, datatype, value = inputs[0]
    if datatype not in NUMERIC:
        raise BadRequest(f"input '{name}' is {datatype}; the model takes numbers (FP64)")
    shape = list(numpy.shape(value)) if numpy is not None else None
    if features and shape is not None and (len(shape) != 2 or shape[1] != features):
        raise BadRequest(f"input '{name}' has shape {shape}; the model takes [-1, {features}] "
                         f"(rows of {features} features)")
    return model.predict(value)


def load_served(config):
    hook = load_hook(config)
    hook_load = getattr(hook, "load", None) if hook else None
    hook_predict = getattr(hook, "predict", None) if hook else None
    if hook_predict is None and config.flavor not in FLAVORS:
        raise ConfigError(f"MLCTL_FLAVOR={config.flavor}: this server serves {' and '.join(FLAVORS)} models "
                          "(a pickle with .predict()); for others, add a predict.py with predict(model, inputs)")
    started = time.monotonic()
    try:
        model = hook_load(config.path) if hook_load else load_pickle(config.path)
    except (StartupError, ConfigError):
        raise
    except Exception as error:
        raise StartupError(f"loading the model from {config.path}: {type(error).__name__}: {error}") from error
    if hook_predict:
        predict = lambda inputs: hook_predict(model, [value for _, _, value in inputs])  # noqa: E731
    elif callable(getattr(model, "predict", None)):
        predict = functools.partial(default_predict, model, getattr(model, "n_features_in_", None))
    else:
        raise StartupError(f"the model in {config.path} ({type(model).__name__}) has no predict(); "
                           "add a predict.py with predict(model, inputs)")
    log("model loaded", model=config.name, version=config.version, path=config.path,
        type=type(model).__name__, seconds=round(time.monotonic() - started, 3))
    return Served(config=config, model=model, predict=predict, signature=signature(model))


def listen(config):
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    try:
        listener = socket.create_server((config.host, config.port), family=family, backlog=128)
    except OSError as error:
        raise StartupError(f"listening on {config.host}:{config.port}: {error.strerror or error}") from None
    listener.setblocking(False)
    return listener


def _reap(workers):
    """(pid, wait status) of each worker that has ended."""
    ended = []
    while workers:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in workers:
            ended.append((pid, status))
    return ended


def _status_text(status):
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def supervise(listener, app, workers_wanted):
    """Forks the workers, replaces any that dies, and stops them all on SIGTERM or SIGINT."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    stop = []

    def on_signal(signum, frame):
        if signum in STOP_SIGNALS and not stop:
            stop.append(signal.Signals(signum).name)

    for number in (*STOP_SIGNALS, signal.SIGCHLD):
        signal.signal(number, on_signal)
    workers = {}  # pid -> (slot, when it started)

    def start(slot):
        # Blocked across fork, so a stop signal never reaches a worker before its handler is set.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    signal.set_wakeup_fd(-1)
                    os.close(wake_read)
                    os.close(wake_write)
                    run_worker(listener, app)
                    code = 0
                except BaseException:
                    log("worker failed", level="error", error=traceback.format_exc())
                finally:
                    os._exit(code)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        workers[pid] = (slot, time.monotonic())
        log("worker started", worker=pid, slot=slot)

    def wait(seconds):
        select.select([wake_read], [], [], seconds)
        try:
            while os.read(wake_read, 512):
                pass
        except BlockingIOError:
            pass

    for slot in range(workers_wanted):
        start(slot)
    restarts = {}  # slot -> when
    while not stop:
        now = time.monotonic()
        wait(min([max(0.0, when - now) for when in restarts.values()], default=1.0))
        for pid, status in _reap(workers):
            slot, started = workers.pop(pid)
            log("worker exited", level="warning", worker=pid, status=_status_text(status))
            # One that dies as it starts would die again at once: give it a second.
            restarts[slot] = time.monotonic() + (1.0 if time.monotonic() - started < 1.0 else 0.0)
        for slot, when in list(restarts.items()):
            if not stop and when <= time.monotonic():
                del restarts[slot]
                start(slot)

    log("stopping", signal=stop[0], workers=len(workers))
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE + 5
    while workers and time.monotonic() < deadline:
        wait(0.1)
        for pid, _ in _reap(workers):
            workers.pop(pid)
    for pid in workers:
        log("worker killed", level="warning", worker=pid, reason="it did not stop in time")
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    listener.close()
    log("stopped")
    return 0


def main():
    try:
        config = read_config(os.environ)
        listener = listen(config)
        # Loaded once, here in the parent, before the workers are forked: they share the model's
        # memory copy-on-write instead of each loading its own copy (Mercari's lesson: N workers
        # each holding the model cost N times the memory). gc.freeze() keeps the collector from
        # writing to, and so copying, those pages in every worker.
        served = load_served(config)
        app = App(served, SharedMetrics())
    except ConfigError as error:
        log("bad configuration", level="error", error=str(error))
        return 2
    except StartupError as error:
        log("cannot start", level="error", error=str(error))
        return 1
    host, port = listener.getsockname()[:2]
    log("serving", url=f"http://{host}:{port}/v2/models/{config.name}", model=config.name,
        version=config.version, workers=config.workers)
    gc.freeze()
    return supervise(listener, app, config.workers)


if __name__ == "__main__":
    sys.exit(main())
