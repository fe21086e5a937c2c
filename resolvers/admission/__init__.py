"""University admission by national test scores (domain.md, "University admission"):

- ``policy``: seasons, rounds, thresholds, district pools, quota holders, programmes, places;
- ``test_results``: the testing centre's CSV import;
- ``applications``: applying (with the eligibility check) and confirming a place;
- ``ranking``: ranking, publishing a round, explaining a rank, the admission order;
- ``queries``: the lists, narrowed by who may read them.
"""
