"""Request metrics that every worker process adds to and any worker can report for all of them.

The numbers live in one anonymous shared memory mapping made before the workers are forked, so
a scrape that lands on any worker sees the sum over all workers (and over workers that died and
were replaced). Writers take an fcntl lock, which the kernel drops if its holder dies, so a
worker killed mid-update never blocks the others; a thread lock orders the threads of a worker,
which fcntl does not.
"""
import contextlib
import fcntl
import mmap
import struct
import tempfile
import threading

ENDPOINTS = ("health_live", "health_ready", "server_metadata", "model_metadata", "model_ready",
             "infer", "metrics", "other")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FIRST_CODE, _CODES = 100, 500  # every status code 100..599 has a slot

_REQUESTS = 0                                        # u64 [endpoint][code]
_ERRORS = _REQUESTS + 8 * len(ENDPOINTS) * _CODES    # u64
_BUCKET_COUNTS = _ERRORS + 8                         # u64 per bucket, then +Inf
_SUM = _BUCKET_COUNTS + 8 * (len(BUCKETS) + 1)       # f64
_COUNT = _SUM + 8                                    # u64
_SIZE = _COUNT + 8


def _escape(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class SharedMetrics:
    def __init__(self):
        # mmap(-1, ...) is MAP_SHARED | MAP_ANONYMOUS: forked children write the same pages.
        self._map = mmap.mmap(-1, _SIZE)
        self._lock_file = tempfile.TemporaryFile(prefix="mlctl-metrics-")
        self._threads = threading.Lock()

    def after_fork(self):
        """Call first thing in a new worker: a thread lock is never carried across fork."""
        self._threads = threading.Lock()

    def close(self):
        self._map.close()
        self._lock_file.close()

    @contextlib.contextmanager
    def _locked(self):
        with self._threads:
            fcntl.lockf(self._lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._lock_file.fileno(), fcntl.LOCK_UN)

    def _add(self, offset, amount=1):
        (value,) = struct.unpack_from("<Q", self._map, offset)
        struct.pack_into("<Q", self._map, offset, value + amount)

    def record(self, endpoint, code, seconds):
        """Counts one answered request; an inference request's duration goes into the histogram."""
        slot = ENDPOINTS.index(endpoint) if endpoint in ENDPOINTS else ENDPOINTS.index("other")
        code_slot = min(max(code, _FIRST_CODE), _FIRST_CODE + _CODES - 1) - _FIRST_CODE
        with self._locked():
            self._add(_REQUESTS + 8 * (slot * _CODES + code_slot))
            if code >= 400:
                self._add(_ERRORS)
            if endpoint == "infer":
                bucket = next((i for i, le in enumerate(BUCKETS) if seconds <= le), len(BUCKETS))
                self._add(_BUCKET_COUNTS + 8 * bucket)
                (total,) = struct.unpack_from("<d", self._map, _SUM)
                struct.pack_into("<d", self._map, _SUM, total + seconds)
                self._add(_COUNT)

    def snapshot(self):
        """{"requests": {(endpoint, code): n}, "errors", "buckets" (not cumulative), "sum", "count"}."""
        with self._locked():
            raw = bytes(self._map)
        counts = struct.unpack_from(f"<{len(ENDPOINTS) * _CODES}Q", raw, _REQUESTS)
        requests = {}
        for index, value in enumerate(counts):
            if value:
                requests[(ENDPOINTS[index // _CODES], _FIRST_CODE + index % _CODES)] = value
        return {
            "requests": requests,
            "errors": struct.unpack_from("<Q", raw, _ERRORS)[0],
            "buckets": list(struct.unpack_from(f"<{len(BUCKETS) + 1}Q", raw, _BUCKET_COUNTS)),
            "sum": struct.unpack_from("<d", raw, _SUM)[0],
            "count": struct.unpack_from("<Q", raw, _COUNT)[0],
        }


def render(snapshot, model, loaded):
    """The Prometheus text exposition format, version 0.0.4."""
    m = f'model="{_escape(model)}"'
    lines = [
        "# HELP mlctl_requests_total Requests answered, by endpoint and HTTP status code.",
        "# TYPE mlctl_requests_total counter",
    ]
    for (endpoint, code), value in sorted(snapshot["requests"].items()):
        lines.append(f'mlctl_requests_total{{{m},endpoint="{endpoint}",code="{code}"}} {value}')
    lines += [
        "# HELP mlctl_request_duration_seconds Time to answer an inference request.",
        "# TYPE mlctl_request_duration_seconds histogram",
    ]
    cumulative = 0
    for le, count in zip([repr(b) for b in BUCKETS] + ["+Inf"], snapshot["buckets"]):
        cumulative += count
        lines.append(f'mlctl_request_duration_seconds_bucket{{{m},le="{le}"}} {cumulative}')
    lines += [
        f"mlctl_request_duration_seconds_sum{{{m}}} {snapshot['sum']!r}",
        f"mlctl_request_duration_seconds_count{{{m}}} {snapshot['count']}",
        "# HELP mlctl_request_errors_total Requests answered with a 4xx or 5xx status.",
        "# TYPE mlctl_request_errors_total counter",
        f"mlctl_request_errors_total{{{m}}} {snapshot['errors']}",
        "# HELP mlctl_model_loaded Whether the model is loaded and served (1) or not (0).",
        "# TYPE mlctl_model_loaded gauge",
        f"mlctl_model_loaded{{{m}}} {1 if loaded else 0}",
    ]
    return "\n".join(lines) + "\n"
