"""What the scikit-learn peers of the churn bench share: the telecom files
read as Patron reads them (label churn, yes/no; id column id), and the
design table Patron's churn plugins see (text columns one-hot, numbers
standardized, fitted on the training rows)."""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def load(path):
    frame = pd.read_csv(path)
    y = frame.pop("churn").astype(str).str.lower().eq("yes").astype(int).to_numpy()
    return frame.drop(columns=["id"]), y


def text_and_numbers(frame):
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return text, [c for c in frame.columns if c not in text]


def design(train_csv, test_csv):
    """x_train, y_train, x_test, y_test."""
    train, y_train = load(train_csv)
    test, y_test = load(test_csv)
    text, numbers = text_and_numbers(train)
    prep = ColumnTransformer([("text", OneHotEncoder(handle_unknown="ignore",
                                                     sparse_output=False), text),
                              ("numbers", StandardScaler(), numbers)])
    return prep.fit_transform(train), y_train, prep.transform(test), y_test
