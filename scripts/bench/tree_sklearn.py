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
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from mlc import design


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
    x_train, y_train, x_test, y_test = design(sys.argv[1], sys.argv[2])
    times = []
    for _ in range(5):
        start = time.perf_counter()
        model = fit(x_train, y_train)
        times.append(time.perf_counter() - start)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(f"{auc:.6f} {statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
