"""Model tests use tiny tensors: one torch thread is fastest and avoids oversubscribing the
shared CPU (OpenMP spin-waits made these tests ~20× slower with the default thread count)."""

import torch

torch.set_num_threads(1)
