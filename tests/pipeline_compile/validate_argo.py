#!/usr/bin/python3
"""Validates Argo Workflows documents against the CRD schemas in tests/data/schemas/argo.

usage: validate_argo.py SCHEMA_DIR FILE...
Each FILE is JSON, or YAML when it ends in .yaml or .yml; its `kind` picks the schema (Workflow,
CronWorkflow or WorkflowTemplate). All files are checked in one process, because loading the
schemas (over 1 MB each) is most of the time. Prints one line per error and exits 1 when a
document is invalid, 2 on bad usage or an unknown kind.
"""
import json
import os
import sys

import jsonschema
import yaml

SCHEMAS = {
    "Workflow": "workflow_v1alpha1.json",
    "CronWorkflow": "cronworkflow_v1alpha1.json",
    "WorkflowTemplate": "workflowtemplate_v1alpha1.json",
}


def read(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith((".yaml", ".yml")):
            return yaml.safe_load(f)
        return json.load(f)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_dir, files = argv[1], argv[2:]
    validators = {}
    failed = False
    for path in files:
        document = read(path)
        kind = document.get("kind") if isinstance(document, dict) else None
        if kind not in SCHEMAS:
            print(f"{path}: unknown kind {kind!r}", file=sys.stderr)
            return 2
        if kind not in validators:
            schema = read(os.path.join(schema_dir, SCHEMAS[kind]))
            validators[kind] = jsonschema.Draft7Validator(schema)
        for error in validators[kind].iter_errors(document):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{path}: {where}: {error.message[:300]}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
