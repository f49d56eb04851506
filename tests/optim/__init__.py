"""Tests of ember.optim and ember.nn.utils against torch.optim."""
