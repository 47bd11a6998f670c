"""The MovieLens autoencoder's layers do what Hartford et al.'s layers do."""

from __future__ import annotations

import torch

from spotlight.models import ExchangeableLayer, FactorizedAutoencoder, SparseIndex, segment_mean


def _random_entries(n_rows=7, n_cols=5, n=20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    flat = torch.randperm(n_rows * n_cols, generator=generator)[:n]
    return SparseIndex(flat // n_cols, flat % n_cols, n_rows, n_cols), generator


def test_segment_mean_by_hand():
    values = torch.tensor([[1.0], [3.0], [10.0]])
    means = segment_mean(values, torch.tensor([0, 0, 2]), 4)
    assert means.flatten().tolist() == [2.0, 0.0, 10.0, 0.0]  # empty segments are zero


def test_layer_equals_linear_map_of_concatenation():
    index, generator = _random_entries()
    layer = ExchangeableLayer(3, 4)
    x = torch.randn(20, 3, generator=generator)
    features = layer.features(x, index)
    assert features.shape == (20, 12)
    # Row mean by hand for the first entry's row.
    same_row = index.rows == index.rows[0]
    torch.testing.assert_close(features[0, 3:6], x[same_row].mean(dim=0))
    torch.testing.assert_close(layer(x, index), layer.linear(features))


def test_layer_is_permutation_equivariant():
    index, generator = _random_entries()
    layer = ExchangeableLayer(3, 4)
    x = torch.randn(20, 3, generator=generator)
    row_perm = torch.randperm(7, generator=generator)
    entry_perm = torch.randperm(20, generator=generator)
    permuted = SparseIndex(row_perm[index.rows][entry_perm], index.cols[entry_perm], 7, 5)
    torch.testing.assert_close(layer(x[entry_perm], permuted), layer(x, index)[entry_perm])


def test_autoencoder_embedding_is_the_last_linear_maps_input():
    index, generator = _random_entries(n=25)
    query, _ = _random_entries(n=10, seed=1)
    ratings = torch.randint(1, 6, (25,), generator=generator)
    model = FactorizedAutoencoder(hidden=16, code=4).eval()
    logits, embedding = model(ratings, index, query, return_embedding=True)
    assert embedding.shape == (10, 64) and logits.shape == (10, 5)
    last = model.decoder[-1].linear
    torch.testing.assert_close(logits, embedding @ last.weight.T + last.bias)
    torch.testing.assert_close(logits, model(ratings, index, query))
