"""Reader studies: design, sampling, opening, progress, records, statistics, results."""
