"""'Neural Transfer Using PyTorch' on tiny synthetic images: a small CNN standing in for VGG, ContentLoss
and StyleLoss modules that store a detached target and a gram matrix (view + mm + div), a Normalization
module with mean/std reshaped by view(-1, 1, 1), building a new nn.Sequential by walking cnn.children() with
isinstance checks and add_module names, trimming it after the last loss with model[:i + 1], and optimizing
the input image itself with LBFGS (input_img.requires_grad_(True), model.requires_grad_(False),
with torch.no_grad(): input_img.clamp_(0, 1) inside the closure), in float64."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.set_default_dtype(torch.float64)     # LBFGS amplifies float32 rounding differences between libraries
imsize = 12


def image(phase):
    yy, xx = torch.meshgrid(torch.arange(imsize, dtype=torch.float64), torch.arange(imsize, dtype=torch.float64),
                            indexing="ij")
    chans = [0.5 + 0.5 * torch.sin(xx * (0.4 + 0.2 * c) + yy * 0.3 * c + phase) for c in range(3)]
    return torch.stack(chans).unsqueeze(0)


style_img, content_img = image(0.0), image(2.0)
print("images", tuple(style_img.shape), round(style_img.mean().item(), 4), round(content_img.mean().item(), 4))


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


cnn_normalization_mean = torch.tensor([0.485, 0.456, 0.406])
cnn_normalization_std = torch.tensor([0.229, 0.224, 0.225])


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


cnn = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(6, 6, 3, padding=1),
                    nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(inplace=True),
                    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True))
with torch.no_grad():
    for i, p in enumerate(cnn.parameters()):
        p.copy_(0.25 * torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.61 + i).view_as(p))
cnn.eval()
content_layers_default = ["conv_3"]
style_layers_default = ["conv_1", "conv_2", "conv_3", "conv_4"]


def get_style_model_and_losses(cnn, normalization_mean, normalization_std, style_img, content_img,
                               content_layers=content_layers_default, style_layers=style_layers_default):
    normalization = Normalization(normalization_mean, normalization_std)
    content_losses, style_losses = [], []
    model = nn.Sequential(normalization)
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = "conv_{}".format(i)
        elif isinstance(layer, nn.ReLU):
            name = "relu_{}".format(i)
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = "pool_{}".format(i)
        elif isinstance(layer, nn.BatchNorm2d):
            name = "bn_{}".format(i)
        else:
            raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break
    model = model[:(i + 1)]
    return model, style_losses, content_losses


def run_style_transfer(cnn, normalization_mean, normalization_std, content_img, style_img, input_img, num_steps=6,
                       style_weight=100000, content_weight=1):
    model, style_losses, content_losses = get_style_model_and_losses(cnn, normalization_mean, normalization_std,
                                                                     style_img, content_img)
    print("model", [name for name, _ in model.named_children()])
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = optim.LBFGS([input_img])
    run = [0]
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= style_weight
            content_score *= content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            if run[0] % 2 == 0:
                print("run {}: Style Loss : {:4f} Content Loss: {:4f}".format(run, style_score.item(),
                                                                            content_score.item()))
            return style_score + content_score
        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img


input_img = content_img.clone()
output = run_style_transfer(cnn, cnn_normalization_mean, cnn_normalization_std, content_img, style_img, input_img)
print("output", tuple(output.shape), round(output.mean().item(), 3), round(output.min().item(), 3),
      round(output.max().item(), 3), output.requires_grad)
