"""``EmbeddingBag``: sums, means or maxima of bags of embeddings, without the per-index intermediate
(``torch.nn.EmbeddingBag``)."""
from __future__ import annotations

from ...creation import empty
from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter
from .embedding import Embedding
from ..functional._embedding_bag import embedding_bag

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, reduced per bag with ``mode``
    ('sum', 'mean' -- the default -- or 'max'): ``forward(input, offsets=None, per_sample_weights=None)``
    -> (B, embedding_dim).  See ``F.embedding_bag`` for the input forms.  ``weight`` starts N(0, 1) with the
    ``padding_idx`` row zeroed, as PyTorch.

    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(ember.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ember.tensor([0, 4])).shape
    ember.Size([2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise AssertionError(f"EmbeddingBag: padding_idx must be within num_embeddings "
                                     f"({self.num_embeddings}), got {padding_idx}")
            if padding_idx < 0:
                padding_idx = self.num_embeddings + padding_idx
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(empty(self.num_embeddings, self.embedding_dim, dtype=dtype, device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise AssertionError(f"EmbeddingBag: shape of weight {tuple(_weight.shape)} does not match "
                                     f"num_embeddings and embedding_dim ({self.num_embeddings}, "
                                     f"{self.embedding_dim})")
            self.weight = Parameter(_weight if isinstance(_weight, Tensor) else Tensor(_weight))
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    # N(0, 1) rows with the padding row zeroed: Embedding's (EmbeddingBag is no Embedding subclass in PyTorch)
    reset_parameters = Embedding.reset_parameters
    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                             self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise AssertionError(f"EmbeddingBag.from_pretrained: embeddings parameter is expected to be "
                                 f"2-dimensional, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
