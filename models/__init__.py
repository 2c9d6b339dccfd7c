"""lungsign's science: patch data, GAN, classifier, generation and metrics (PyTorch).

This package never imports ``app``, FastAPI or SQLAlchemy: it works on numpy arrays and paths.
"""
