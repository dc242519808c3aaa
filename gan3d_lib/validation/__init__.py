"""Generated showers against a reference: separation power, classifier AUC, FPD/KPD, per-epoch metrics.

Modules: ``auc_breakdown``, ``distances``, ``evaluation``, ``validation``.
"""
