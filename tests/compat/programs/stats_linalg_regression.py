"""Statistics and linear algebra a data-analysis script does with tensors: mean/std/var (correction,
unbiased), std_mean, quantile/nanquantile (interpolation modes), median/mode/kthvalue values, histc and
histogram, cov/corrcoef, cdist/pdist-style distances, cosine_similarity/pairwise_distance/normalize,
vector/matrix norms (fro, nuc, ord=inf), closed-form least squares (linalg.lstsq, the normal equations with
linalg.solve, pinv), cholesky/cholesky_solve, inv/det/slogdet, matrix_rank, eigvalsh/svdvals, QR-based
orthogonality checks, and a polynomial fit with torch.vander."""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def r(t, k=5):
    return [round(v, k) for v in (t.flatten().tolist() if isinstance(t, torch.Tensor) else t)]


data = torch.tensor([[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], [1.0, 3.0, 2.0, 8.0, 5.0, 1.0, 0.5, 2.0]])
print("mean", r(data.mean(1)), "std", r(data.std(1)), "std pop", r(data.std(1, unbiased=False)),
      "var corr=0", r(data.var(1, correction=0)))
s, m = torch.std_mean(data, dim=1, keepdim=True)
print("std_mean", r(s), r(m), tuple(s.shape))
q = torch.tensor([0.1, 0.25, 0.5, 0.9])
for mode in ["linear", "lower", "higher", "midpoint", "nearest"]:
    print("quantile", mode, r(torch.quantile(data[0], q, interpolation=mode)))
print("quantile dim", r(data.quantile(0.5, dim=1)), "nanquantile",
      r(torch.nanquantile(torch.tensor([1.0, float("nan"), 3.0, 2.0]), 0.5)))
print("median", data.median(1).values.tolist(), "kthvalue", data.kthvalue(3, dim=1).values.tolist(),
      "mode", data[0].mode().values.item(), "nanmedian", torch.tensor([float("nan"), 1.0, 2.0]).nanmedian().item())
print("histc", torch.histc(data[0], bins=4, min=0, max=10).tolist())
hist, edges = torch.histogram(data[0], bins=3)
print("histogram", hist.tolist(), r(edges))
print("cov", r(torch.cov(data)), "corrcoef", r(torch.corrcoef(data)))
print("cov weights", r(torch.cov(data, correction=0, fweights=torch.tensor([1, 2, 1, 1, 1, 1, 2, 1]))))
A = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
B = torch.tensor([[0.0, 1.0], [2.0, 2.0]])
print("cdist", r(torch.cdist(A, B)), "cdist p=1", r(torch.cdist(A, B, p=1)))
print("cosine", r(F.cosine_similarity(A[1:], B, dim=1)), "pairwise", r(F.pairwise_distance(A[1:], B)))
print("normalize", r(F.normalize(A, dim=1)), r(F.normalize(A, p=1, dim=0)))
M = torch.tensor([[4.0, 1.0, 2.0], [1.0, 3.0, 0.5], [2.0, 0.5, 5.0]])
print("norms", r([torch.linalg.vector_norm(M).item(), torch.linalg.matrix_norm(M).item(),
                  torch.linalg.matrix_norm(M, ord="nuc").item(), torch.linalg.matrix_norm(M, ord=float("inf")).item(),
                  torch.linalg.norm(M, ord=2).item(), torch.linalg.vector_norm(M, ord=1, dim=0).sum().item(),
                  M.norm(p="fro").item(), torch.norm(M[0], p=3).item()]))
print("inv", r(torch.linalg.inv(M)), "det", round(torch.det(M).item(), 6), "slogdet", r(torch.stack(list(torch.linalg.slogdet(M)))))
print("matrix_rank", torch.linalg.matrix_rank(M).item(), torch.linalg.matrix_rank(torch.ones(3, 3)).item())
print("eigvalsh", r(torch.linalg.eigvalsh(M)), "svdvals", r(torch.linalg.svdvals(M)))
L = torch.linalg.cholesky(M)
print("cholesky", r(L), torch.allclose(L @ L.T, M))
bvec = torch.tensor([[1.0], [2.0], [3.0]])
print("cholesky_solve", r(torch.cholesky_solve(bvec, L)), "solve", r(torch.linalg.solve(M, bvec)))
Q, R = torch.linalg.qr(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]))
print("qr", torch.allclose(Q.T @ Q, torch.eye(2)), torch.allclose(Q @ R, torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])),
      tuple(Q.shape), r(R.abs()))
x = torch.linspace(-1, 1, 9)
y = 0.5 - 2 * x + 3 * x ** 2 + 0.05 * torch.sin(7 * x)
V = torch.vander(x, N=3, increasing=True)
print("vander", r(V[1]))
coef = torch.linalg.lstsq(V, y.unsqueeze(1)).solution
print("lstsq", r(coef, 4))
normal = torch.linalg.solve(V.T @ V, V.T @ y)
print("normal equations", r(normal, 4), "pinv", r(torch.linalg.pinv(V) @ y, 4))
resid = y - V @ normal
print("residual", round(resid.norm().item(), 5), "r2", round(1 - resid.pow(2).sum().item() / (y - y.mean()).pow(2).sum().item(), 5))
print("matrix_power", r(torch.linalg.matrix_power(M, 3)), "matrix_exp", r(torch.linalg.matrix_exp(M * 0.1), 4))
print("outer/kron", r(torch.kron(torch.eye(2), torch.tensor([[1.0, 2.0]]))), "cross", r(torch.linalg.cross(M[0], M[1])))
print("triangular", r(torch.linalg.solve_triangular(L, bvec, upper=False)))
print("logsumexp", r(torch.logsumexp(data, dim=1)), "softmax T", r(F.softmax(data[1] / 2.0, dim=0), 4))
print("cummax", data[1].cummax(0).values.tolist(), "diff", torch.diff(data[0]).tolist(), "prod", data[1].prod().item())
