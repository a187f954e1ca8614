#!/usr/bin/python3
"""The same pruned decision tree as Patron's tree plugin, built from
scikit-learn, for `make bench`: a CART tree (Gini, min_samples_leaf 5) grown
on 80% of the training rows, its cost-complexity pruning path, the
ccp_alpha of the best ROC AUC on the other 20% (of equal AUCs the larger
alpha; at most 64 alphas spread over the path), then the tree grown on all
the training rows and pruned at that alpha. Text columns one-hot, numbers
standardized, as Patron's design table has them.

    /usr/bin/python3 tree_sklearn.py TRAIN.csv TEST.csv

prints one line: "roc_auc SECONDS" (the test ROC AUC and the median time of
5 runs of the whole procedure, the alpha's choice included).
"""
import statistics
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier


def load(path):
    frame = pd.read_csv(path)
    y = frame.pop("churn").astype(str).str.lower().eq("yes").astype(int).to_numpy()
    return frame.drop(columns=["id"]), y


def fit(x, y):
    rng = np.random.default_rng(1)
    val = rng.random(len(y)) < 0.2
    path = DecisionTreeClassifier(min_samples_leaf=5, random_state=0) \
        .cost_complexity_pruning_path(x[~val], y[~val])
    alphas = np.unique(np.concatenate([[0.0], path.ccp_alphas]))
    step = max(1, -(-len(alphas) // 64))
    best, best_alpha = -1.0, 0.0
    for a in alphas[::step]:
        t = DecisionTreeClassifier(min_samples_leaf=5, ccp_alpha=a, random_state=0)
        auc = roc_auc_score(y[val], t.fit(x[~val], y[~val]).predict_proba(x[val])[:, 1])
        if auc >= best - 1e-12:
            best, best_alpha = auc, a
    return DecisionTreeClassifier(min_samples_leaf=5, ccp_alpha=best_alpha,
                                  random_state=0).fit(x, y)


def main():
    train, y_train = load(sys.argv[1])
    test, y_test = load(sys.argv[2])
    text = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    numbers = [c for c in train.columns if c not in text]
    prep = ColumnTransformer([("text", OneHotEncoder(handle_unknown="ignore",
                                                     sparse_output=False), text),
                              ("numbers", StandardScaler(), numbers)])
    x_train, x_test = prep.fit_transform(train), prep.transform(test)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        model = fit(x_train, y_train)
        times.append(time.perf_counter() - start)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(f"{auc:.6f} {statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
