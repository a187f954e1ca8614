#!/usr/bin/python3
"""The same naive Bayes as Patron's nbayes plugin, built from scikit-learn's
parts, for `make bench`: text columns are categorical variables (CategoricalNB,
alpha 1, one level more than the training data has, as Patron keeps a level
for a value it never saw) and numeric columns are normal densities on
standardized values (GaussianNB, var_smoothing 1e-9). The two joint
log-likelihoods are added with the class prior counted once.

    /usr/bin/python3 nbayes_sklearn.py TRAIN.csv TEST.csv

prints one line: "roc_auc SECONDS" (the test ROC AUC and the median fit time
of 5 fits). The label is the column churn (yes/no), the id column is id.
"""
import statistics
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import CategoricalNB, GaussianNB
from sklearn.preprocessing import OrdinalEncoder, StandardScaler

from mlc import load, text_and_numbers


def main(train_csv, test_csv):
    tr, y_tr = load(train_csv)
    te, y_te = load(test_csv)
    cat, num = text_and_numbers(tr)
    # A value the training rows lack is the extra level, as in Patron.
    enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    c_tr = enc.fit_transform(tr[cat])
    levels = [len(v) for v in enc.categories_]
    c_te = enc.transform(te[cat])
    for j, n in enumerate(levels):
        c_te[c_te[:, j] < 0, j] = n
    scale = StandardScaler().fit(tr[num])
    n_tr, n_te = scale.transform(tr[num]), scale.transform(te[num])

    def fit():
        cnb = CategoricalNB(alpha=1.0, min_categories=np.array(levels) + 1).fit(c_tr, y_tr)
        gnb = GaussianNB(var_smoothing=1e-9).fit(n_tr, y_tr)
        return cnb, gnb

    times = []
    for _ in range(5):
        t = time.perf_counter()
        cnb, gnb = fit()
        times.append(time.perf_counter() - t)
    jll = (cnb.predict_joint_log_proba(c_te) + gnb.predict_joint_log_proba(n_te)
           - np.log(gnb.class_prior_))
    p = 1.0 / (1.0 + np.exp(jll[:, 0] - jll[:, 1]))
    print(f"{roc_auc_score(y_te, p):.6f} {statistics.median(times):.6f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: nbayes_sklearn.py TRAIN.csv TEST.csv")
    main(sys.argv[1], sys.argv[2])
