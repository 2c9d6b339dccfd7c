"""The planner's vectorised MRMC test gives or_analysis's p-values, study by study."""

from __future__ import annotations

import numpy as np

from models.mrmc import or_analysis
from models.study_power import Design, RoeMetz, rrrc_p_values, simulate_ratings


def test_batch_p_values_equal_or_analysis_for_continuous_and_tied_ratings() -> None:
    rng = np.random.default_rng(3)
    design = Design(n_readers=4, n_items=23, real_fraction=0.4)
    studies = [simulate_ratings(design, 0.7, RoeMetz(), rng) for _ in range(40)]
    truth = studies[0][1]
    continuous = np.stack([ratings for ratings, _ in studies])
    tied = np.clip(np.round(continuous * 2 + 5), 1, 10)  # a 10-step scale: many ties
    identical = np.repeat(tied[:1, :1, :], 4, axis=1)  # every reader the same: MS(R) = 0
    for ratings in (continuous, tied, identical):
        expected = []
        for study in ratings:
            single = or_analysis(study, truth).random_readers_random_cases.single[0]
            assert single is not None
            expected.append(single.p_value)
        np.testing.assert_allclose(rrrc_p_values(ratings, truth), expected, rtol=1e-9, atol=1e-12)
