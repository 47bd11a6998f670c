"""Models of the paper's domains that are not off-the-shelf: the MovieLens factorized
exchangeable autoencoder (Hartford et al., 2018) and the chest X-ray CNN."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def segment_mean(values: torch.Tensor, segments: torch.Tensor, n_segments: int,
                 counts: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of ``values`` rows per segment id (an empty segment's mean is zero)."""
    sums = values.new_zeros(n_segments, values.shape[1]).index_add_(0, segments, values)
    if counts is None:
        counts = torch.bincount(segments, minlength=n_segments)
    return sums / counts.clamp_min(1).unsqueeze(1).to(values.dtype)


class SparseIndex:
    """The observed entries of a sparse (rows x cols) matrix, with per-row/col counts."""

    def __init__(self, rows: torch.Tensor, cols: torch.Tensor, n_rows: int, n_cols: int):
        self.rows, self.cols = rows, cols
        self.n_rows, self.n_cols = n_rows, n_cols
        self.row_counts = torch.bincount(rows, minlength=n_rows)
        self.col_counts = torch.bincount(cols, minlength=n_cols)

    def subset(self, mask: torch.Tensor) -> SparseIndex:
        """The entries where ``mask`` is true, in the same matrix."""
        return SparseIndex(self.rows[mask], self.cols[mask], self.n_rows, self.n_cols)


class ExchangeableLayer(nn.Module):
    """Sparse exchangeable matrix layer: each observed entry's output is one linear map of
    [its own features, the mean over its row, the mean over its column, the mean over all
    entries], as in Hartford et al.'s `SparseExchangeable`.

    The map is stored as one nn.Linear(4 * in, out), but applied term by term: the row and
    column terms are computed once per row/column and gathered, which is 3-4x cheaper than
    multiplying the concatenated (entries x 4 in) matrix, and equal to it.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.linear = nn.Linear(4 * in_features, out_features)

    def pooled(self, x: torch.Tensor, index: SparseIndex) -> tuple[torch.Tensor, ...]:
        return (segment_mean(x, index.rows, index.n_rows, index.row_counts),
                segment_mean(x, index.cols, index.n_cols, index.col_counts),
                x.mean(dim=0, keepdim=True))

    def features(self, x: torch.Tensor, index: SparseIndex) -> torch.Tensor:
        """The (entries, 4 * in) input of the linear map, made explicit."""
        row_mean, col_mean, all_mean = self.pooled(x, index)
        return torch.cat([x, row_mean[index.rows], col_mean[index.cols],
                          all_mean.expand_as(x)], dim=1)

    def forward(self, x: torch.Tensor, index: SparseIndex) -> torch.Tensor:
        row_mean, col_mean, all_mean = self.pooled(x, index)
        w_own, w_row, w_col, w_all = self.linear.weight.split(self.in_features, dim=1)
        return (F.linear(x, w_own, self.linear.bias)
                + F.linear(row_mean, w_row)[index.rows]
                + F.linear(col_mean, w_col)[index.cols]
                + F.linear(all_mean, w_all))


class FactorizedAutoencoder(nn.Module):
    """Hartford et al.'s factorized exchangeable autoencoder for rating matrices.

    The encoder (5 -> 150 -> 150 -> 32 exchangeable layers on one-hot observed ratings) is
    pooled into a code per user and per movie; the decoder (64 -> 150 -> 150 -> 5) maps each
    queried (user, movie) pair's concatenated codes to logits over the 5 rating values.
    """

    def __init__(self, n_ratings: int = 5, hidden: int = 150, code: int = 32,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.n_ratings = n_ratings
        self.encoder = nn.ModuleList([ExchangeableLayer(n_ratings, hidden),
                                      ExchangeableLayer(hidden, hidden),
                                      ExchangeableLayer(hidden, code)])
        self.decoder = nn.ModuleList([ExchangeableLayer(2 * code, hidden),
                                      ExchangeableLayer(hidden, hidden),
                                      ExchangeableLayer(hidden, n_ratings)])
        self.dropout = nn.Dropout(dropout)

    def _hidden(self, layer: ExchangeableLayer, x: torch.Tensor, index: SparseIndex):
        return self.dropout(F.leaky_relu(layer(x, index)))

    def encode(self, ratings: torch.Tensor, index: SparseIndex) -> tuple[torch.Tensor, ...]:
        """Per-user and per-movie codes from observed ratings (values 1..n_ratings)."""
        x = F.one_hot(ratings - 1, self.n_ratings).to(self.encoder[0].linear.weight.dtype)
        for layer in self.encoder[:-1]:
            x = self._hidden(layer, x, index)
        x = self.encoder[-1](x, index)
        return (segment_mean(x, index.rows, index.n_rows, index.row_counts),
                segment_mean(x, index.cols, index.n_cols, index.col_counts))

    def forward(self, ratings: torch.Tensor, observed: SparseIndex, query: SparseIndex,
                return_embedding: bool = False):
        """Logits (queries, n_ratings) for the queried entries, given the observed ratings.
        With ``return_embedding``, also the input of the last layer's linear map
        (queries, 4 * hidden): the embedding the spotlight searches."""
        user_code, item_code = self.encode(ratings, observed)
        x = torch.cat([user_code[query.rows], item_code[query.cols]], dim=1)
        for layer in self.decoder[:-1]:
            x = self._hidden(layer, x, query)
        last = self.decoder[-1]
        if not return_embedding:
            return last(x, query)
        embedding = last.features(x, query)
        return last.linear(embedding), embedding


def expected_rating(logits: torch.Tensor) -> torch.Tensor:
    """Mean rating (1..C) under the predicted distribution: the prediction RMSE is taken of."""
    values = torch.arange(1, logits.shape[1] + 1, dtype=logits.dtype, device=logits.device)
    return logits.softmax(dim=1) @ values
