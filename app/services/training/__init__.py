"""The admin side of training: job forms, job pages' views, model versions."""
