#!/usr/bin/python3
"""Validates OCI JSON documents against the image-spec schemas in tests/data/schemas/oci.

usage: validate_schema.py SCHEMA_DIR KIND FILE...
KIND: manifest, index, config, layout or descriptor.
Prints one line per error and exits 1 when a document is invalid, 2 on bad usage.
"""
import json
import os
import sys

import jsonschema

SCHEMAS = {
    "manifest": "image-manifest-schema.json",
    "index": "image-index-schema.json",
    "config": "config-schema.json",
    "layout": "image-layout-schema.json",
    "descriptor": "content-descriptor.json",
}


def load(schema_dir, name):
    with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if len(argv) < 4 or argv[2] not in SCHEMAS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_dir, kind, files = argv[1], argv[2], argv[3:]
    schema = load(schema_dir, SCHEMAS[kind])

    # The draft-04 ids are URLs (https://opencontainers.org/schema/...), and nested ids move the
    # base, so a $ref may resolve to any folder of that site: map each URL to the local file of
    # the same name, as upstream's filesystem loader does.
    def local(uri):
        return load(schema_dir, uri.rstrip("/").rsplit("/", 1)[-1].split("#")[0])

    resolver = jsonschema.RefResolver.from_schema(schema, handlers={"https": local, "http": local})
    validator = jsonschema.Draft4Validator(schema, resolver=resolver,
                                           format_checker=jsonschema.FormatChecker())
    failed = False
    for path in files:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        for error in validator.iter_errors(document):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{path}: {where}: {error.message}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
