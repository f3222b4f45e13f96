"""Image transforms: values against NumPy/PyTorch formulas, randomness against seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule
from chainrule.data import transforms as T


@pytest.fixture
def image():
    return np.random.default_rng(0).uniform(size=(3, 5, 6)).astype(np.float32)


def test_to_tensor_scales_uint8_hwc():
    pic = np.random.default_rng(0).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    out = T.ToTensor()(pic)
    assert isinstance(out, chainrule.Tensor) and out.shape == (3, 4, 5) and out.dtype == chainrule.float32
    expected = torch.from_numpy(pic).permute(2, 0, 1).float().div(255).numpy()
    np.testing.assert_array_equal(out.numpy(), expected)
    grey = T.ToTensor()(pic[:, :, 0])
    assert grey.shape == (1, 4, 5)
    floats = T.ToTensor()(np.ones((2, 2, 1), dtype=np.float64) * 7)
    assert floats.dtype == chainrule.float64 and floats.numpy().max() == 7  # not scaled
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 2, 3), dtype=np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2, 3])


def test_to_tensor_accepts_pil_images():
    from PIL import Image

    pic = np.random.default_rng(1).integers(0, 256, size=(3, 4, 3), dtype=np.uint8)
    out = T.ToTensor()(Image.fromarray(pic))
    np.testing.assert_allclose(out.numpy(), pic.transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_normalize_arrays_and_tensors(image):
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    expected = (torch.from_numpy(image) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    out = T.Normalize(mean, std)(image)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-6)
    t = chainrule.tensor(image)
    out_t = T.Normalize(mean, std)(t)
    assert isinstance(out_t, chainrule.Tensor) and out_t.dtype == chainrule.float32
    np.testing.assert_allclose(out_t.numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(t.numpy(), image)  # not in place
    same = T.Normalize(mean, std, inplace=True)(t)
    assert same is t
    np.testing.assert_allclose(t.numpy(), expected.numpy(), rtol=1e-6)
    batch = np.stack([image, image])
    np.testing.assert_allclose(T.Normalize(0.5, 2.0)(batch), (batch - 0.5) / 2.0, rtol=1e-6)


def test_normalize_is_differentiable_for_tensors_that_require_grad(image):
    t = chainrule.tensor(image.astype(np.float64), requires_grad=True)
    T.Normalize([0.0, 1.0, 2.0], [2.0, 4.0, 8.0])(t).sum().backward()
    expected = np.broadcast_to(np.array([0.5, 0.25, 0.125])[:, None, None], image.shape)
    np.testing.assert_allclose(t.grad.numpy(), expected)


def test_normalize_errors(image):
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0, 0, 0], [1, 0, 1])(image)
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize([0], [1])(np.zeros((1, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"size \(..., C, H, W\)"):
        T.Normalize([0], [1])(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="2 mean values for an image with 3 channels"):
        T.Normalize([0, 0], [1, 1])(image)


@pytest.mark.parametrize(("padding", "mode", "torch_mode"), [
    (2, "constant", "constant"),
    ((1, 3), "edge", "replicate"),
    ((1, 2, 3, 0), "reflect", "reflect"),
])
def test_pad_matches_torch(image, padding, mode, torch_mode):
    out = T.Pad(padding, fill=0 if mode != "constant" else 0.5, padding_mode=mode)(image)
    left, top, right, bottom = (padding,) * 4 if isinstance(padding, int) else (
        (padding[0], padding[1], padding[0], padding[1]) if len(padding) == 2 else padding)
    kwargs = {"value": 0.5} if torch_mode == "constant" else {}
    expected = F.pad(torch.from_numpy(image)[None], (left, right, top, bottom), mode=torch_mode, **kwargs)[0]
    np.testing.assert_array_equal(out, expected.numpy())


def test_pad_symmetric_and_per_channel_fill(image):
    out = T.Pad(2, padding_mode="symmetric")(image)
    np.testing.assert_array_equal(out, np.pad(image, ((0, 0), (2, 2), (2, 2)), mode="symmetric"))
    filled = T.Pad(1, fill=(1.0, 2.0, 3.0))(image)
    assert filled[0, 0, 0] == 1.0 and filled[1, 0, 0] == 2.0 and filled[2, -1, -1] == 3.0


def test_random_crop_takes_a_window_of_the_padded_image(image):
    g = chainrule.Generator().manual_seed(0)
    crop = T.RandomCrop((4, 5), padding=1, generator=g)
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    seen = set()
    for _ in range(200):
        out = crop(image)
        assert out.shape == (3, 4, 5)
        hits = [(i, j) for i in range(4) for j in range(4) if np.array_equal(out, padded[:, i:i + 4, j:j + 5])]
        assert hits
        seen.update(hits)
    assert seen == {(i, j) for i in range(4) for j in range(4)}  # every position is reachable


def test_random_crop_is_reproducible_and_accepts_tensors(image):
    a = T.RandomCrop(3, padding=2, generator=chainrule.Generator().manual_seed(7))
    b = T.RandomCrop(3, padding=2, generator=chainrule.Generator().manual_seed(7))
    outs_a = [a(image) for _ in range(5)]
    outs_b = [b(chainrule.tensor(image)) for _ in range(5)]
    for x, y in zip(outs_a, outs_b):
        assert isinstance(y, chainrule.Tensor)
        np.testing.assert_array_equal(x, y.numpy())
    full = T.RandomCrop((5, 6))(image)
    np.testing.assert_array_equal(full, image)
    grown = T.RandomCrop(8, pad_if_needed=True)(image)
    assert grown.shape == (3, 8, 8)
    with pytest.raises(ValueError, match=r"Required crop size \(7, 7\) is larger than input image size \(5, 6\)"):
        T.RandomCrop(7)(image)
    with pytest.raises(RuntimeError, match="requires grad"):
        T.RandomCrop(3)(chainrule.tensor(image, requires_grad=True))


def test_random_flips(image):
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(image), image[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(image), image[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(image) is image
    g = chainrule.Generator().manual_seed(0)
    flip = T.RandomHorizontalFlip(generator=g)
    flipped = [not np.array_equal(flip(image), image) for _ in range(400)]
    assert 0.4 < np.mean(flipped) < 0.6
    g2 = chainrule.Generator().manual_seed(0)
    flip2 = T.RandomHorizontalFlip(generator=g2)
    assert flipped == [not np.array_equal(flip2(image), image) for _ in range(400)]
    t = chainrule.tensor(image)
    out = T.RandomHorizontalFlip(p=1.0)(t)
    assert isinstance(out, chainrule.Tensor) and out.is_contiguous()
    with pytest.raises(ValueError, match="probability"):
        T.RandomHorizontalFlip(p=1.5)


def test_compose_and_lambda():
    pic = np.full((2, 2, 3), 255, dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3), T.Lambda(lambda t: t * 2)])
    out = pipeline(pic)
    np.testing.assert_allclose(out.numpy(), np.full((3, 2, 2), 2.0))
    assert "Normalize" in repr(pipeline)
