"""Tensor views and memory as the 'Tensor Views' docs describe them: view/reshape/transpose/permute/expand/
narrow/unfold/diagonal/select/split/chunk/unbind/t/T/mT sharing storage (writes through a view show in the
base), stride()/is_contiguous()/storage_offset(), expand's zero strides, view's error on a non-contiguous
tensor versus reshape's copy, contiguous() and clone(memory_format), as_strided windows, detach sharing data,
the NumPy bridge sharing memory both ways, untyped_storage().data_ptr() equality, and in-place ops through
views (x[0].add_(1), x.t_(), squeeze_/unsqueeze_, resize_)."""
import numpy as np
import torch

base = torch.arange(12.0).view(3, 4)
print("stride", base.stride(), base.is_contiguous(), base.storage_offset())
t = base.t()
print("t", t.stride(), t.is_contiguous(), t.shape, base.T.shape, base.mT.shape)
p = torch.arange(24).view(2, 3, 4).permute(2, 0, 1)
print("permute", p.stride(), p.is_contiguous(), p.contiguous().stride())
e = torch.tensor([1.0, 2.0, 3.0]).unsqueeze(1).expand(3, 4)
print("expand", e.stride(), e.tolist()[1], e.is_contiguous())
n = base.narrow(1, 1, 2)
print("narrow", n.stride(), n.storage_offset(), n.tolist())
s = base[1]
s[2] = -5.0
print("select view writes base", base[1].tolist(), s.storage_offset())
sl = base[:, 1::2]
print("step slice", sl.stride(), sl.storage_offset(), sl.is_contiguous())
sl.mul_(10)
print("in-place on slice", base.tolist())
try:
    base.t().view(12)
except RuntimeError:
    print("view of non-contiguous raises RuntimeError")
r = base.t().reshape(12)
r[0] = 100.0
print("reshape copied", base[0, 0].item(), r[:3].tolist())
v = base.view(2, 6)
v[0, 0] = 7.0
print("view shares", base[0, 0].item(), v.untyped_storage().data_ptr() == base.untyped_storage().data_ptr())
d = base.diagonal()
d.fill_(0.0)
print("diagonal view", base.tolist(), d.stride())
u = torch.arange(8.0).unfold(0, 3, 2)
print("unfold", u.tolist(), u.stride())
a = torch.arange(10.0)
w = a.as_strided((4, 3), (2, 1))
print("as_strided windows", w.tolist())
w2 = a.as_strided((2, 2), (1, 3), 4)
print("as_strided offset", w2.tolist(), w2.storage_offset())
parts = torch.arange(10).split(4)
parts[1][0] = 99
print("split views", [q.tolist() for q in parts], [q.storage_offset() for q in parts])
ch = torch.zeros(2, 6).chunk(3, dim=1)
ch[2].fill_(1)
print("chunk stride", ch[0].stride(), torch.cat(ch, 1).tolist())
rows = torch.arange(6).view(2, 3).unbind(1)
print("unbind", [q.tolist() for q in rows], rows[0].stride())
det = base.detach()
det[2, 3] = -1.0
print("detach shares", base[2, 3].item())
cl = base.clone()
cl[0, 0] = 123.0
print("clone independent", base[0, 0].item())
arr = np.zeros(3, dtype=np.float32)
ft = torch.from_numpy(arr)
ft += 1
arr[0] = 5
print("from_numpy shares", ft.tolist(), arr.tolist())
nm = ft.numpy()
nm[1] = -2
print("numpy() shares", ft.tolist())
asn = torch.as_tensor(arr)
asn[2] = 9
print("as_tensor shares", arr.tolist(), torch.tensor(arr).data_ptr() != asn.data_ptr())
x = torch.zeros(2, 3)
x[0].add_(1)
x[:, 2] += 5
x.t_()
print("t_", x.shape, x.tolist())
y = torch.zeros(1, 3, 1)
y.squeeze_()
y.unsqueeze_(0)
print("squeeze_/unsqueeze_", tuple(y.shape))
z = torch.arange(6.0)
z.resize_(2, 3)
print("resize_", z.tolist(), z.stride())
cm = torch.arange(16.0).view(1, 4, 2, 2).contiguous(memory_format=torch.channels_last)
print("channels_last", cm.stride(), cm.is_contiguous(), cm.is_contiguous(memory_format=torch.channels_last))
print("clone preserve", cm.clone().stride(), cm.clone(memory_format=torch.contiguous_format).stride())
f = torch.arange(6.0).view(2, 3)
g = f.view_as(torch.empty(3, 2))
print("view_as", g.tolist(), f.flatten().data_ptr() == f.data_ptr(), f.t().flatten().data_ptr() == f.data_ptr())
print("element_size nbytes", f.element_size(), f.nbytes, f.numel(), f.dim(), f.ndim, len(f))
print("movedim", torch.arange(24).view(2, 3, 4).movedim(0, -1).stride(), torch.arange(6).view(2, 3).mT.stride())
