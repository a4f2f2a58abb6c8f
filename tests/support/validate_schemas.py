#!/usr/bin/python3
"""Validates Kubernetes objects, built-in kinds and custom resources, against the upstream
schemas in tests/data/schemas (kubernetes/, argo/, istio/, argo-rollouts/, kserve/, seldon/,
prometheus-operator/).

usage: validate_schemas.py SCHEMA_DIR FILE...
Each FILE is a YAML stream of objects ("---" between them; JSON reads as YAML); each object's
apiVersion and kind pick its schema. All files are checked in one process, because loading the
schemas (up to a few MB each) is most of the time. Prints one line per error and exits 1 when an
object is invalid, 2 on bad usage or an object of a kind it has no schema for.
"""
import json
import os
import sys

import jsonschema
import yaml

SCHEMAS = {
    ("v1", "ServiceAccount"): "kubernetes/serviceaccount-v1.json",
    ("apps/v1", "Deployment"): "kubernetes/deployment-apps-v1.json",
    ("v1", "Service"): "kubernetes/service-v1.json",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "kubernetes/horizontalpodautoscaler-autoscaling-v2.json",
    ("policy/v1", "PodDisruptionBudget"): "kubernetes/poddisruptionbudget-policy-v1.json",
    ("networking.k8s.io/v1", "NetworkPolicy"): "kubernetes/networkpolicy-networking-v1.json",
    ("networking.istio.io/v1beta1", "DestinationRule"): "istio/destinationrule_v1beta1.json",
    ("networking.istio.io/v1beta1", "VirtualService"): "istio/virtualservice_v1beta1.json",
    ("argoproj.io/v1alpha1", "Workflow"): "argo/workflow_v1alpha1.json",
    ("argoproj.io/v1alpha1", "CronWorkflow"): "argo/cronworkflow_v1alpha1.json",
    ("argoproj.io/v1alpha1", "WorkflowTemplate"): "argo/workflowtemplate_v1alpha1.json",
    ("argoproj.io/v1alpha1", "Rollout"): "argo-rollouts/rollout_v1alpha1.json",
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): "argo-rollouts/analysistemplate_v1alpha1.json",
    ("serving.kserve.io/v1beta1", "InferenceService"): "kserve/inferenceservice_v1beta1.json",
    ("mlops.seldon.io/v1alpha1", "Model"): "seldon/model_v1alpha1.json",
    ("mlops.seldon.io/v1alpha1", "Experiment"): "seldon/experiment_v1alpha1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "prometheus-operator/servicemonitor_v1.json",
}


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema_dir, files = argv[1], argv[2:]
    validators = {}
    failed = False
    for path in files:
        with open(path, encoding="utf-8") as f:
            objects = [o for o in yaml.safe_load_all(f) if o is not None]
        for index, document in enumerate(objects):
            key = (document.get("apiVersion"), document.get("kind")) if isinstance(document, dict) else None
            if key not in SCHEMAS:
                print(f"{path}[{index}]: no schema for {key!r}", file=sys.stderr)
                return 2
            if key not in validators:
                with open(os.path.join(schema_dir, SCHEMAS[key]), encoding="utf-8") as f:
                    validators[key] = jsonschema.Draft7Validator(json.load(f))
            for error in validators[key].iter_errors(document):
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                print(f"{path}[{index}] {key[1]}: {where}: {error.message[:300]}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
