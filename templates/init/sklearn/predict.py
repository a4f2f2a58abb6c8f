"""Load the trained model and classify the first rows of the bundled data set: a smoke test."""
import argparse
import json
import os
import pickle

from sklearn.datasets import load_breast_cancer


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=os.environ.get("MODEL_PATH", "model.pkl"))
    parser.add_argument("--rows", type=int, default=5)
    args = parser.parse_args()

    with open(args.model, "rb") as source:
        model = pickle.load(source)
    features, labels = load_breast_cancer(return_X_y=True)
    predictions = model.predict(features[: args.rows]).tolist()
    print(json.dumps({"predictions": predictions, "labels": labels[: args.rows].tolist()}))


if __name__ == "__main__":
    main()
