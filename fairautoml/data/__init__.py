"""The user's data, checked and prepared: features, groups and bins, weights, the target
and its labels, the train/validation split and folds, rows whose group is missing.

The one place user data is checked and converted (:mod:`.prepare`). May import the
package's base modules (``exceptions``, ``values``) only.
"""
