"""The reading loop: a reader's next item, answers, access and keys."""
