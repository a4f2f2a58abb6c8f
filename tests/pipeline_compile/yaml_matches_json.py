#!/usr/bin/python3
"""Checks that YAML files load (with PyYAML, a YAML 1.1 reader) to the same data as JSON files.

usage: yaml_matches_json.py YAML JSON [YAML JSON]...
Prints the first difference of each pair and exits 1 when a pair differs, 2 on bad usage.
"""
import json
import sys

import yaml


def difference(a, b, where="(root)"):
    if type(a) is not type(b):
        return f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}: key {key!r} only on one side"
            found = difference(a[key], b[key], f"{where}/{key}")
            if found:
                return found
        if list(a) != list(b):
            return f"{where}: keys in another order: {list(a)} != {list(b)}"
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            found = difference(x, y, f"{where}/{i}")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


def main(argv):
    if len(argv) < 3 or len(argv) % 2 == 0:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = False
    for yaml_path, json_path in zip(argv[1::2], argv[2::2]):
        with open(yaml_path, encoding="utf-8") as f:
            from_yaml = yaml.safe_load(f)
        with open(json_path, encoding="utf-8") as f:
            from_json = json.load(f)
        found = difference(from_yaml, from_json)
        if found:
            print(f"{yaml_path}: {found}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
