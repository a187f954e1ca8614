#!/usr/bin/python3
"""The same linear SVM as Patron's svm plugin, from scikit-learn, for `make
bench`: LinearSVC (squared hinge loss, C 1, the intercept a feature of value 1
and regularized, as LIBLINEAR has it) with Platt's sigmoid from
CalibratedClassifierCV (method sigmoid, five folds). Text columns one-hot,
numbers standardized, as Patron's design table has them.

    /usr/bin/python3 svm_sklearn.py TRAIN.csv TEST.csv

prints one line: "roc_auc SECONDS" (the test ROC AUC and the median time of
5 fits, the calibration's folds included).
"""
import statistics
import sys
import time

import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC


def load(path):
    frame = pd.read_csv(path)
    y = frame.pop("churn").astype(str).str.lower().eq("yes").astype(int).to_numpy()
    return frame.drop(columns=["id"]), y


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
        model = CalibratedClassifierCV(LinearSVC(loss="squared_hinge", C=1.0, dual=True,
                                                 max_iter=1000, random_state=0),
                                       method="sigmoid", cv=5)
        start = time.perf_counter()
        model.fit(x_train, y_train)
        times.append(time.perf_counter() - start)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(f"{auc:.6f} {statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
