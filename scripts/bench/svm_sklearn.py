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

from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

from mlc import design


def main():
    x_train, y_train, x_test, y_test = design(sys.argv[1], sys.argv[2])
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
