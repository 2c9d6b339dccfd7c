"""Synthetic chest-CT demo cohort: DICOM series with the ten lung CT imaging signs annotated.

Usage::

    from pathlib import Path
    from app.demo_cohort import write_cohort

    summary = write_cohort(Path("var/demo"), patients=24, seed=0)
    print(summary)  # 24 patients, 240 files, 480 findings: GGO 48, LOB 48, ...

Layout written under OUT::

    OUT/patient_0001/series_1/slice_000.dcm … slice_009.dcm   (one axial CT series each)
    OUT/annotations.csv   sop_instance_uid,x,y,label,width,height   (x = column, y = row)

Pixels are Hounsfield units (body wall, ribs, spine, mediastinum, lungs with branching
vessels, CT-like correlated noise); each patient carries two findings per slice drawn from
GGO, LOB, CAL, CAV, SPI, PLI, AIB, BRE, OBP and NOR, balanced over the cohort. The same seed
gives byte-identical files. Pure numpy/scipy/pydicom: nothing here imports the app or the
database. Details: docs/demo_cohort.md.
"""

from app.demo_cohort.cohort import CohortSummary, write_cohort
from app.demo_cohort.signs import LABELS

__all__ = ["LABELS", "CohortSummary", "write_cohort"]
