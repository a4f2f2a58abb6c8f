"""Train a classifier on scikit-learn's bundled breast-cancer data set (no download needed).

Writes the fitted model (a pickle) and a JSON object of metrics, the two outputs the
`train` step of pipelines/train.yaml declares.
"""
import argparse
import json
import pickle

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", required=True, help="where to write the model")
    parser.add_argument("--metrics", required=True, help="where to write the metrics JSON")
    args = parser.parse_args()

    features, labels = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.25, random_state=args.seed, stratify=labels)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=1000))
    model.fit(x_train, y_train)

    metrics = {
        "accuracy": round(float(accuracy_score(y_test, model.predict(x_test))), 4),
        "auc": round(float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])), 4),
        "train_rows": int(len(x_train)),
        "test_rows": int(len(x_test)),
    }
    with open(args.model, "wb") as out:
        pickle.dump(model, out)
    with open(args.metrics, "w") as out:
        json.dump(metrics, out, sort_keys=True)
    print(json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    main()
