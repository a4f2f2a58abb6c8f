#!/usr/bin/python3
"""Checks the CI examples in examples/ci against the CLI they call, so that they cannot drift.

usage: check_ci_examples.py MLCTL_BINARY EXAMPLES_DIR SCHEMA_DIR

- Every *.yaml / *.yml file parses (PyYAML).
- The Argo CD Application validates against the upstream CRD's schema
  (SCHEMA_DIR/argo-cd/application_v1alpha1.json), which refuses a broken copy of it.
- The CI files run `mlctl release --ci --env prod` on a push to main, after a checkout with the
  whole history.
- Every `mlctl ...` command line in them (in any string: run, script, before_script...) uses only
  options that `mlctl COMMAND... --help` or `mlctl --help` lists.

Prints one line per problem and exits 1 when there is one.
"""
import copy
import json
import os
import re
import shlex
import subprocess
import sys

import jsonschema
import yaml

# Global options that take a value (see cli/app.cpp add_globals).
GLOBALS_WITH_VALUE = {"-C", "--config", "-o", "--output", "--progress"}
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}

problems = []


def problem(message):
    problems.append(message)
    print(f"FAIL: {message}")


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def command_lines(text):
    """The mlctl invocations in a shell script: token lists that start with mlctl."""
    script = re.sub(r"\\\n", " ", text)
    for line in script.splitlines():
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            continue
        command = []
        for token in tokens + [";"]:
            if token in SHELL_OPERATORS or set(token) <= set("&|;()<>"):
                if command and os.path.basename(command[0]) == "mlctl":
                    yield command
                command = []
            else:
                command.append(token)


def help_text(mlctl, path):
    """`mlctl PATH... --help`, or None when PATH is no command (CLI11 then prints the parent's help)."""
    run = subprocess.run([mlctl, *path, "--help"], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    usage = re.search(r"^Usage: (.*)$", run.stdout, re.M)
    if run.returncode != 0 or not usage or not usage.group(1).startswith(" ".join(["mlctl", *path]) + " "):
        return None
    return run.stdout


def listed_options(help):
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", help))


def check_command(mlctl, where, argv, global_options):
    words, options, i = [], [], 1
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and arg != "-":
            name = arg.split("=", 1)[0]
            options.append(name)
            if name in GLOBALS_WITH_VALUE and "=" not in arg:
                i += 1
        else:
            words.append(arg)
        i += 1
    line = " ".join(argv)
    # The command path is the leading words that name subcommands: `mlctl hook install`.
    path = []
    for word in words:
        if help_text(mlctl, path + [word]) is None:
            break
        path.append(word)
        if not re.search(r"^Subcommands:", help_text(mlctl, path), re.M):
            break
    if not path:
        problem(f"{where}: `{line}`: no such mlctl command {words[:1]}")
        return
    allowed = listed_options(help_text(mlctl, path)) | global_options
    for option in options:
        if option not in allowed:
            problem(f"{where}: `{line}`: 'mlctl {' '.join(path)} --help' lists no option {option}")


def check_application(path, shown, schema_dir):
    with open(os.path.join(schema_dir, "argo-cd", "application_v1alpha1.json"), encoding="utf-8") as f:
        validator = jsonschema.Draft7Validator(json.load(f))
    with open(path, encoding="utf-8") as f:
        application = yaml.safe_load(f)
    for error in validator.iter_errors(application):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problem(f"{shown}: {where}: {error.message[:300]}")
    source = application.get("spec", {}).get("source", {})
    if source.get("path") != "deploy/overlays/prod":
        problem(f"{shown}: spec.source.path is {source.get('path')!r}, not the prod overlay deploy/overlays/prod")
    # The validator is not blind: an unknown field and a missing required one are refused.
    broken = copy.deepcopy(application)
    broken["spec"]["sourcePath"] = "deploy"
    del broken["spec"]["project"]
    messages = sorted(e.message for e in validator.iter_errors(broken))
    expected = ["'project' is a required property", "Additional properties are not allowed ('sourcePath' was unexpected)"]
    if messages != sorted(expected):
        problem(f"the Application schema does not refuse a broken Application as expected: {messages}")


def check_triggers(files):
    github = files.get("github/workflows/release.yaml")
    gitlab = files.get("gitlab-ci.yml")
    if github is None or gitlab is None:
        problem("examples/ci needs github/workflows/release.yaml and gitlab-ci.yml")
        return
    on = github.get("on", github.get(True))  # PyYAML reads the key `on` as true (YAML 1.1)
    if on.get("push", {}).get("branches") != ["main"]:
        problem(f"github: runs on {on!r}, not on a push to main")
    checkouts = [s for job in github["jobs"].values() for s in job["steps"]
                 if str(s.get("uses", "")).startswith("actions/checkout@") and "repository" not in s.get("with", {})]
    if not checkouts or str(checkouts[0].get("with", {}).get("fetch-depth")) != "0":
        problem("github: the project's checkout does not fetch the whole history (fetch-depth: 0)")
    if str(gitlab["release"].get("variables", {}).get("GIT_DEPTH")) != "0":
        problem("gitlab: GIT_DEPTH is not 0")
    if "main" not in str(gitlab["release"].get("rules")):
        problem("gitlab: the release job has no rule for main")
    for name, document in (("github", github), ("gitlab", gitlab)):
        lines = [" ".join(c) for text in strings(document) for c in command_lines(text)]
        if not any(re.search(r"\brelease\b.*--ci\b.*--env prod\b", line) for line in lines):
            problem(f"{name}: no 'mlctl release --ci --env prod' line in {lines}")
        for text in strings(document):
            # A secret may be printed only into a pipe or a file, or to git by the credential helper.
            for line in text.splitlines():
                if (re.search(r"\b(echo|printf)\b", line) and re.search(r"secrets\.|PASSWORD|TOKEN", line)
                        and not re.search(r"[|>]", line) and "credential.helper" not in line):
                    problem(f"{name}: this line may print a secret into the log: {line.strip()}")
            if re.search(r"^\s*set -[a-z]*x", text, re.M):
                problem(f"{name}: 'set -x' would print the secrets")


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mlctl, examples, schema_dir = argv[1:]
    global_options = listed_options(help_text(mlctl, []) or "")
    if "--output" not in global_options:
        print(f"{mlctl} --help lists no global options", file=sys.stderr)
        return 2
    files, checked = {}, 0
    for root, _, names in os.walk(examples):
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, name)
            relative = os.path.relpath(path, examples)
            try:
                with open(path, encoding="utf-8") as f:
                    documents = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as error:
                problem(f"{relative}: {error}")
                continue
            files[relative] = documents[0] if documents else None
            if relative.startswith("argocd/"):
                check_application(path, relative, schema_dir)
                continue
            for text in strings(documents):
                for command in command_lines(text):
                    check_command(mlctl, relative, command, global_options)
                    checked += 1
    check_triggers(files)
    if checked < 4:
        problem(f"only {checked} mlctl command line(s) found in {examples}")
    print(f"checked {len(files)} YAML files and {checked} mlctl command lines: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
