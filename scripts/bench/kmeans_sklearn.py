"""The k-means benchmark's peer: scikit-learn's KMeans on the same matrix.
Usage: /usr/bin/python3 kmeans_sklearn.py FILE N D K SEED
Prints "seconds inertia iterations"; the time is the fit alone."""
import sys
import time

import numpy as np
from sklearn.cluster import KMeans

path, n, d, k, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
x = np.fromfile(path, dtype=np.float64).reshape(n, d)
model = KMeans(n_clusters=k, n_init=1, algorithm="lloyd", random_state=seed)
start = time.perf_counter()
model.fit(x)
print("%.4f %.10g %d" % (time.perf_counter() - start, model.inertia_, model.n_iter_))
