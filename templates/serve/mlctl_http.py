"""The HTTP side of a model server worker: Open Inference Protocol v2 routes, JSON errors, logs.

server.py loads the model and forks the workers; each runs run_worker() on the shared socket.
"""
import datetime
import json
import os
import selectors
import signal
import threading
import time
import traceback
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from mlctl_metrics import render
from mlctl_tensors import BadRequest, decode_request, encode_output

SERVER_VERSION = "1"
MAX_BODY = 64 << 20
STOP_GRACE = 10.0  # seconds a stopping worker lets requests in flight finish
JSON_TYPE = "application/json"
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class HttpError(Exception):
    def __init__(self, code, message, headers=()):
        super().__init__(message)
        self.code, self.headers = code, headers


def log(event, level="info", **fields):
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    record = {"time": now.replace("+00:00", "Z"), "level": level, "event": event, "pid": os.getpid(), **fields}
    line = (json.dumps(record, default=str) + "\n").encode()
    # One write per line, so the lines of several workers never interleave mid-line.
    while line:
        try:
            line = line[os.write(2, line):]
        except OSError:
            return


def json_reply(code, document):
    return code, json.dumps(document).encode(), JSON_TYPE


class App:
    """What every request of a worker shares: the model, the metrics, the requests in flight."""

    def __init__(self, served, metrics):
        self.served, self.metrics = served, metrics
        self.stopping = False
        self._lock = threading.Lock()
        self._in_flight = 0

    def begin(self):
        with self._lock:
            self._in_flight += 1

    def end(self):
        with self._lock:
            self._in_flight -= 1

    def busy(self):
        with self._lock:
            return self._in_flight > 0

    def route(self, path):
        """(endpoint, method, action) for a path; action(handler) -> (code, body, type)."""
        parts = [urllib.parse.unquote(p) for p in path.rstrip("/").split("/")[1:]]
        if parts == ["metrics"]:
            return "metrics", "GET", self.metrics_text
        if parts[:1] != ["v2"]:
            return "other", None, None
        rest = parts[1:]
        if not rest:
            return "server_metadata", "GET", lambda _: json_reply(
                200, {"name": "mlctl", "version": SERVER_VERSION, "extensions": []})
        if rest == ["health", "live"]:
            return "health_live", "GET", lambda _: json_reply(200, {"live": True})
        if rest == ["health", "ready"]:
            ready = self.served is not None
            return "health_ready", "GET", lambda _: json_reply(200 if ready else 503, {"ready": ready})
        if len(rest) >= 2 and rest[0] == "models":
            name, version, rest = rest[1], None, rest[2:]
            if len(rest) >= 2 and rest[0] == "versions":
                version, rest = rest[1], rest[2:]
            if not rest:
                return "model_metadata", "GET", lambda _: self.model_metadata(name, version)
            if rest == ["ready"]:
                return "model_ready", "GET", lambda _: self.model_ready(name, version)
            if rest == ["infer"]:
                return "infer", "POST", lambda handler: self.infer(handler, name, version)
        return "other", None, None

    def check_model(self, name, version):
        config = self.served.config
        if name != config.name:
            raise HttpError(404, f"model '{name}' is not served here; this server serves '{config.name}'")
        if version is not None and version != config.version:
            raise HttpError(404, f"{name} version {version} is not served here; this server serves "
                                 f"version {config.version}")

    def model_metadata(self, name, version):
        self.check_model(name, version)
        config = self.served.config
        return json_reply(200, {"name": config.name, "versions": [config.version], "platform": config.flavor,
                                **self.served.signature})

    def model_ready(self, name, version):
        self.check_model(name, version)
        return json_reply(200, {"name": name, "ready": True})

    def infer(self, handler, name, version):
        self.check_model(name, version)
        request_id, inputs = decode_request(handler.read_body())
        try:
            result = self.served.predict(inputs)
        except BadRequest:
            raise
        except (ValueError, TypeError) as error:
            raise BadRequest(f"the model refused the input: {error}") from None
        response = {"model_name": self.served.config.name, "model_version": self.served.config.version,
                    "outputs": [encode_output("predict", result)]}
        if request_id is not None:
            response["id"] = request_id
        try:
            return 200, json.dumps(response, allow_nan=False).encode(), JSON_TYPE
        except ValueError:
            raise HttpError(500, "the prediction holds NaN or infinity, which JSON cannot carry") from None

    def metrics_text(self, _):
        text = render(self.metrics.snapshot(), self.served.config.name, self.served is not None)
        return 200, text.encode(), "text/plain; version=0.0.4; charset=utf-8"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"mlctl-server/{SERVER_VERSION}"
    timeout = 60  # seconds a connection may sit idle, or half-sent, before it is closed
    app = None    # set in each worker

    def do_GET(self):
        started = time.monotonic()
        self.app.begin()
        try:
            self._dispatch(started)
        finally:
            self.app.end()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self, started):
        # A body left unread would be taken for the next request: such a connection is closed.
        self._body_pending = (self.headers.get("Content-Length", "0").strip() != "0"
                              or bool(self.headers.get("Transfer-Encoding")))
        path = urllib.parse.urlsplit(self.path).path
        endpoint, method, action = self.app.route(path)
        headers = ()
        try:
            if action is None:
                raise HttpError(404, f"no such endpoint: {self.command} {path}")
            if self.command != method:
                raise HttpError(405, f"{path} takes {method}, not {self.command}", headers=[("Allow", method)])
            code, body, content_type = action(self)
        except BadRequest as error:
            code, body, content_type = json_reply(400, {"error": str(error)})
        except HttpError as error:
            code, body, content_type = json_reply(error.code, {"error": str(error)})
            headers = error.headers
        except Exception as error:
            log("request failed", level="error", path=path, error=f"{type(error).__name__}: {error}",
                where=traceback.format_exc(limit=-3))
            code, body, content_type = json_reply(500, {"error": f"{type(error).__name__}: {error}"})
        self._reply(endpoint, code, body, content_type, started, headers)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise HttpError(411, "send the body with a Content-Length, not chunked")
        text = self.headers.get("Content-Length")
        if text is None:
            raise HttpError(411, "a Content-Length is required")
        try:
            length = int(text)
        except ValueError:
            raise HttpError(400, f"Content-Length {text!r} is not a number") from None
        if not 0 <= length <= MAX_BODY:
            raise HttpError(413, f"the body is {length} bytes; at most {MAX_BODY} are taken")
        body = self.rfile.read(length)
        self._body_pending = False
        if len(body) != length:
            raise HttpError(400, "the body ended before its Content-Length")
        return body

    def _reply(self, endpoint, code, body, content_type, started, headers=()):
        # Counted before the answer goes out, so a client that reads it and then scrapes /metrics
        # (from any worker) always finds it counted.
        self.app.metrics.record(endpoint, code, time.monotonic() - started)
        if self.app.stopping or getattr(self, "_body_pending", False):
            self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        log("request", method=self.command or "-", path=urllib.parse.urlsplit(self.path or "").path,
            endpoint=endpoint, code=code, ms=round((time.monotonic() - started) * 1000, 3))

    def send_error(self, code, message=None, explain=None):
        """The request could not be parsed (or used an unknown method): a JSON error, then close."""
        self.close_connection = True
        for name in ("command", "path"):
            if not getattr(self, name, None):
                setattr(self, name, "")
        self._reply("other", code, json.dumps({"error": message or HTTPStatus(code).phrase}).encode(), JSON_TYPE,
                    time.monotonic())

    def version_string(self):
        return self.server_version

    def log_request(self, code="-", size="-"):
        pass  # _reply logs every request as JSON

    def log_message(self, format, *args):
        log("http", level="warning", message=format % args)


def serve_connection(connection, address):
    try:
        Handler(connection, address, None)
    except OSError:
        pass  # the client went away
    except Exception as error:
        log("connection failed", level="error", error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def run_worker(listener, app):
    """Accepts connections on the shared socket, one thread each, until told to stop."""
    def stop(signum, frame):
        app.stopping = True

    for number in STOP_SIGNALS:
        signal.signal(number, stop)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    app.metrics.after_fork()
    Handler.app = app
    parent = os.getppid()
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        # The listening socket is non-blocking: when several workers wake for one connection,
        # the ones that lose the race get BlockingIOError and go back to waiting.
        while not app.stopping and os.getppid() == parent:
            if not selector.select(0.5):
                continue
            try:
                connection, address = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            threading.Thread(target=serve_connection, args=(connection, address), daemon=True).start()
    listener.close()
    deadline = time.monotonic() + STOP_GRACE
    while app.busy() and time.monotonic() < deadline:
        time.sleep(0.02)
