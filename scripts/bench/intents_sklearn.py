#!/usr/bin/python3
"""scikit-learn's MultinomialNB and LogisticRegression (one-vs-rest) on the
same TF-IDF features as Patron's intent plugins (plugins/text/tfidf.h), for
`make bench`: words (letters and digits with inner apostrophes, ASCII
lower-cased) and pairs of adjacent words not split by . , ; : ! ?, and the
3-grams of each word padded with a space, each group a TfidfVectorizer
(smooth idf, l2 norm) joined by a FeatureUnion; alpha 1 and C 1.

    /usr/bin/python3 intents_sklearn.py TRAIN.csv TEST.csv

prints "bayes MACRO_F1" and "linear MACRO_F1", one line each.
"""
import csv
import re
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, make_pipeline

TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[!?.,;:]")


def lower_ascii(s):
    return "".join(c.lower() if c < "\x80" else c for c in s)


def words(text):
    out, prev = [], None
    for t in TOKEN.findall(text):
        if t in "!?.,;:":
            prev = None
            continue
        t = lower_ascii(t)
        out.append("w:" + t)
        if prev is not None:
            out.append("w:" + prev + " " + t)
        prev = t
    return out


def grams(text):
    out = []
    for t in TOKEN.findall(text):
        if t in "!?.,;:":
            continue
        p = " " + lower_ascii(t) + " "
        out += ["c:" + p[i:i + 3] for i in range(len(p) - 2)]
    return out


def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["intent"] for r in rows]


def main(train_csv, test_csv):
    x_tr, y_tr = load(train_csv)
    x_te, y_te = load(test_csv)
    for name, model in (("bayes", MultinomialNB(alpha=1.0)),
                        ("linear", LogisticRegression(C=1.0, multi_class="ovr",
                                                      max_iter=1000, tol=1e-6))):
        features = FeatureUnion([("words", TfidfVectorizer(analyzer=words)),
                                 ("grams", TfidfVectorizer(analyzer=grams))])
        pipe = make_pipeline(features, model).fit(x_tr, y_tr)
        print(name, f1_score(y_te, pipe.predict(x_te), average="macro"))


if __name__ == "__main__":
    main(*sys.argv[1:3])
