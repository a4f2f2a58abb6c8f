"""Open Inference Protocol v2 tensors: request inputs to arrays, predictions to response outputs.

Pure functions without I/O, so they are tested without a server (tests/serve/tensors_test.py).
Python 3.11 standard library; numpy when it is there (the generic flavor may serve a model
written in plain Python, which then gets nested lists).
"""
import json
import math

try:
    import numpy
except ImportError:
    numpy = None

# The protocol's tensor data types and the numpy dtype each becomes.
DATATYPES = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "FP16": "float16", "FP32": "float32", "FP64": "float64", "BYTES": "object",
}
NUMERIC = frozenset(DATATYPES) - {"BYTES"}


class BadRequest(Exception):
    """A request the client must fix; the server answers 400 with this message."""


def _integer_range(datatype):
    bits = int(datatype.removeprefix("U").removeprefix("INT"))
    if datatype.startswith("U"):
        return 0, 2 ** bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _fits(value, datatype):
    if datatype == "BOOL":
        return isinstance(value, bool)
    if datatype == "BYTES":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if datatype.startswith("FP"):
        return True
    low, high = _integer_range(datatype)
    return isinstance(value, int) and low <= value <= high


def _flatten(data):
    flat, stack = [], [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _nest(flat, shape):
    if len(shape) <= 1:
        return list(flat)
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def decode_input(tensor, index):
    """One entry of "inputs" -> (name, datatype, value), the value shaped by "shape"."""
    if not isinstance(tensor, dict):
        raise BadRequest(f"inputs[{index}] is not an object")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"inputs[{index}] has no name")
    shape = tensor.get("shape")
    if (not isinstance(shape, list)
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise BadRequest(f"input '{name}': shape must be a list of non-negative integers, got {json.dumps(shape)}")
    datatype = tensor.get("datatype")
    if datatype not in DATATYPES:
        raise BadRequest(f"input '{name}': datatype {json.dumps(datatype)} is not one of {', '.join(DATATYPES)}")
    data = tensor.get("data")
    if not isinstance(data, list):
        raise BadRequest(f"input '{name}': data must be a list (flat, or nested as the shape)")
    flat = _flatten(data)
    expected = math.prod(shape)
    if len(flat) != expected:
        raise BadRequest(f"input '{name}': shape {shape} holds {expected} values, data has {len(flat)}")
    for position, value in enumerate(flat):
        if not _fits(value, datatype):
            raise BadRequest(f"input '{name}': data[{position}] = {json.dumps(value)} is not {datatype}")
    if numpy is None:
        return name, datatype, _nest(flat, shape)
    return name, datatype, numpy.array(flat, dtype=DATATYPES[datatype]).reshape(shape)


def decode_request(body):
    """An inference request's bytes -> (id or None, [(name, datatype, value), ...])."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the body is not JSON: {error}") from None
    if not isinstance(request, dict):
        raise BadRequest('the body must be a JSON object {"inputs": [...]}')
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest('"id" must be a string')
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest('"inputs" must be a non-empty list of tensors {"name", "shape", "datatype", "data"}')
    return request_id, [decode_input(tensor, index) for index, tensor in enumerate(inputs)]


def datatype_of(dtype):
    """A numpy dtype's protocol data type; ValueError for one the protocol has no name for."""
    bits = dtype.itemsize * 8
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in "iuf":
        name = {"i": "INT", "u": "UINT", "f": "FP"}[dtype.kind] + str(bits)
        if name in DATATYPES:
            return name
    if dtype.kind in "USO":
        return "BYTES"
    raise ValueError(f"numpy dtype {dtype} has no Open Inference Protocol data type")


def _plain_shape(value):
    shape = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def _plain_datatype(flat):
    kinds = {type(v) for v in flat}
    if kinds <= {bool}:
        return "BOOL"
    if kinds <= {int}:
        return "INT64"
    if kinds <= {int, float}:
        return "FP64"
    return "BYTES"


def encode_output(name, result):
    """A prediction (array, list or scalar) -> a response output tensor."""
    if numpy is not None:
        array = numpy.asarray(result)
        datatype = datatype_of(array.dtype)
        data = array.ravel().tolist()
        shape = list(array.shape)
    else:
        if not isinstance(result, (list, tuple)):
            result = [result]
        shape = _plain_shape(result)
        data = _flatten(list(result))
        datatype = _plain_datatype(data)
    if datatype == "BYTES":
        data = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in data]
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}
