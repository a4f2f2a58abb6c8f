"""The peer of bench/deploy.sh: a Helm-style template render of one model in one environment.

usage: deploy_peer.py VALUES... -o DIR/ [--cache DIR]

Renders the chart in bench/deploy_peer/ (Jinja2 templates, one per object, in the order
`mlctl deploy render` writes them: ServiceAccount, Deployment, Service, HorizontalPodAutoscaler,
PodDisruptionBudget, NetworkPolicy) with the values file VALUES (YAML: project, model, version,
environment, namespace, image, artifact_digest, flavor, resources, autoscaling), and writes the
same kustomize layout as `mlctl deploy render -o DIR/`: DIR/base/kustomization.yaml once,
DIR/overlays/ENV/MODEL.yaml and the overlay's kustomization.yaml listing every model file of the
overlay. Several VALUES files (of one environment) render in one process, as several models do
in one `mlctl deploy render`. Files are written as mlctl writes them: each changed file to a
temporary file in its folder, then each renamed over its name, not flushed to disk; a file
whose content is already on disk is left alone. With --cache, Jinja2 keeps the
compiled templates there (its FileSystemBytecodeCache), so a render after the first skips
compiling them: the engine at its fastest.
"""
import argparse
import os
import sys

import jinja2
import yaml

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deploy_peer")
OBJECTS = ["serviceaccount", "deployment", "service", "hpa", "pdb", "networkpolicy"]
PORT, UID = 8080, 65532

RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", ".inf", "-.inf", "+.inf", ".nan", "<<", "="}
NUMBER_CHARS = set("0123456789abcdefABCDEFxXoO_.:+-")
INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def plain_safe(text):
    """A string YAML reads back as the same string when written bare (mlctl's rule, core/yaml_out.cpp)."""
    if not text or text.lower() in RESERVED:
        return False
    if len(text) >= 5 and text[:4].isdigit() and text[4] == "-":
        return False  # a date
    start = 1 if text[0] in "+-" else 0
    if start < len(text) and (text[start].isdigit() or text[start] == ".") and set(text) <= NUMBER_CHARS:
        return False  # a number in some YAML notation
    dash_word = len(text) > 1 and text[0] == "-" and text[1] != " " and not text.startswith("---")
    if (not dash_word and text[0] in INDICATORS) or text.startswith("..."):
        return False
    if text[0] == " " or text[-1] == " " or text[-1] == ":":
        return False
    if not all(" " <= c < "\x7f" for c in text):
        return False
    return ": " not in text and " #" not in text


def yaml_scalar(value):
    """The `q` filter: a value as a YAML scalar, as Helm's `quote`/`toYaml` would be used."""
    text = str(value)
    if plain_safe(text):
        return text
    if all(" " <= c < "\x7f" for c in text):
        return "'" + text.replace("'", "''") + "'"
    return yaml.safe_dump(text, default_style='"', width=sys.maxsize).rstrip("\n")


def write_files(files):
    """As mlctl's write_files_atomic: unchanged files are not touched, the others written to
    temporary files, then each renamed over its name (not flushed to disk)."""
    changed = []
    for path, content in files:
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == content:
                    continue
        except FileNotFoundError:
            pass
        changed.append((path, content))
    temps = []
    for path, content in changed:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        temp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            data = memoryview(content.encode("utf-8"))
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        temps.append((temp, path))
    for temp, path in temps:
        os.rename(temp, path)


def main():
    parser = argparse.ArgumentParser(description="Render models' serving objects from values files")
    parser.add_argument("values", nargs="+")
    parser.add_argument("-o", dest="output", required=True, help="the layout's root folder, DIR/")
    parser.add_argument("--cache", help="a folder for Jinja2's compiled templates")
    args = parser.parse_args()

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CHART), undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        bytecode_cache=jinja2.FileSystemBytecodeCache(args.cache) if args.cache else None)
    env.filters["q"] = yaml_scalar
    writes, models = [], []
    base = os.path.join(args.output, "base", "kustomization.yaml")
    if not os.path.exists(base):
        writes.append((base, env.get_template("base-kustomization.yaml.j2").render()))
    for values_file in args.values:
        with open(values_file, encoding="utf-8") as f:
            values = yaml.load(f, Loader=yaml.CSafeLoader)
        documents = [env.get_template(f"{name}.yaml.j2").render(v=values, port=PORT, uid=UID) for name in OBJECTS]
        overlay = os.path.join(args.output, "overlays", values["environment"])
        writes.append((os.path.join(overlay, values["model"] + ".yaml"), "---\n".join(documents)))
        models.append(values)
    if len({v["environment"] for v in models}) != 1:
        sys.exit("deploy_peer.py: the values files are for different environments")
    files = {v["model"] + ".yaml" for v in models}
    if os.path.isdir(overlay):
        files.update(entry.name for entry in os.scandir(overlay)
                     if entry.is_file() and entry.name.endswith(".yaml") and entry.name != "kustomization.yaml")
    writes.append((os.path.join(overlay, "kustomization.yaml"),
                   env.get_template("kustomization.yaml.j2").render(namespace=models[0]["namespace"], files=sorted(files))))
    write_files(writes)
    for v in models:
        print(f"wrote {os.path.join(overlay, v['model'] + '.yaml')}: {v['model']} version {v['version']} "
              f"for {v['environment']} ({len(OBJECTS)} objects)")


if __name__ == "__main__":
    main()
